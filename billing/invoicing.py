"""Monthly invoices computed from our own ledger, credit notes and payments.

Our ledger is the source of truth: an invoice line is the ledger's usage of one agency and metric
over the days its subscription ran in the month, less the prorated included quantity, times the
plan's unit price for that month. Issued invoices are immutable (a database trigger enforces it);
corrections are credit notes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import (
    BankStatementLine,
    BillingAccount,
    BillingEvent,
    CreditNote,
    EInvoiceStatus,
    Gateway,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    NumberCounter,
    Overpayment,
    OverpaymentStatus,
    Payment,
    Subscription,
)
from billing.pricing import PriceTerms, month_start, next_month_start, prices_for_period
from billing.services import usage_rollup
from billing.vat import form_symbol, seller, series_symbol, vat_totals
from billing.words import vnd_in_words
from tenants.schemas import advisory_lock

QUANTITY = Decimal("0.0001")
# Billing months are Vietnamese calendar months, whatever time zone a request runs in.
BILLING_TIME_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def period_bounds(period_start: dt.date) -> tuple[dt.date, dt.date]:
    if period_start.day != 1:
        raise ValidationError(_("A billing period starts on the first day of a month."))
    return period_start, next_month_start(period_start) - dt.timedelta(days=1)


def period_ends_at(period_start: dt.date) -> dt.datetime:
    """The moment a billing month ends: midnight, Vietnam time, starting the next month's 1st."""
    return dt.datetime.combine(next_month_start(period_start), dt.time.min, BILLING_TIME_ZONE)


def period_has_ended(period_start: dt.date, *, now: dt.datetime) -> bool:
    return now >= period_ends_at(period_start)


def _early_close_reason(
    period_start: dt.date, *, now: dt.datetime, force: bool, reason: str
) -> str:
    """'' if the month has ended; the reason of a forced early close; otherwise refused.

    An issued invoice can never change, so issuing a month before its last usage is in would
    bill it short for good: only a person who says why may do it (and it is audited)."""
    if period_has_ended(period_start, now=now):
        return ""
    names = {
        "period": period_start.strftime("%m/%Y"),
        "end": period_ends_at(period_start).strftime("%d/%m/%Y"),
    }
    if not force:
        if now < dt.datetime.combine(period_start, dt.time.min, BILLING_TIME_ZONE):
            message = _(
                "The month %(period)s has not started yet; it can be closed once it has ended,"
                " from 00:00 on %(end)s (Vietnam time)."
            )
        else:
            message = _(
                "The month %(period)s has not ended yet: it ends at 00:00 on %(end)s (Vietnam"
                " time). Its invoices cannot be issued before then unless the close is forced"
                " with a reason."
            )
        raise ValidationError(message % names, code="period_not_ended")
    if not reason.strip():
        raise ValidationError(
            _("Say why the month %(period)s is closed before it ends (a reason is required).")
            % names,
            code="reason_required",
        )
    return reason.strip()


def _vnd(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def numbers_allocate(*, scope: str, count: int) -> list[int]:
    """``count`` consecutive numbers of a gapless sequence; call inside the caller's transaction."""
    if count <= 0:
        return []
    table = NumberCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "public"."{table}" (scope, last) VALUES (%s, %s)'  # noqa: S608
            f' ON CONFLICT (scope) DO UPDATE SET last = "public"."{table}".last + EXCLUDED.last'
            " RETURNING last",
            [scope, count],
        )
        (last,) = cursor.fetchone()
    return list(range(last - count + 1, last + 1))


def _usage_by_subscription(
    period_start: dt.date, period_end: dt.date
) -> dict[int, dict[str, Decimal]]:
    """Ledger usage (via the daily rollups) per subscription and metric, within the days each
    subscription covered in the period: one query whatever the number of agencies."""
    sub = Subscription._meta.db_table
    daily = "billing_usagedaily"
    usage: dict[int, dict[str, Decimal]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT s.id, u.metric, sum(u.quantity) FROM "public"."{sub}" s'  # noqa: S608
            f' JOIN "public"."{daily}" u ON u.agency_id = s.agency_id'
            " AND u.day BETWEEN greatest(s.starts_on, %(start)s)"
            " AND least(coalesce(s.ends_on, %(end)s), %(end)s)"
            " WHERE s.starts_on <= %(end)s AND (s.ends_on IS NULL OR s.ends_on >= %(start)s)"
            " GROUP BY 1, 2",
            {"start": period_start, "end": period_end},
        )
        for sub_id, metric, quantity in cursor.fetchall():
            usage[sub_id][metric] = quantity
    return usage


