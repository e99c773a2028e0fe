"""WSGI entry for the routing benchmark: two Django handlers in one gunicorn process.

Requests under ``/_khong-dinh-tuyen/`` go to a handler built with the same
middleware stack except ``AgencyRoutingMiddleware``, replaced by one that pins
the agency given in ``BENCH_PINNED_SCHEMA`` (what a single-tenant deployment
would do); every other request goes through the normal, hostname-routed stack.
Same server, same workers, same run: the difference is the routing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application

routed = get_wsgi_application()

from django.conf import settings  # noqa: E402  (after Django is set up)
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

PREFIX = "/_khong-dinh-tuyen"
_pinned: dict[str, Any] = {}


class PinnedAgencyMiddleware:
    """The agency is fixed for the process: no hostname lookup at all."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> HttpResponse:
        from tenants.db import connection
        from tenants.models import Agency

        agency = _pinned.get("agency")
        if agency is None:
            connection.set_schema_to_public()
            agency = _pinned["agency"] = Agency.objects.get(
                schema_name=os.environ["BENCH_PINNED_SCHEMA"]
            )
        if connection.schema_name != agency.schema_name:
            connection.set_tenant(agency)
        request.urlconf = settings.ROOT_URLCONF
        request.agency = agency
        request.tenant = agency
        return self.get_response(request)


with override_settings(
    MIDDLEWARE=[
        "tests.perf.wsgi_routing.PinnedAgencyMiddleware"
        if name == "tenants.routing.AgencyRoutingMiddleware"
        else name
        for name in settings.MIDDLEWARE
    ]
):
    unrouted = WSGIHandler()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")
    if path.startswith(PREFIX):
        environ["PATH_INFO"] = path[len(PREFIX) :] or "/"
        return unrouted(environ, start_response)
    return routed(environ, start_response)
