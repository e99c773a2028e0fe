"""Read-side helpers of billing."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from billing.models import (
    UNSENT,
    AccountStatus,
    BankStatementLine,
    BillingAccount,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineStatus,
    MeterEventOutbox,
    Metric,
    OutboxStatus,
    Overpayment,
    OverpaymentStatus,
    Subscription,
    UsageEvent,
)
from billing.pricing import PriceTerms, next_month_start, prices_for_period
from tenants.models import Agency


def agency_billing_restricted(*, agency: Agency) -> bool:
    """Is the agency's payer restricted for unpaid invoices? (one indexed query)"""
    return BillingAccount.objects.filter(
        subscriptions__agency_id=agency.pk,
        subscriptions__ends_on__isnull=True,
        status=AccountStatus.RESTRICTED,
    ).exists()


def current_subscription(*, agency: Agency) -> Subscription | None:
    return (
        Subscription.objects.filter(agency_id=agency.pk, ends_on__isnull=True)
        .select_related("plan", "billing_account")
        .first()
    )


@dataclass
class MetricUsage:
    metric: str
    label: str
    used: Decimal
    included: Decimal
    unit_price: int
    projected: Decimal
    projected_amount: int

    @property
    def percent_of_included(self) -> int:
        if not self.included:
            return 100 if self.used else 0
        return int(self.used * 100 / self.included)


@dataclass
class UsageSummary:
    period_start: dt.date
    period_end: dt.date
    days_elapsed: int
    period_days: int
    monthly_fee: int
    metrics: list[MetricUsage]
    daily: dict[str, list[tuple[dt.date, Decimal]]]

    @property
    def projected_total(self) -> int:
        return self.monthly_fee + sum(m.projected_amount for m in self.metrics)