@dataclass
class PrepareReport:
    period_start: dt.date
    drafted: int = 0
    skipped_issued: int = 0
    lines: int = 0
    total: int = 0
    invoice_ids: list[int] = field(default_factory=list)


def _lines_for(
    subscription: Subscription,
    terms: PriceTerms,
    usage: dict[str, Decimal],
    period_start: dt.date,
    period_end: dt.date,
) -> list[InvoiceLine]:
    period_days = (period_end - period_start).days + 1
    first = max(subscription.starts_on, period_start)
    last = min(subscription.ends_on or period_end, period_end)
    active_days = (last - first).days + 1
    share = Decimal(active_days) / Decimal(period_days)
    lines = [
        InvoiceLine(
            agency_id=subscription.agency_id,
            kind=LineKind.SUBSCRIPTION,
            description=terms.plan_name,
            quantity=Decimal(1),
            unit_price=terms.monthly_fee,
            amount=_vnd(terms.monthly_fee * share),
            vat_rate=terms.vat_rate,
            active_days=active_days,
            period_days=period_days,
        )
    ]
    for metric, (included_per_month, unit_price) in sorted(terms.rates.items()):
        used = usage.get(metric, Decimal(0))
        included = (included_per_month * share).quantize(QUANTITY, rounding=ROUND_HALF_UP)
        billable = max(Decimal(0), used - included)
        lines.append(
            InvoiceLine(
                agency_id=subscription.agency_id,
                kind=LineKind.USAGE,
                metric=metric,
                description=terms.plan_name,
                quantity=used,
                included=included,
                billable=billable,
                unit_price=unit_price,
                amount=_vnd(billable * unit_price),
                vat_rate=terms.vat_rate,
                active_days=active_days,
                period_days=period_days,
            )
        )
    return lines


def invoices_prepare(*, period_start: dt.date) -> PrepareReport:
    """Draft (or re-draft) the invoice of every billing account for a month.

    Accounts whose invoice for the month is already issued are left alone. Re-running replaces
    the drafts with fresh figures from the ledger, so it is safe to run any number of times;
    two runs at once queue behind one lock instead of colliding.
    """
    period_start, _period_end = period_bounds(period_start)
    with transaction.atomic():
        advisory_lock(f"billing-period:{period_start.isoformat()}")
        return _invoices_prepare(period_start)


def _invoices_prepare(period_start: dt.date) -> PrepareReport:
    period_start, period_end = period_bounds(period_start)
    report = PrepareReport(period_start=period_start)
    usage_rollup(first_day=period_start, last_day=period_end)
    subscriptions = list(
        Subscription.objects.filter(starts_on__lte=period_end)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=period_start))
        .order_by("billing_account_id", "agency_id", "starts_on")
    )
    terms = prices_for_period(
        plan_ids={s.plan_id for s in subscriptions}, period_start=period_start
    )
    unpriced = {s.plan_id for s in subscriptions} - terms.keys()
    if unpriced:
        raise ValidationError(
            _("Plans %(plans)s have no price for %(period)s.")
            % {"plans": sorted(unpriced), "period": period_start.strftime("%m/%Y")}
        )
    usage = _usage_by_subscription(period_start, period_end)
    by_account: dict[int, list[Subscription]] = defaultdict(list)
    for subscription in subscriptions:
        by_account[subscription.billing_account_id].append(subscription)

    with transaction.atomic():
        closed = set(
            Invoice.objects.filter(period_start=period_start)
            .exclude(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.VOID])
            .values_list("billing_account_id", flat=True)
        )
        report.skipped_issued = len(closed & by_account.keys())
        open_accounts = sorted(by_account.keys() - closed)
        stale = Invoice.objects.filter(
            period_start=period_start,
            status=InvoiceStatus.DRAFT,
            billing_account_id__in=open_accounts,
        )
        InvoiceLine.objects.filter(invoice__in=stale).delete()
        stale.delete()
        invoices: list[Invoice] = []
        all_lines: list[list[InvoiceLine]] = []
        for account_id in open_accounts:
            lines = [
                line
                for s in by_account[account_id]
                for line in _lines_for(
                    s, terms[s.plan_id], usage.get(s.pk, {}), period_start, period_end
                )
            ]
            totals = vat_totals((line.amount, line.vat_rate) for line in lines)
            invoices.append(
                Invoice(
                    billing_account_id=account_id,
                    period_start=period_start,
                    period_end=period_end,
                    subtotal=totals.subtotal,
                    vat_amount=totals.vat,
                    total=totals.total,
                )
            )
            all_lines.append(lines)
        Invoice.objects.bulk_create(invoices)
        flat: list[InvoiceLine] = []
        for invoice, lines in zip(invoices, all_lines, strict=True):
            for position, line in enumerate(lines, start=1):
                line.invoice = invoice
                line.position = position
                flat.append(line)
        InvoiceLine.objects.bulk_create(flat, batch_size=5000)
    report.drafted = len(invoices)
    report.lines = len(flat)
    report.total = sum(i.total for i in invoices)
    report.invoice_ids = [i.pk for i in invoices]
    return report


