"""A database that cannot be reached (a failover, a cut connection) answers 503 with
Retry-After, as a page or as the API's JSON error, never 500; other crashes stay 500."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from tenants.models import Agency


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once the socket closes


@pytest.fixture
def database_down() -> Iterator[None]:
    """The real connection closed and pointed at a port where no server listens: the next
    query reconnects and is refused by the operating system, as during a failover."""
    db = connections["default"]
    saved = dict(db.settings_dict)
    db.close()
    db.settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))
    try:
        yield
    finally:
        db.close()
        db.settings_dict.clear()
        db.settings_dict.update(saved)


def _hosts(agency: Agency) -> list[str]:
    return [agency.domains.get(is_primary=True).domain, "localhost"]


@pytest.mark.django_db(transaction=True)
def test_pages_answer_503_with_retry_after_while_the_database_is_unreachable(
    agency_a: Agency, request: Any
) -> None:
    hosts = _hosts(agency_a)
    request.getfixturevalue("database_down")
    for host, paths in zip(hosts, [("/", "/thu-tuc/", "/ho-so-cua-toi/"), ("/",)], strict=True):
        client = Client(HTTP_HOST=host, raise_request_exception=False)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 503, (host, path, response.status_code)
            assert response["Retry-After"] == "5"
            assert response["Cache-Control"] == "no-store"
            assert "Hệ thống tạm thời gián đoạn" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_its_json_error_with_503(agency_a: Agency, request: Any) -> None:
    host = _hosts(agency_a)[0]
    request.getfixturevalue("database_down")
    response = Client(HTTP_HOST=host, raise_request_exception=False).post(
        "/api/v1/inbound/dossiers", data="{}", content_type="application/json"
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "unavailable"


def test_any_other_crash_is_still_a_500() -> None:
    """The handler as Django calls it, inside the handling of the exception."""
    from django.test import RequestFactory

    from ops.errors import server_error

    request = RequestFactory().get("/")
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = server_error(request)
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "Hệ thống đang gặp sự cố" in response.content.decode()
