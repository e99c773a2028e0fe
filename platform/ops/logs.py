"""Logs that say which agency and which request (or task) they are about.

:class:`RequestContextMiddleware` gives every request an id (the load balancer's
``X-Request-ID`` when it is a sane token, else a new one), answers it back in the same header,
and keeps it for the logs of that request. :class:`ContextFilter` adds ``agency`` (the active
schema) and ``request_id`` (the request's id, or the Celery task's) to every record, and
:func:`json_formatter` writes one JSON object a line (``LOG_FORMAT=json``, production's default)
with python-json-logger.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
HEADER = "X-Request-ID"
SANE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(HEADER, "")
        request_id = given if SANE.match(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            REQUEST_ID.reset(token)
        response[HEADER] = request_id
        return response


def _task_id() -> str:
    try:
        from celery import current_task
    except ImportError:  # pragma: no cover
        return ""
    request = getattr(current_task, "request", None)
    return str(getattr(request, "id", "") or "")


def _schema() -> str:
    try:
        from tenants.db import connection

        return str(getattr(connection, "schema_name", "") or "")
    except Exception:  # logging before Django is set up
        return ""


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "agency", ""):
            record.agency = _schema()
        if not getattr(record, "request_id", ""):
            record.request_id = REQUEST_ID.get() or _task_id()
        return True


def json_formatter(**_: Any) -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(agency)s %(request_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        timestamp=False,
    )
