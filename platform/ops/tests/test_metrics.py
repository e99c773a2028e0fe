"""/metrics: protected from the public, requests by route and status with latency, and the
figures read at scrape time (queues, task failures, outboxes, provisioning, migrations, jobs,
database connections per cluster). JSON logs carry the agency and the request id; Sentry
events carry the release."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
from typing import Any

import pytest
import sentry_sdk
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from config.celery_app import app
from core.sentry import init_sentry
from ops.logs import ContextFilter, RequestContextMiddleware, json_formatter
from ops.tests.test_sentry_tags import CapturingTransport
from tenants.context import agency_context
from tenants.models import SchemaState
from tenants.routing import AgencyRoutingMiddleware

TOKEN = "metrics-test-token-0123456789"


def scrape(host: str = "localhost", token: str | None = TOKEN, **extra: Any) -> Any:
    headers: dict[str, Any] = {"HTTP_HOST": host, **extra}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return Client(**headers).get("/metrics")


def value(body: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (labels in any order)."""
    for line in body.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name}{labels}")


@pytest.fixture
def metrics_on(settings: Any) -> None:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    settings.METRICS_CACHE_SECONDS = 0


@pytest.mark.django_db
def test_metrics_are_refused_to_the_public(settings: Any, agency_a: Any) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    assert scrape(token=None).status_code == 404  # nothing configured: served to nobody
    settings.METRICS_TOKEN = TOKEN
    assert scrape(token=None).status_code == 404
    assert scrape(token="wrong-token").status_code == 404
    assert scrape(host="phuong-a.localhost", token=None).status_code == 404
    assert scrape().status_code == 200
    # A network allowed (the cluster's pod network): no token needed from there.
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert scrape(token=None, REMOTE_ADDR="10.4.2.1").status_code == 200
    assert scrape(token=None, REMOTE_ADDR="192.0.2.7").status_code == 404


@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on")
def test_requests_are_counted_by_route_and_status_with_latency(agency_a: Any) -> None:
    before = scrape(host="10.1.2.3").content.decode()  # a pod's address: not an agency host

    def count(body: str, **labels: str) -> float:
        try:
            return value(body, "motcua_http_requests_total", **labels)
        except AssertionError:
            return 0.0

    agency = Client(HTTP_HOST="phuong-a.localhost")
    for _ in range(3):
        assert agency.get("/ping/").status_code == 200
    assert agency.get("/khong-co-trang-nay/").status_code == 404
    assert Client(HTTP_HOST="localhost").get("/health/").status_code in (200, 503)
    response = scrape(host="10.1.2.3")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    after = response.content.decode()
    ping = {"route": "agency:/ping/", "method": "GET", "status": "200"}
    assert count(after, **ping) - count(before, **ping) == 3
    missing = {"route": "unmatched", "method": "GET", "status": "404"}
    assert count(after, **missing) - count(before, **missing) == 1
    assert count(after, route="public:/health/", method="GET") >= 1
    timed = {"route": "agency:/ping/", "method": "GET"}
    assert (
        value(after, "motcua_http_request_duration_seconds_count", **timed)
        - _or_zero(before, "motcua_http_request_duration_seconds_count", **timed)
        == 3
    )
    assert "/khong-co-trang-nay/" not in after  # raw paths never become labels


def _or_zero(body: str, name: str, **labels: str) -> float:
    try:
        return value(body, name, **labels)
    except AssertionError:
        return 0.0