def _payment_terms_days() -> int:
    return int(getattr(settings, "BILLING_PAYMENT_TERMS_DAYS", 30))


@transaction.atomic
def invoices_issue(
    *,
    invoices: list[Invoice],
    actor_email: str = "",
    force: bool = False,
    reason: str = "",
    now: dt.datetime | None = None,
) -> list[Invoice]:
    """Number, date and freeze draft invoices (payer details are copied onto them).

    A month that has not ended (Vietnam time) is refused unless ``force`` with a ``reason``;
    such an early close is recorded in the billing audit trail."""
    now = now or timezone.now()
    ids = [i.pk for i in invoices]
    drafts = list(
        Invoice.objects.select_for_update()
        .filter(pk__in=ids, status=InvoiceStatus.DRAFT)
        .select_related("billing_account")
        .order_by("billing_account__name", "pk")
    )
    if len(drafts) != len(set(ids)):
        raise ValidationError(_("Only draft invoices can be issued."))
    early = {
        period: why
        for period in sorted({d.period_start for d in drafts})
        if (why := _early_close_reason(period, now=now, force=force, reason=reason))
    }
    due = timezone.localdate(now) + dt.timedelta(days=_payment_terms_days())
    for invoice in drafts:
        invoice.status = InvoiceStatus.PAID if invoice.total == 0 else InvoiceStatus.ISSUED
        invoice.paid_at = now if invoice.total == 0 else None
        invoice.due_on = due
        _legal_fields_set(invoice, invoice.billing_account, now=now)
    _legal_numbers_assign(drafts, now=now)
    Invoice.objects.bulk_update(drafts, ISSUE_FIELDS)
    BillingEvent.objects.bulk_create(
        BillingEvent(
            billing_account_id=invoice.billing_account_id,
            invoice=invoice,
            event="invoice_issued",
            actor_email=actor_email,
            detail={"number": invoice.number, "total": invoice.total},
        )
        for invoice in drafts
    )
    _einvoices_send_after_commit(drafts)
    # Overpayments credited to these payers settle their new invoices (see billing.overpayments).
    with_credit = set(
        Overpayment.objects.filter(
            status=OverpaymentStatus.CREDIT,
            billing_account_id__in={d.billing_account_id for d in drafts},
        ).values_list("billing_account", flat=True)
    )
    if with_credit:
        from billing.overpayments import account_credit_apply

        for account in {d.billing_account_id: d.billing_account for d in drafts}.values():
            if account.pk in with_credit:
                account_credit_apply(account=account, actor_email=actor_email)
    for period, why in early.items():
        BillingEvent.objects.create(
            event="period_closed_early",
            actor_email=actor_email,
            detail={
                "period": period.strftime("%Y-%m"),
                "reason": why,
                "closed_at": now.astimezone(BILLING_TIME_ZONE).isoformat(),
                "ends_at": period_ends_at(period).isoformat(),
                "invoices": [d.number for d in drafts if d.period_start == period],
            },
        )
    return drafts


ISSUE_FIELDS = [
    "number", "status", "issued_at", "paid_at", "due_on", "payer_name", "payer_tax_code",
    "payer_address", "payer_email", "form_symbol", "series", "legal_number", "seller_name",
    "seller_tax_code", "seller_address", "seller_bank_account", "seller_bank_name",
    "amount_in_words", "einvoice_status",
]  # fmt: skip