def agency_usage_month(*, agency: Agency, today: dt.date) -> UsageSummary | None:
    """This month's usage of an agency against its plan, projected to month end (from the ledger,
    so it is current to the second, not to last night's rollup)."""
    subscription = current_subscription(agency=agency)
    if subscription is None:
        return None
    start = today.replace(day=1)
    end = next_month_start(start) - dt.timedelta(days=1)
    terms: PriceTerms | None = prices_for_period(
        plan_ids=[subscription.plan_id], period_start=start
    ).get(subscription.plan_id)
    if terms is None:
        return None
    from django.utils import timezone

    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    rows = (
        UsageEvent.objects.filter(agency_id=agency.pk, occurred_at__gte=since)
        .values_list("metric", "occurred_at", "quantity")
        .order_by()
    )
    totals: dict[str, Decimal] = defaultdict(Decimal)
    per_day: dict[str, dict[dt.date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for metric, at, quantity in rows.iterator():
        totals[metric] += quantity
        per_day[metric][timezone.localdate(at)] += quantity
    period_days = (end - start).days + 1
    elapsed = (today - start).days + 1
    metrics = []
    labels = dict(Metric.choices)
    for metric, (included, unit_price) in sorted(terms.rates.items()):
        used = totals.get(metric, Decimal(0))
        projected = (used * period_days / elapsed).quantize(Decimal("0.01"))
        metrics.append(
            MetricUsage(
                metric=metric,
                label=str(labels.get(metric, metric)),
                used=used,
                included=included,
                unit_price=unit_price,
                projected=projected,
                projected_amount=int(max(Decimal(0), projected - included) * unit_price),
            )
        )
    daily = {
        metric: [
            (
                start + dt.timedelta(days=i),
                per_day[metric].get(start + dt.timedelta(days=i), Decimal(0)),
            )
            for i in range(elapsed)
        ]
        for metric in per_day
    }
    return UsageSummary(
        period_start=start,
        period_end=end,
        days_elapsed=elapsed,
        period_days=period_days,
        monthly_fee=terms.monthly_fee,
        metrics=metrics,
        daily=daily,
    )


def agency_invoice_lines(*, agency: Agency) -> QuerySet[InvoiceLine]:
    """The agency's share of issued invoices (an invoice may cover many agencies)."""
    return (
        InvoiceLine.objects.filter(agency_id=agency.pk)
        .exclude(invoice__status__in=[InvoiceStatus.DRAFT, InvoiceStatus.VOID])
        .select_related("invoice")
        .order_by("-invoice__period_start", "position")
    )


def received_per_day(summary: UsageSummary | None) -> list[tuple[str, Decimal]]:
    """The month's dossiers received per day, for a chart (dd/mm, count)."""
    if summary is None:
        return []
    return [(d.strftime("%d/%m"), q) for d, q in summary.daily.get(Metric.DOSSIER_RECEIVED, [])]


def agency_invoice_shares(*, agency: Agency, limit: int = 200) -> list[dict[str, Any]]:
    """The agency's issued invoices, newest first, each with its lines for the agency and
    their sum (``{"invoice", "lines", "share"}``)."""
    shares: dict[int, dict[str, Any]] = {}
    for line in agency_invoice_lines(agency=agency)[:limit]:
        entry = shares.setdefault(
            line.invoice_id, {"invoice": line.invoice, "lines": [], "share": 0}
        )
        entry["lines"].append(line)
        entry["share"] += line.amount
    return list(shares.values())


def revenue_by_province_month(*, months: int = 12, today: dt.date) -> list[dict[str, Any]]:
    """Invoiced amounts per province and month (issued and paid invoices)."""
    first = today.replace(day=1)
    for _ in range(months - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return list(
        InvoiceLine.objects.filter(
            invoice__status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PAID],
            invoice__period_start__gte=first,
        )
        .annotate(month=TruncMonth("invoice__period_start"))
        .values("month", "agency__province_code")
        .annotate(amount=Sum("amount"))
        .order_by("month", "agency__province_code")
    )


def unpaid_invoices(*, today: dt.date) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(status=InvoiceStatus.ISSUED)
        .select_related("billing_account")
        .annotate(agencies=Count("lines__agency", distinct=True))
        .order_by("due_on", "number")
    )


def overpayments_to_resolve() -> QuerySet[Overpayment]:
    """Overpayments staff still have to decide on (open), then credits waiting for an invoice."""
    return (
        Overpayment.objects.filter(status__in=[OverpaymentStatus.OPEN, OverpaymentStatus.CREDIT])
        .select_related("invoice", "billing_account", "payment")
        .order_by("-status", "created_at", "pk")  # "open" sorts before "credit"
    )


def meter_outbox_stuck(*, now: dt.datetime) -> QuerySet[MeterEventOutbox]:
    """Meter events Stripe has not been told and should have been: waiting for staff or for a
    check against Stripe's summary, queued over an hour ago, or failed many times (rows past
    Stripe's 35 days are counted apart, see ``meter_outbox_health``)."""
    from billing.outbox import STRIPE_LOOKBACK, STUCK_AGE, STUCK_ATTEMPTS

    return (
        MeterEventOutbox.objects.filter(status__in=UNSENT)
        .filter(occurred_at__gte=now - STRIPE_LOOKBACK)
        .filter(
            Q(status__in=[OutboxStatus.ATTENTION, OutboxStatus.VERIFY])
            | Q(created_at__lt=now - STUCK_AGE)
            | Q(attempts__gte=STUCK_ATTEMPTS)
        )
        .select_related("agency", "billing_account")
        .order_by("created_at", "id")
    )


def meter_outbox_health(*, now: dt.datetime) -> dict[str, Any]:
    """Figures of the meter-event outbox for the health page (one query)."""
    from django.db.models import Max, Min

    from billing.outbox import STRIPE_LOOKBACK

    figures = meter_outbox_stuck(now=now).aggregate(
        stuck=Count("id"),
        attention=Count("id", filter=Q(status=OutboxStatus.ATTENTION)),
        verify=Count("id", filter=Q(status=OutboxStatus.VERIFY)),
        oldest=Min("created_at"),
        most_attempts=Max("attempts"),
    )
    expired = (
        MeterEventOutbox.objects.filter(status__in=UNSENT)
        .filter(occurred_at__lt=now - STRIPE_LOOKBACK)
        .count()
    )
    oldest = figures["oldest"]
    return {
        "stuck": figures["stuck"],
        "attention": figures["attention"],
        "verify": figures["verify"],
        "oldest_queued_minutes": int((now - oldest).total_seconds() // 60) if oldest else 0,
        "most_attempts": figures["most_attempts"] or 0,
        "past_stripe_35_days": expired,
    }


def usage_anomalies(
    *, today: dt.date, factor: Decimal = Decimal(3), min_quantity: Decimal = Decimal(20)
) -> list[dict[str, Any]]:
    """Agencies whose usage of a metric over the last 7 days is far above their 28 days before.

    A sudden jump (a script submitting test dossiers, an SMS loop) should be looked at before
    it reaches an invoice.
    """
    from billing.models import UsageDaily

    recent_from = today - dt.timedelta(days=7)
    base_from = recent_from - dt.timedelta(days=28)
    rows = (
        UsageDaily.objects.filter(day__gte=base_from, day__lt=today)
        .values("agency_id", "agency__name", "metric")
        .annotate(
            recent=Sum("quantity", filter=Q(day__gte=recent_from)),
            base=Sum("quantity", filter=Q(day__lt=recent_from)),
        )
    )
    found = []
    for row in rows:
        recent = row["recent"] or Decimal(0)
        weekly_base = (row["base"] or Decimal(0)) / 4
        if recent >= min_quantity and recent > factor * max(weekly_base, Decimal(1)):
            found.append(
                {**row, "recent": recent, "weekly_base": weekly_base.quantize(Decimal("0.1"))}
            )
    return sorted(
        found, key=lambda r: r["recent"] / max(r["weekly_base"], Decimal(1)), reverse=True
    )


# --- invoices as legal documents: VAT, VietQR, corrections ------------------------------------


@dataclass(frozen=True)
class PaymentQR:
    """How to pay an invoice by bank transfer: the VietQR and what it holds."""

    payload: str
    svg: str
    amount: int
    memo: str
    bank_name: str
    account: str
    beneficiary: str


def invoice_payment_qr(*, invoice: Invoice) -> PaymentQR | None:
    """The VietQR of what an issued invoice still owes (None if nothing is owed), its memo the
    invoice number: scanned in any banking app, it fills in the account, amount and memo."""
    from billing.vat import seller
    from billing.vietqr import qr_svg, vietqr_payload

    if invoice.status != InvoiceStatus.ISSUED or invoice.balance <= 0 or not invoice.number:
        return None
    me = seller()
    payload = vietqr_payload(
        bank_bin=me.bank_bin,
        account=me.bank_account,
        amount=invoice.balance,
        purpose=invoice.number,
        bill_number=invoice.number,
    )
    return PaymentQR(
        payload=payload,
        svg=qr_svg(payload),
        amount=invoice.balance,
        memo=invoice.number,
        bank_name=invoice.seller_bank_name or me.bank_name,
        account=invoice.seller_bank_account or me.bank_account,
        beneficiary=invoice.seller_name or me.name,
    )


def invoice_vat_breakdown(*, invoice: Invoice) -> Any:
    """The invoice's totals per VAT rate (lines before VAT, VAT)."""
    from billing.vat import vat_totals

    return vat_totals(invoice.lines.values_list("amount", "vat_rate"))


def invoice_for_agency(*, agency: Agency, pk: int) -> Invoice | None:
    """An issued invoice that bills the agency (one of its lines), or None."""
    return (
        Invoice.objects.filter(pk=pk, lines__agency_id=agency.pk)
        .exclude(status=InvoiceStatus.DRAFT)
        .select_related("billing_account", "original")
        .distinct()
        .first()
    )


def statement_lines_queued() -> QuerySet[BankStatementLine]:
    return BankStatementLine.objects.filter(status=LineStatus.QUEUED).order_by("booked_on", "pk")


def statement_lines_recent(*, limit: int = 50) -> QuerySet[BankStatementLine]:
    return BankStatementLine.objects.exclude(status=LineStatus.QUEUED).order_by(
        "-created_at", "-pk"
    )[:limit]


def einvoices_waiting() -> QuerySet[Invoice]:
    """Issued invoices the tax authority has not coded: to send, sent, or refused."""
    from billing.models import EInvoiceStatus

    return Invoice.objects.filter(
        einvoice_status__in=[EInvoiceStatus.PENDING, EInvoiceStatus.SENT, EInvoiceStatus.REJECTED]
    ).order_by("-einvoice_status", "issued_at", "pk")
