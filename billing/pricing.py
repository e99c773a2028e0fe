"""Plans and their versioned prices: what an agency pays for a month and its usage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import (
    DEFAULT_VAT_RATE,
    BillingEvent,
    Metric,
    Plan,
    PlanPrice,
    PlanRate,
    VatRate,
)


@dataclass(frozen=True)
class RateInput:
    metric: str
    included: Decimal
    unit_price: int


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month_start(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _check_rates(rates: Iterable[RateInput]) -> list[RateInput]:
    rates = list(rates)
    errors = []
    seen = set()
    for rate in rates:
        if rate.metric not in Metric.values:
            errors.append(_("Unknown metric “%(metric)s”.") % {"metric": rate.metric})
        if rate.metric in seen:
            errors.append(_("The metric “%(metric)s” is priced twice.") % {"metric": rate.metric})
        seen.add(rate.metric)
        if rate.included < 0 or rate.unit_price < 0:
            errors.append(_("Included quantities and prices cannot be negative."))
    if errors:
        raise ValidationError(errors)
    return rates


@transaction.atomic
def plan_create(
    *,
    code: str,
    name: str,
    agency_kind: str,
    monthly_fee: int,
    rates: Iterable[RateInput],
    effective_from: dt.date,
    is_default: bool = False,
    actor_email: str = "",
    vat_rate: str = DEFAULT_VAT_RATE,
) -> Plan:
    """A new plan with its first price, effective from the given month. ``vat_rate``: the VAT
    on its invoice lines (10 % by default; "KCT" for a plan not subject to VAT)."""
    plan = Plan(
        code=code, name=name, agency_kind=agency_kind, is_default=is_default, vat_rate=vat_rate
    )
    plan.full_clean()
    if is_default and Plan.objects.filter(agency_kind=agency_kind, is_default=True).exists():
        raise ValidationError(_("This kind of agency already has a default plan."))
    plan.save()
    _price_write(
        plan=plan,
        effective_from=month_start(effective_from),
        monthly_fee=monthly_fee,
        rates=_check_rates(rates),
        actor_email=actor_email,
    )
    return plan


def _price_write(
    *,
    plan: Plan,
    effective_from: dt.date,
    monthly_fee: int,
    rates: list[RateInput],
    actor_email: str,
) -> PlanPrice:
    if monthly_fee < 0:
        raise ValidationError(_("The monthly fee cannot be negative."))
    price, created = PlanPrice.objects.update_or_create(
        plan=plan,
        effective_from=effective_from,
        defaults={"monthly_fee": monthly_fee, "created_by_email": actor_email},
    )
    if not created:
        price.rates.all().delete()
    PlanRate.objects.bulk_create(
        PlanRate(price=price, metric=r.metric, included=r.included, unit_price=r.unit_price)
        for r in rates
    )
    BillingEvent.objects.create(
        event="plan_price_set",
        actor_email=actor_email,
        detail={
            "plan": plan.code,
            "effective_from": effective_from.isoformat(),
            "monthly_fee": monthly_fee,
            "rates": {r.metric: [str(r.included), r.unit_price] for r in rates},
        },
    )
    return price


@transaction.atomic
def plan_price_change(
    *,
    plan: Plan,
    monthly_fee: int,
    rates: Iterable[RateInput],
    actor_email: str = "",
    today: dt.date | None = None,
) -> PlanPrice:
    """New prices for a plan. They take effect at the next period, never the current one,
    so nothing already invoiced or being metered now changes."""
    today = today or timezone.localdate()
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    return _price_write(
        plan=plan,
        effective_from=next_month_start(today),
        monthly_fee=monthly_fee,
        rates=_check_rates(rates),
        actor_email=actor_email,
    )


@transaction.atomic
def plan_vat_rate_set(*, plan: Plan, vat_rate: str, actor_email: str = "") -> Plan:
    """The VAT rate of a plan's invoice lines from now on ("KCT": not subject to VAT). Invoices
    already issued keep theirs; drafts take it when they are drafted again."""
    if vat_rate not in VatRate.values:
        raise ValidationError(
            _("Unknown VAT rate “%(rate)s”: choose 10, 8, 5, 0 or KCT.") % {"rate": vat_rate}
        )
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    before, plan.vat_rate = plan.vat_rate, vat_rate
    plan.save(update_fields=["vat_rate"])
    BillingEvent.objects.create(
        event="plan_vat_rate_set",
        actor_email=actor_email,
        detail={"plan": plan.code, "from": before, "to": vat_rate},
    )
    return plan


@dataclass(frozen=True)
class PriceTerms:
    plan_id: int
    plan_name: str
    effective_from: dt.date
    monthly_fee: int
    rates: Mapping[str, tuple[Decimal, int]]  # metric -> (included per month, unit price)
    vat_rate: str = DEFAULT_VAT_RATE


def prices_for_period(*, plan_ids: Iterable[int], period_start: dt.date) -> dict[int, PriceTerms]:
    """The price of each plan that applies to the month starting ``period_start`` (2 queries)."""
    plan_ids = set(plan_ids)
    chosen: dict[int, PlanPrice] = {}
    candidates = (
        PlanPrice.objects.filter(plan_id__in=plan_ids, effective_from__lte=period_start)
        .select_related("plan")
        .order_by("plan_id", "-effective_from")
        .distinct("plan_id")
    )
    for price in candidates:
        chosen[price.plan_id] = price
    rates: dict[int, dict[str, tuple[Decimal, int]]] = {p.pk: {} for p in chosen.values()}
    for rate in PlanRate.objects.filter(price__in=list(chosen.values())):
        rates[rate.price_id][rate.metric] = (rate.included, rate.unit_price)
    return {
        plan_id: PriceTerms(
            plan_id=plan_id,
            plan_name=price.plan.name,
            effective_from=price.effective_from,
            monthly_fee=price.monthly_fee,
            rates=rates[price.pk],
            vat_rate=price.plan.vat_rate,
        )
        for plan_id, price in chosen.items()
    }


# The provider's starting price list (VND). Provider staff edit prices later; see plan_price_change.
DEFAULT_PLANS: list[dict[str, Any]] = [
    {"code": "xa-phuong", "name": "Xã/phường — tiêu chuẩn", "kind": "commune", "fee": 1_500_000,
     "rates": {"dossier_received": (500, 2_000), "dossier_online": (500, 0), "sms_sent": (200, 800),
               "storage_gb_day": (300, 300), "staff_seat_day": (300, 1_000)}},
    {"code": "so-nganh", "name": "Sở, ban, ngành — tiêu chuẩn", "kind": "department",
     "fee": 5_000_000,
     "rates": {"dossier_received": (3_000, 1_500), "dossier_online": (3_000, 0),
               "sms_sent": (1_000, 800), "storage_gb_day": (1_500, 300),
               "staff_seat_day": (1_200, 1_000)}},
    {"code": "quan-huyen", "name": "Quận/huyện — tiêu chuẩn", "kind": "district", "fee": 3_000_000,
     "rates": {"dossier_received": (1_500, 1_800), "dossier_online": (1_500, 0),
               "sms_sent": (500, 800), "storage_gb_day": (900, 300),
               "staff_seat_day": (600, 1_000)}},
    {"code": "trung-tam", "name": "Trung tâm phục vụ hành chính công", "kind": "service_centre",
     "fee": 8_000_000,
     "rates": {"dossier_received": (8_000, 1_200), "dossier_online": (8_000, 0),
               "sms_sent": (3_000, 800), "storage_gb_day": (3_000, 300),
               "staff_seat_day": (3_000, 1_000)}},
    {"code": "khac", "name": "Cơ quan khác — tiêu chuẩn", "kind": "other", "fee": 2_000_000,
     "rates": {"dossier_received": (800, 2_000), "dossier_online": (800, 0), "sms_sent": (300, 800),
               "storage_gb_day": (300, 300), "staff_seat_day": (300, 1_000)}},
]  # fmt: skip


def plans_ensure_defaults(*, effective_from: dt.date = dt.date(2026, 1, 1)) -> int:
    """Create the default plan of each agency kind if missing; returns how many were created."""
    created = 0
    for spec in DEFAULT_PLANS:
        if Plan.objects.filter(code=spec["code"]).exists():
            continue
        plan_create(
            code=spec["code"],
            name=spec["name"],
            agency_kind=spec["kind"],
            monthly_fee=spec["fee"],
            rates=[
                RateInput(metric=m, included=Decimal(inc), unit_price=price)
                for m, (inc, price) in spec["rates"].items()
            ],
            effective_from=effective_from,
            is_default=True,
        )
        created += 1
    return created