def _legal_fields_set(invoice: Invoice, account: BillingAccount, *, now: dt.datetime) -> None:
    """Copy the buyer and the seller onto an invoice being issued, with its total in words."""
    me = seller()
    invoice.issued_at = now
    invoice.payer_name = account.name
    invoice.payer_tax_code = account.tax_code
    invoice.payer_address = account.address
    invoice.payer_email = account.email
    invoice.seller_name = me.name
    invoice.seller_tax_code = me.tax_code
    invoice.seller_address = me.address
    invoice.seller_bank_account = me.bank_account
    invoice.seller_bank_name = me.bank_name
    invoice.amount_in_words = vnd_in_words(abs(invoice.total))
    invoice.einvoice_status = EInvoiceStatus.PENDING


def _legal_numbers_assign(invoices: list[Invoice], *, now: dt.datetime) -> None:
    """Our reference (HD<year>-<6 digits>, what payers write in a transfer's memo) and the legal
    e-invoice number: 8 digits per form and series, gapless (allocated in the issuing
    transaction: a rollback gives the numbers back)."""
    today = timezone.localdate(now)
    refs = numbers_allocate(scope=f"invoice-{today.year}", count=len(invoices))
    form, series = form_symbol(), series_symbol(today)
    legal = numbers_allocate(scope=f"einvoice-{form}{series}", count=len(invoices))
    for invoice, ref, number in zip(invoices, refs, legal, strict=True):
        invoice.number = f"HD{today.year}-{ref:06d}"
        invoice.form_symbol = form
        invoice.series = series
        invoice.legal_number = number


def _einvoices_send_after_commit(invoices: list[Invoice]) -> None:
    """Once issued, the e-invoices go to the provider (one task for the batch; the periodic
    task catches any that a broker outage lost)."""
    if invoices:
        from billing.tasks import einvoices_send_due

        transaction.on_commit(lambda: einvoices_send_due.delay())


@dataclass
class MonthCloseReport:
    prepared: PrepareReport
    issued: int


def billing_month_close(
    *,
    period_start: dt.date,
    actor_email: str = "",
    force: bool = False,
    reason: str = "",
    now: dt.datetime | None = None,
) -> MonthCloseReport:
    """Month-end: draft every account's invoice from the ledger, then issue them all.

    Only a month that has ended (at local midnight, Vietnam time) closes; an unfinished or
    future month is refused before anything is drafted, unless forced with a reason (audited).
    """
    now = now or timezone.now()
    period_start, _period_end = period_bounds(period_start)
    _early_close_reason(period_start, now=now, force=force, reason=reason)
    prepared = invoices_prepare(period_start=period_start)
    drafts = list(
        Invoice.objects.filter(period_start=prepared.period_start, status=InvoiceStatus.DRAFT)
    )
    issued = invoices_issue(
        invoices=drafts, actor_email=actor_email, force=force, reason=reason, now=now
    )
    return MonthCloseReport(prepared=prepared, issued=len(issued))


def previous_period(today: dt.date) -> dt.date:
    return month_start(month_start(today) - dt.timedelta(days=1))


