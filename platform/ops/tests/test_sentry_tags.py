"""Errors reported to Sentry carry the agency they happened in."""

from __future__ import annotations

from typing import Any

import pytest
import sentry_sdk
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from sentry_sdk.transport import Transport

from tenants.routing import AgencyRoutingMiddleware


class CapturingTransport(Transport):
    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Any) -> None:
        for item in envelope.items:
            if item.type == "event":
                self.events.append(item.payload.json)


@pytest.fixture
def sentry_events():
    transport = CapturingTransport()
    sentry_sdk.init(
        dsn="http://public@127.0.0.1:9/1", transport=transport, default_integrations=False
    )
    yield transport.events
    sentry_sdk.init(dsn=None)


@pytest.mark.django_db
@override_settings(SENTRY_DSN="http://public@127.0.0.1:9/1")
def test_an_error_inside_an_agency_request_is_tagged_with_the_agency(
    agency_a, sentry_events
) -> None:
    def view(request: Any) -> HttpResponse:
        sentry_sdk.capture_message("something broke at the desk")
        return HttpResponse("ok")

    request = RequestFactory().get("/", HTTP_HOST="phuong-a.localhost")
    with sentry_sdk.isolation_scope():
        AgencyRoutingMiddleware(view)(request)
    sentry_sdk.flush()
    assert sentry_events, "no event reached the transport"
    tags = sentry_events[-1]["tags"]
    assert tags["tenant.schema"] == "phuong_a"
    assert tags["tenant.name"] == "Phường A"
