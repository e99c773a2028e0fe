"""Shared set-up for the gateway tests: a plan, payers on each rail, usage in the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing.accounts import billing_account_create, subscription_start
from billing.models import BillingAccount, Gateway, Metric, Plan, UsageEvent
from billing.pricing import RateInput, month_start, plan_create
from billing.services import usage_record


def make_plan() -> Plan:
    return plan_create(
        code="xa-stripe",
        name="Xã — thử nghiệm Stripe",
        agency_kind="commune",
        monthly_fee=3_100_000,
        rates=[
            RateInput(metric=Metric.DOSSIER_RECEIVED, included=Decimal(5), unit_price=2_000),
            RateInput(metric=Metric.SMS_SENT, included=Decimal(0), unit_price=800),
            RateInput(metric=Metric.STORAGE_GB_DAY, included=Decimal(1), unit_price=300),
        ],
        effective_from=dt.date(2026, 1, 1),
        is_default=True,
    )


def make_payer(name: str, tax_code: str, gateway: str = Gateway.STRIPE) -> BillingAccount:
    return billing_account_create(
        name=name,
        tax_code=tax_code,
        address="1 Đường Trần Phú, Hà Nội",
        email=f"ketoan-{tax_code}@example.vn",
        gateway=gateway,
    )


def this_period(moment: dt.datetime) -> dt.date:
    return month_start(timezone.localdate(moment))


def close_running_month(moment: dt.datetime) -> None:
    """Invoice the month of ``moment`` now, though it may not have ended (a forced close)."""
    from billing.invoicing import billing_month_close

    billing_month_close(
        period_start=this_period(moment), force=True, reason="test: invoice the running month"
    )


def subscribe(agency: Any, payer: BillingAccount, moment: dt.datetime) -> None:
    subscription_start(agency=agency, billing_account=payer, starts_on=this_period(moment))


def record_usage(
    agency: Any, moment: dt.datetime, n: int, metric: str = Metric.DOSSIER_RECEIVED, *,
    quantity: Decimal | int = 1, tag: str = "",
) -> list[str]:  # fmt: skip
    """``n`` ledger rows (committed with the caller's transaction); their keys."""
    keys = []
    with transaction.atomic():
        for i in range(n):
            key = f"test:{tag}{agency.pk}:{metric}:{moment.isoformat()}:{i}"
            usage_record(
                agency=agency,
                metric=metric,
                occurred_at=moment,
                idempotency_key=key,
                quantity=quantity,
            )
            keys.append(key)
    return keys


def ledger_total(agency_ids: list[int], metric: str) -> Decimal:
    return sum(
        (e.quantity for e in UsageEvent.objects.filter(agency_id__in=agency_ids, metric=metric)),
        Decimal(0),
    )
