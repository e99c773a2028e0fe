"""Closing a month: only once it has ended (Vietnam time); earlier only when forced with a
reason, and the forced close is audited. A refused close changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from billing.accounts import billing_account_create, subscription_start
from billing.invoicing import billing_month_close, period_has_ended, previous_period
from billing.models import BillingEvent, Invoice, InvoiceStatus, Metric, Plan
from billing.pricing import RateInput, month_start, next_month_start, plan_create

pytestmark = pytest.mark.usefixtures("english")

VN = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture
def plan(db: None) -> Plan:
    return plan_create(
        code="xa-close",
        name="Xã — chốt tháng",
        agency_kind="commune",
        monthly_fee=3_100_000,
        rates=[RateInput(metric=Metric.DOSSIER_RECEIVED, included=Decimal(10), unit_price=2_000)],
        effective_from=dt.date(2026, 1, 1),
        is_default=True,
    )


@pytest.fixture
def subscribed(make_agency: Any, plan: Plan) -> Any:
    """Eight payers, each with an agency subscribed since last month (so every month from last
    month on has something to invoice, like the report of 2027-03's eight invoices)."""
    since = previous_period(timezone.localdate())
    for i in range(8):
        payer = billing_account_create(
            name=f"UBND tỉnh Chốt {i}", tax_code=f"020000000{i}", address="x",
            email=f"chot{i}@example.vn",
        )  # fmt: skip
        subscription_start(
            agency=make_agency(provision=False), billing_account=payer, starts_on=since
        )
    return since


def _months_ahead(n: int, now: dt.datetime) -> dt.date:
    period = month_start(timezone.localdate(now))
    for _ in range(n):
        period = next_month_start(period)
    return period


def test_unfinished_and_future_months_are_refused_and_nothing_changes(subscribed: Any) -> None:
    # The clock ticks (a test may run across midnight on the last day of a month): the running
    # month is refused at a pinned instant; the command is given a month that cannot have ended.
    now = timezone.now()
    running, future = _months_ahead(0, now), _months_ahead(3, now)
    events = BillingEvent.objects.count()
    with pytest.raises(CommandError) as refused:
        call_command("billing_close_month", "--period", f"{future:%Y-%m}")
    message = str(refused.value)
    assert f"{future:%m/%Y} has not started" in message and "Vietnam time" in message
    assert "--force" in message  # says how, if it really must be done
    with pytest.raises(CommandError, match="reason"):  # forced without a reason
        call_command("billing_close_month", "--period", f"{future:%Y-%m}", "--force")
    for period in (running, future):
        with pytest.raises(ValidationError, match="has not"):
            billing_month_close(period_start=period, now=now)
        with pytest.raises(ValidationError, match="reason"):
            billing_month_close(period_start=period, force=True, reason="   ", now=now)
    assert not Invoice.objects.exists()  # not even drafts
    assert BillingEvent.objects.count() == events


def test_an_ended_month_closes_without_force(subscribed: Any) -> None:
    call_command("billing_close_month", "--period", f"{subscribed:%Y-%m}")
    assert Invoice.objects.filter(period_start=subscribed, status=InvoiceStatus.ISSUED).count() == 8
    assert not BillingEvent.objects.filter(event="period_closed_early").exists()


def test_a_forced_close_is_audited_with_its_reason(subscribed: Any) -> None:
    early = _months_ahead(1, timezone.now())  # next month: not ended whatever the clock does
    reason = "Cơ quan giải thể theo quyết định sáp nhập; chốt sớm để quyết toán"
    call_command(
        "billing_close_month", "--period", f"{early:%Y-%m}", "--force", "--reason", reason,
        "--actor", "ketoan@provider.vn",
    )  # fmt: skip
    issued = Invoice.objects.filter(period_start=early, status=InvoiceStatus.ISSUED)
    assert issued.count() == 8
    (audit,) = BillingEvent.objects.filter(event="period_closed_early")
    assert audit.actor_email == "ketoan@provider.vn"
    assert audit.detail["period"] == f"{early:%Y-%m}"
    assert audit.detail["reason"] == reason
    assert sorted(audit.detail["invoices"]) == sorted(str(i.number) for i in issued)
    assert audit.detail["ends_at"].startswith(f"{next_month_start(early):%Y-%m-%d}T00:00:00+07")


def test_the_running_month_is_refused_then_closes_once_it_has_ended(subscribed: Any) -> None:
    now = timezone.now()
    running = _months_ahead(0, now)
    with pytest.raises(ValidationError, match="has not ended"):
        billing_month_close(period_start=running, now=now)
    assert not Invoice.objects.exists()
    ended = dt.datetime.combine(next_month_start(running), dt.time.min, VN)
    report = billing_month_close(period_start=running, now=ended)
    assert report.issued == 8
    assert not BillingEvent.objects.filter(event="period_closed_early").exists()


def test_a_month_ends_at_midnight_in_vietnam() -> None:
    december = dt.date(2026, 12, 1)
    last_second = dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=VN)
    midnight = dt.datetime(2027, 1, 1, 0, 0, tzinfo=VN)  # still 31 December in UTC
    assert midnight.astimezone(dt.UTC).date() == dt.date(2026, 12, 31)
    assert not period_has_ended(december, now=last_second)
    assert period_has_ended(december, now=midnight)
    assert not period_has_ended(dt.date(2027, 1, 1), now=midnight)
    # 29 February: the month of a leap year ends on 1 March, not on the 29th.
    assert not period_has_ended(dt.date(2028, 2, 1), now=dt.datetime(2028, 2, 29, 12, tzinfo=VN))
    assert period_has_ended(dt.date(2028, 2, 1), now=dt.datetime(2028, 3, 1, tzinfo=VN))


@pytest.mark.django_db
def test_the_service_decides_at_the_time_it_is_given() -> None:
    december = dt.date(2026, 12, 1)
    with pytest.raises(ValidationError, match="has not ended"):
        billing_month_close(
            period_start=december, now=dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=VN)
        )
    with pytest.raises(ValidationError, match="has not started"):
        billing_month_close(
            period_start=dt.date(2027, 3, 1), now=dt.datetime(2026, 12, 2, 9, tzinfo=VN)
        )
