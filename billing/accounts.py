"""Billing accounts (payers) and agency subscriptions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import BillingAccount, BillingEvent, Plan, Subscription, UsageEvent
from billing.services import usage_record, usage_rollup
from billing.validators import validate_tax_code
from tenants.models import Agency


@transaction.atomic
def billing_account_create(
    *,
    name: str,
    tax_code: str,
    address: str,
    email: str,
    gateway: str = "bank_transfer",
    actor_email: str = "",
) -> BillingAccount:
    tax_code = tax_code.strip()
    validate_tax_code(tax_code)
    if BillingAccount.objects.filter(tax_code=tax_code).exists():
        raise ValidationError(
            {"tax_code": _("A billing account with tax code %(code)s exists.") % {"code": tax_code}}
        )
    account = BillingAccount(
        name=name.strip(), tax_code=tax_code, address=address.strip(), email=email, gateway=gateway
    )
    account.full_clean()
    account.save()
    BillingEvent.objects.create(
        billing_account=account, event="account_created", actor_email=actor_email
    )
    return account


def default_plan(kind: str) -> Plan:
    plan = Plan.objects.filter(agency_kind=kind, is_default=True, active=True).first()
    if plan is None:
        raise ValidationError(_("There is no default plan for this kind of agency."))
    return plan


@transaction.atomic
def subscription_start(
    *,
    agency: Agency,
    billing_account: BillingAccount,
    starts_on: dt.date,
    plan: Plan | None = None,
    actor_email: str = "",
) -> Subscription:
    """Put an agency on a plan paid by an account. Idempotent: the same open subscription is
    returned again; a different open one is ended the day before (a change of payer or plan)."""
    plan = plan or default_plan(agency.kind)
    if plan.agency_kind != agency.kind:
        raise ValidationError(
            _("The plan “%(plan)s” is not for this kind of agency.") % {"plan": plan}
        )
    Agency.objects.select_for_update().filter(pk=agency.pk).first()
    current = Subscription.objects.filter(agency=agency, ends_on__isnull=True).first()
    if current is not None:
        if current.billing_account_id == billing_account.pk and current.plan_id == plan.pk:
            return current
        if starts_on <= current.starts_on:
            raise ValidationError(_("A change must start after the current subscription began."))
        current.ends_on = starts_on - dt.timedelta(days=1)
        current.save(update_fields=["ends_on"])
    subscription = Subscription.objects.create(
        agency=agency, billing_account=billing_account, plan=plan, starts_on=starts_on
    )
    BillingEvent.objects.create(
        billing_account=billing_account,
        event="subscription_started",
        actor_email=actor_email,
        detail={"agency": agency.schema_name, "plan": plan.code, "starts_on": str(starts_on)},
    )
    return subscription


@transaction.atomic
def subscription_end(*, agency: Agency, ends_on: dt.date, actor_email: str = "") -> Subscription:
    """The agency leaves (offboarding): it is billed up to and including ``ends_on``."""
    subscription = (
        Subscription.objects.select_for_update().filter(agency=agency, ends_on__isnull=True).first()
    )
    if subscription is None:
        raise ValidationError(_("This agency has no running subscription."))
    if ends_on < subscription.starts_on:
        raise ValidationError(_("A subscription cannot end before it starts."))
    subscription.ends_on = ends_on
    subscription.save(update_fields=["ends_on"])
    BillingEvent.objects.create(
        billing_account_id=subscription.billing_account_id,
        event="subscription_ended",
        actor_email=actor_email,
        detail={"agency": agency.schema_name, "ends_on": str(ends_on)},
    )
    return subscription


@transaction.atomic
def agency_merged_billing(
    *, source: Agency, target: Agency, effective_on: dt.date, actor_email: str = ""
) -> dict[str, Any]:
    """A merge of ``source`` into ``target`` takes effect on ``effective_on`` (reorg).

    The source's running subscription ends the day before (the monthly invoice prorates it);
    the target's plan covers the rest. Usage the source recorded on or after the date becomes
    the target's: the ledger is append-only, so each such row gets a pair of rows at the same
    instant, minus for the source and plus for the target (idempotency keys ``merge:...``),
    and the daily rollups of those days are recomputed. Nothing is counted twice or lost, and
    running it again adds nothing.
    """
    ended = None
    current = (
        Subscription.objects.select_for_update().filter(agency=source, ends_on__isnull=True).first()
    )
    if current is not None:
        current.ends_on = max(current.starts_on, effective_on - dt.timedelta(days=1))
        current.save(update_fields=["ends_on"])
        ended = str(current.ends_on)
        BillingEvent.objects.create(
            billing_account_id=current.billing_account_id,
            event="subscription_ended",
            actor_email=actor_email,
            detail={"agency": source.schema_name, "ends_on": ended, "merged_into": target.slug},
        )
    start = timezone.make_aware(dt.datetime.combine(effective_on, dt.time.min))
    moved = 0
    last: dt.datetime | None = None
    rows = (
        UsageEvent.objects.filter(agency=source, occurred_at__gte=start)
        .exclude(idempotency_key__startswith="merge:")
        .order_by("id")
    )
    for row in rows.iterator():
        key = f"merge:{row.pk}"
        out = usage_record(
            agency=source,
            metric=row.metric,
            occurred_at=row.occurred_at,
            quantity=-row.quantity,
            idempotency_key=f"{key}:out",
        )
        usage_record(
            agency=target,
            metric=row.metric,
            occurred_at=row.occurred_at,
            quantity=row.quantity,
            idempotency_key=f"{key}:in",
        )
        if out is not None:
            moved += 1
        last = row.occurred_at if last is None else max(last, row.occurred_at)
    if last is not None:
        usage_rollup(first_day=effective_on, last_day=timezone.localdate(last))
    return {"subscription_ended_on": ended, "usage_moved": moved}
