"""The meter-event outbox against the fake Stripe, over time.

- An outage of hours: every row is retried with capped exponential backoff, past any fixed number
  of attempts, and Stripe ends up told the ledger; meanwhile the rows show on the health page and
  the console (requeue, audited).
- Stripe's ``v1.billing.meter.error_report_triggered`` (a thin event of an event destination)
  marks the rejected rows for staff and checks the others against Stripe's summaries.
- Stripe keeps identifiers unique for 24 hours only: a row not confirmed within that window is
  checked against Stripe's event summaries before it is sent again, never counted twice.

Time: the services take ``now``; the fake's clock is moved by ``advance`` to the same instant.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from billing.gateways.stripe import meter_event_name
from billing.models import (
    BillingEvent,
    MeterEventOutbox,
    Metric,
    OutboxStatus,
    Plan,
    WebhookEvent,
    WebhookStatus,
)
from billing.outbox import meter_events_push
from billing.tests.gateway_helpers import make_payer, make_plan, record_usage, subscribe
from billing.webhooks import webhook_event_process
from tests.fakes.stripe_server import FakeStripe
from tests.fixtures.mfa import mfa_login

pytestmark = pytest.mark.usefixtures("english")
HOUR = 3600


@pytest.fixture
def plan(db: None) -> Plan:
    return make_plan()


@pytest.fixture
def payer_agency(make_agency: Any, plan: Plan) -> tuple[Any, Any, dt.datetime]:
    moment = timezone.now() - dt.timedelta(minutes=5)
    payer = make_payer("UBND tỉnh X", "0101234567")
    agency = make_agency(provision=False)
    subscribe(agency, payer, moment)
    return payer, agency, moment


def told(fake: FakeStripe, payer: Any, metric: str = Metric.DOSSIER_RECEIVED) -> int:
    payer.refresh_from_db()
    return fake.meter_totals().get((payer.stripe_customer_id, meter_event_name(metric)), 0)


def staff_client(admin_user: Any) -> Client:
    staff = Client(HTTP_HOST="localhost")
    mfa_login(staff, admin_user)
    return staff


def test_an_outage_of_hours_is_retried_with_backoff_until_stripe_has_everything(
    payer_agency: Any, fake_stripe: FakeStripe, admin_user: Any
) -> None:
    payer, agency, moment = payer_agency
    record_usage(agency, moment, 2, tag="before")
    assert meter_events_push().sent == 2  # customer and meters exist at Stripe
    record_usage(agency, moment, 3, tag="during")
    fake_stripe.down = True

    at = timezone.now()
    waits = []
    for _ in range(14):  # more than the 12 attempts the outbox used to give up after
        report = meter_events_push(now=at)
        assert report.failed == 3 and report.sent == 0
        row = MeterEventOutbox.objects.filter(status=OutboxStatus.FAILED).order_by("id").first()
        assert row is not None and row.next_attempt_at is not None
        waits.append(round((row.next_attempt_at - at).total_seconds() / 60))
        assert meter_events_push(now=row.next_attempt_at - dt.timedelta(seconds=1)).failed == 0
        at = row.next_attempt_at
    assert waits == [1, 2, 4, 8, 16, 32] + [60] * 8  # exponential, capped at an hour
    assert MeterEventOutbox.objects.filter(attempts=14).count() == 3

    # Stuck rows show on the health page (degraded, still 200) and in the console.
    health = Client(HTTP_HOST="localhost").get("/health/")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "degraded"
    assert body["checks"]["meter_outbox"]["ok"] is False
    assert body["checks"]["meter_outbox"]["stuck"] == 3
    assert body["checks"]["meter_outbox"]["most_attempts"] == 14
    assert body["checks"]["database"]["ok"] is True
    staff = staff_client(admin_user)
    page = staff.get("/console/billing/").content.decode()
    stuck = list(MeterEventOutbox.objects.exclude(status=OutboxStatus.SENT))
    assert "Meter events not reported to Stripe" in page
    assert all(row.idempotency_key in page for row in stuck)

    # Stripe is back; staff requeue (audited); the next run tells Stripe, once.
    fake_stripe.down = False
    bad = staff.post("/console/billing/meter-events/requeue/", {"rows": ["x"]}, follow=True)
    assert "Choose the meter events" in bad.content.decode()
    staff.post("/console/billing/meter-events/requeue/", {"rows": [r.pk for r in stuck]})
    audit = BillingEvent.objects.get(event="meter_events_requeued")
    assert audit.actor_email == admin_user.email and audit.detail["requeued"] == 3
    assert MeterEventOutbox.objects.filter(status=OutboxStatus.PENDING).count() == 3
    assert meter_events_push(now=at).sent == 3
    assert told(fake_stripe, payer) == 5
    health = Client(HTTP_HOST="localhost").get("/health/").json()
    assert health["status"] == "ok" and health["checks"]["meter_outbox"]["stuck"] == 0


def _deliver(fake: FakeStripe, event: dict[str, Any]) -> Any:
    body = json.dumps(event)
    return Client(HTTP_HOST="localhost").post(
        "/billing/stripe/webhook/", data=body, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=fake.sign(body),
    )  # fmt: skip


def test_a_meter_error_report_marks_the_rejected_rows_and_checks_the_others(
    payer_agency: Any, fake_stripe: FakeStripe, admin_user: Any
) -> None:
    payer, agency, moment = payer_agency
    keys = record_usage(agency, moment, 6)
    rejected = set(keys[1:5])
    fake_stripe.reject_async = lambda ev: (
        ("meter_event_customer_not_found", "No customer found for the payload.")
        if ev["identifier"] in rejected
        else None
    )
    assert meter_events_push().sent == 6  # Stripe accepted them all, then validated
    assert told(fake_stripe, payer) == 2
    (thin,) = fake_stripe.meter_error_report(sample_limit=2)  # 4 errors, 2 of them named
    assert "data" not in thin and thin["object"] == "v2.core.event"

    response = _deliver(fake_stripe, thin)
    assert response.status_code == 200
    stored = WebhookEvent.objects.get(event_id=thin["id"])
    assert stored.event_type == "v1.billing.meter.error_report_triggered"
    assert webhook_event_process(event_id=stored.pk) == WebhookStatus.FLAGGED
    assert ("GET", f"/v2/core/events/{thin['id']}", "") in fake_stripe.requests
    rows = {r.idempotency_key: r for r in MeterEventOutbox.objects.all()}
    named = [k for k, r in rows.items() if r.status == OutboxStatus.ATTENTION]
    assert len(named) == 2 and set(named) <= rejected
    assert all(rows[k].generation == 1 and "customer_not_found" in rows[k].last_error
               for k in named)  # fmt: skip
    assert {r.status for k, r in rows.items() if k not in named} == {OutboxStatus.VERIFY}
    assert BillingEvent.objects.get(event="meter_error_report").detail["error_count"] == 4

    # Once Stripe's aggregation has settled, the summary says 2 of those 4 were counted.
    later = timezone.now() + dt.timedelta(minutes=15)
    fake_stripe.advance(15 * 60)
    report = meter_events_push(now=later)
    assert (report.confirmed, report.attention) == (2, 2)
    assert MeterEventOutbox.objects.filter(status=OutboxStatus.ATTENTION).count() == 4
    assert MeterEventOutbox.objects.filter(status=OutboxStatus.SENT).count() == 2

    # The cause is fixed; staff requeue the four: sent afresh, under new identifiers.
    fake_stripe.reject_async = None
    staff = staff_client(admin_user)
    ids = list(
        MeterEventOutbox.objects.filter(status=OutboxStatus.ATTENTION).values_list("pk", flat=True)
    )
    staff.post("/console/billing/meter-events/requeue/", {"rows": ids})
    assert meter_events_push(now=later).sent == 4
    assert told(fake_stripe, payer) == 6  # = the ledger
    assert all(r.identifier.endswith("~1") for r in MeterEventOutbox.objects.filter(pk__in=ids))


def test_a_lost_answer_is_checked_against_stripe_after_the_24_hour_window(
    payer_agency: Any, fake_stripe: FakeStripe
) -> None:
    payer, agency, moment = payer_agency
    record_usage(agency, moment, 1, tag="warm")
    meter_events_push()
    record_usage(agency, moment, 3)
    # Stripe counts the events, but every answer is lost (and so are the retries' answers).
    fake_stripe.lose_answer_if = lambda method, path: path == "/v1/billing/meter_events"
    assert meter_events_push().failed == 3
    assert told(fake_stripe, payer) == 4
    fake_stripe.lose_answer_if = None
    posts = fake_stripe.meter_event_posts

    # A day later for both Stripe and us: Stripe has forgotten the identifiers, so sending them
    # again would count them twice. The outbox asks Stripe's summary instead.
    fake_stripe.advance(25 * HOUR)
    report = meter_events_push(now=timezone.now() + dt.timedelta(hours=25))
    assert (report.to_verify, report.confirmed, report.sent) == (3, 3, 0)
    assert fake_stripe.meter_event_posts == posts  # nothing sent again
    summaries = [r for r in fake_stripe.requests if r[1].endswith("/event_summaries")]
    assert len(summaries) == 1
    assert told(fake_stripe, payer) == 4  # the ledger
    assert not MeterEventOutbox.objects.exclude(status=OutboxStatus.SENT).exists()


def test_a_row_stripe_never_got_is_sent_afresh_after_the_window(
    payer_agency: Any, fake_stripe: FakeStripe
) -> None:
    payer, agency, moment = payer_agency
    record_usage(agency, moment, 1, tag="warm")
    meter_events_push()
    record_usage(agency, moment, 2)
    fake_stripe.down = True
    assert meter_events_push().failed == 2
    fake_stripe.down = False

    fake_stripe.advance(25 * HOUR)
    day_later = timezone.now() + dt.timedelta(hours=25)
    first = meter_events_push(now=day_later)
    assert (first.to_verify, first.resent, first.sent) == (2, 2, 0)  # not counted: new events
    second = meter_events_push(now=day_later + dt.timedelta(minutes=1))
    assert second.sent == 2
    assert told(fake_stripe, payer) == 3
    fresh = MeterEventOutbox.objects.filter(generation=1)
    assert fresh.count() == 2 and all(r.identifier.endswith("~1") for r in fresh)


def test_inside_the_window_a_retry_is_sent_as_it_is_and_deduplicated(
    payer_agency: Any, fake_stripe: FakeStripe
) -> None:
    payer, agency, moment = payer_agency
    record_usage(agency, moment, 2)
    fake_stripe.lose_answer_if = lambda method, path: path == "/v1/billing/meter_events"
    assert meter_events_push().failed == 2
    fake_stripe.lose_answer_if = None
    fake_stripe.advance(2 * HOUR)
    assert meter_events_push(now=timezone.now() + dt.timedelta(hours=2)).sent == 2
    assert told(fake_stripe, payer) == 2
    assert not [r for r in fake_stripe.requests if r[1].endswith("/event_summaries")]


def test_the_fake_keeps_identifiers_unique_for_24_hours_like_stripe(
    payer_agency: Any, fake_stripe: FakeStripe
) -> None:
    """The property the tests above rely on: the fake counts a repeat after Stripe's window."""
    from billing.gateways.stripe import StripeGateway

    payer, agency, moment = payer_agency
    record_usage(agency, moment, 1)
    meter_events_push()
    payer.refresh_from_db()
    gateway = StripeGateway()
    event = {"event_name": meter_event_name(Metric.DOSSIER_RECEIVED), "identifier": "same-id",
             "timestamp": int(moment.timestamp()),
             "payload": {"stripe_customer_id": payer.stripe_customer_id, "value": "5"}}  # fmt: skip
    gateway.request("post", "/v1/billing/meter_events", event, key="k1")
    gateway.request("post", "/v1/billing/meter_events", event, key="k2")
    assert told(fake_stripe, payer) == 1 + 5
    fake_stripe.advance(24 * HOUR + 60)
    gateway.request("post", "/v1/billing/meter_events", event, key="k1")  # key expired too
    assert told(fake_stripe, payer) == 1 + 5 + 5
    minute = int(moment.timestamp()) // 60 * 60
    meter = gateway.meter_ensure(metric=Metric.DOSSIER_RECEIVED)
    summary = gateway.request(
        "get", f"/v1/billing/meters/{meter}/event_summaries",
        {"customer": payer.stripe_customer_id, "start_time": minute, "end_time": minute + 60},
    )  # fmt: skip
    assert [s["aggregated_value"] for s in summary["data"]] == [11]
    from billing.gateways import GatewayError

    with pytest.raises(GatewayError, match="minute"):
        gateway.request(
            "get", f"/v1/billing/meters/{meter}/event_summaries",
            {"customer": payer.stripe_customer_id, "start_time": minute + 1,
             "end_time": minute + 60},
        )  # fmt: skip