@transaction.atomic
def credit_note_issue(
    *, invoice: Invoice, amount: int, reason: str, actor_email: str = ""
) -> CreditNote:
    """Reduce what is owed on an issued invoice, with a numbered credit note."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PAID):
        raise ValidationError(_("Only an issued invoice can be credited."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the invoice is corrected.")})
    if amount <= 0 or amount > invoice.total - invoice.amount_credited:
        raise ValidationError(
            {"amount": _("The credit must be between 1 and %(max)s ₫.")
             % {"max": invoice.total - invoice.amount_credited}}
        )  # fmt: skip
    now = timezone.now()
    (number,) = numbers_allocate(scope=f"credit-{timezone.localdate(now).year}", count=1)
    note = CreditNote.objects.create(
        number=f"GC{timezone.localdate(now).year}-{number:06d}",
        invoice=invoice,
        amount=amount,
        reason=reason.strip(),
        issued_at=now,
        issued_by_email=actor_email,
    )
    invoice.amount_credited += amount
    fields = ["amount_credited"]
    if invoice.balance <= 0 and invoice.status != InvoiceStatus.PAID:
        invoice.status, invoice.paid_at = InvoiceStatus.PAID, now
        fields += ["status", "paid_at"]
    invoice.save(update_fields=fields)
    BillingEvent.objects.create(
        billing_account_id=invoice.billing_account_id,
        invoice=invoice,
        event="credit_note_issued",
        actor_email=actor_email,
        detail={"number": note.number, "amount": amount},
    )
    _reassess(invoice, actor_email)
    return note


def _reassess(invoice: Invoice, actor_email: str) -> None:
    from billing.dunning import dunning_reassess

    dunning_reassess(account=invoice.billing_account, actor_email=actor_email)


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice,
    amount: int,
    received_on: dt.date,
    reference: str,
    gateway: str = Gateway.BANK_TRANSFER,
    actor_email: str = "",
    allow_overpayment: bool = False,
    statement_line: BankStatementLine | None = None,
) -> Payment:
    """Money received against an invoice: all of it is recorded.

    What the invoice still owed is applied to it; anything beyond (a second payment of a paid
    invoice, or more than the balance) is kept as an ``Overpayment`` flagged for staff, who
    refund it or credit it to the next invoice. Staff entering a transfer by hand confirm an
    excess with ``allow_overpayment`` (a typo is refused); money a gateway reports as received is
    always recorded.
    """
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    reference = reference.strip()
    if invoice.status == InvoiceStatus.DRAFT:
        raise ValidationError(_("A draft invoice cannot take a payment: issue it first."))
    if invoice.is_decrease:
        # Money for a void invoice is still recorded (as an overpayment): it arrived.
        raise ValidationError(
            _("The invoice %(number)s cannot take a payment (%(what)s).")
            % {"number": invoice.number, "what": _("a decrease adjustment")}
        )
    if not reference:
        raise ValidationError({"reference": _("Enter the bank transfer reference.")})
    if Payment.objects.filter(gateway=gateway, reference=reference).exists():
        raise ValidationError(
            {"reference": _("The payment %(ref)s is already recorded.") % {"ref": reference}}
        )
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be a positive number of đồng.")})
    owed = max(invoice.balance, 0) if invoice.status == InvoiceStatus.ISSUED else 0
    excess = max(0, amount - owed)
    if excess and not allow_overpayment:
        if invoice.status != InvoiceStatus.ISSUED:
            message = _(
                "This invoice is already settled (%(status)s). If the payer really paid it"
                " again, confirm that the money is recorded as an overpayment, to refund or to"
                " credit to the next invoice."
            ) % {"status": invoice.get_status_display()}
        else:
            message = _(
                "The amount must be between 1 and the balance of %(max)s ₫. If the payer really"
                " sent more, confirm that the excess is recorded as an overpayment."
            ) % {"max": owed}
        raise ValidationError({"amount": message})
    applied = amount - excess
    payment = Payment.objects.create(
        invoice=invoice,
        gateway=gateway,
        amount=amount,
        received_on=received_on,
        reference=reference,
        recorded_by_email=actor_email,
        statement_line=statement_line,
    )
    if applied:
        invoice.amount_paid += applied
        fields = ["amount_paid"]
        if invoice.balance <= 0:
            invoice.status, invoice.paid_at = InvoiceStatus.PAID, timezone.now()
            fields += ["status", "paid_at"]
        invoice.save(update_fields=fields)
    BillingEvent.objects.create(
        billing_account_id=invoice.billing_account_id,
        invoice=invoice,
        event="payment_recorded",
        actor_email=actor_email,
        detail={"amount": amount, "applied": applied, "excess": excess, "reference": reference,
                "gateway": gateway},
    )  # fmt: skip
    if excess:
        overpayment = Overpayment.objects.create(
            billing_account_id=invoice.billing_account_id,
            invoice=invoice,
            payment=payment,
            amount=excess,
        )
        BillingEvent.objects.create(
            billing_account_id=invoice.billing_account_id,
            invoice=invoice,
            event="overpayment_flagged",
            actor_email=actor_email,
            detail={"overpayment": overpayment.pk, "amount": excess, "reference": reference,
                    "gateway": gateway, "invoice_status": invoice.status},
        )  # fmt: skip
    _reassess(invoice, actor_email)
    return payment