@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on")
def test_scrape_time_figures(make_agency: Any) -> None:
    from nationalsync.models import PortalOutbox
    from notifications.models import Notification

    live = make_agency("xa-song", name="Xã Sống")
    make_agency("xa-dang-lam", name="Xã Đang Làm", provision=False)
    SchemaState.objects.filter(schema_name=live.schema_name).update(fingerprint="old")
    now = timezone.now()
    row = PortalOutbox.objects.create(
        agency=live, event_id=1, key=f"{live.schema_name}:1", dossier_id=1, payload={},
        next_attempt_at=now,
    )  # fmt: skip
    PortalOutbox.objects.filter(pk=row.pk).update(created_at=now - dt.timedelta(minutes=10))
    with agency_context(live):
        note = Notification.objects.create(
            channel="email", recipient="a@example.vn", template_key="received", body="x"
        )
        Notification.objects.filter(pk=note.pk).update(created_at=now - dt.timedelta(hours=1))
    app.control.purge()
    app.send_task("audit.tasks.record", args=["metrics.test"], queue="celery")  # no worker runs
    from audit.tasks import record

    record.apply(kwargs={"unknown": 1})  # fails (a bad argument): Celery's failure signal

    body = scrape().content.decode()
    assert value(body, "motcua_celery_queue_length", queue="celery") >= 1
    assert value(body, "motcua_celery_queue_length", queue="provisioning") == 0
    assert value(body, "motcua_celery_task_failures_total", task="audit.tasks.record") >= 1
    assert value(body, "motcua_outbox_pending", outbox="national_portal") == 1
    assert 590 <= value(body, "motcua_outbox_lag_seconds", outbox="national_portal") < 3600
    assert value(body, "motcua_outbox_pending", outbox="notifications") == 1
    assert value(body, "motcua_outbox_lag_seconds", outbox="notifications") >= 3590
    assert value(body, "motcua_outbox_pending", outbox="meter_events") == 0
    assert value(body, "motcua_agencies", status="active") >= 1
    assert value(body, "motcua_agencies", status="provisioning") >= 1
    assert value(body, "motcua_schemas", state="behind") == 1
    assert value(body, "motcua_db_max_connections", cluster="main") >= 1
    assert value(body, "motcua_db_connections", cluster="main") >= 1
    job = "desk.tasks.deadline_scan"
    assert value(body, "motcua_job_runs_total", job=job, outcome="skipped") >= 0
    assert all(
        value(body, "motcua_metrics_source_failed", source=s) == 0
        for s in ("celery_queues", "celery_tasks", "jobs", "outboxes", "platform", "database")
    )
    app.control.purge()


@pytest.mark.django_db
def test_json_logs_carry_the_agency_and_the_request_id(agency_a: Any) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("motcua.test.json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def view(request: Any) -> HttpResponse:
        logger.info("hồ sơ đã nhận")
        return HttpResponse("ok")

    chain = RequestContextMiddleware(AgencyRoutingMiddleware(view))
    try:
        given = chain(
            RequestFactory().get(
                "/", HTTP_HOST="phuong-a.localhost", HTTP_X_REQUEST_ID="lb-7f3a9c21-0001"
            )
        )
        made = chain(RequestFactory().get("/", HTTP_HOST="phuong-a.localhost"))
        chain(RequestFactory().get("/", HTTP_HOST="phuong-a.localhost", HTTP_X_REQUEST_ID="x y"))
    finally:
        logger.removeHandler(handler)
    first, second, third = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "hồ sơ đã nhận" and first["level"] == "INFO"
    assert first["agency"] == "phuong_a" and first["request_id"] == "lb-7f3a9c21-0001"
    assert given["X-Request-ID"] == "lb-7f3a9c21-0001"
    assert re.fullmatch(r"[0-9a-f]{32}", second["request_id"])
    assert made["X-Request-ID"] == second["request_id"]
    assert third["request_id"] not in ("x y", "")  # not a sane id: a new one
    assert {"time", "logger"} <= set(first)


def test_sentry_events_carry_the_release() -> None:
    transport = CapturingTransport()
    init_sentry(
        "http://public@127.0.0.1:9/1",
        environment="test",
        release="motcua@2026.12.2",
        transport=transport,
        default_integrations=False,
    )
    try:
        sentry_sdk.capture_message("release check")
        sentry_sdk.flush()
        assert transport.events and transport.events[-1]["release"] == "motcua@2026.12.2"
    finally:
        sentry_sdk.init(dsn=None)
