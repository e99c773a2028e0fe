"""Correcting an issued invoice the legal way: a replacement or an adjustment invoice.

An issued e-invoice is never changed (Decree 123/2020/NĐ-CP, Art. 19). Instead:

- **replacement** (hóa đơn thay thế): a new invoice with the corrected content (the payer's
  details as they are now on the billing account, and optionally other line amounts) replaces the
  original, which becomes void. Only for an invoice nothing has been paid or credited on yet: money
  already received is corrected by an adjustment instead.
- **adjustment** (hóa đơn điều chỉnh): a new invoice for the difference on named lines of the
  original. An increase is a new amount to pay (its own number and VietQR); a decrease reduces what
  the original still owes (up to what it has not been reduced by already).

Both reference the original (form, series, number, date) in their XML (``TTHDLQuan``), get their
own legal number in the current series, and go to the tax authority like any invoice. Credit
notes (``credit_note_issue``) remain as history; new corrections take these two paths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.invoicing import (
    _einvoices_send_after_commit,
    _legal_fields_set,
    _legal_numbers_assign,
    _payment_terms_days,
    _reassess,
)
from billing.models import (
    Adjustment,
    BillingEvent,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
)
from billing.vat import vat_totals

CORRECTABLE = (InvoiceStatus.ISSUED, InvoiceStatus.PAID)


def _original(invoice: Invoice) -> Invoice:
    invoice = (
        Invoice.objects.select_for_update().select_related("billing_account").get(pk=invoice.pk)
    )
    if invoice.status not in CORRECTABLE or invoice.kind == InvoiceKind.ADJUSTMENT:
        raise ValidationError(
            _("Only an issued invoice (not void, not itself an adjustment) can be corrected.")
        )
    return invoice


def _reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the invoice is corrected.")})
    return reason.strip()[:2000]


def _issue(invoice: Invoice, lines: list[InvoiceLine], *, now: dt.datetime) -> Invoice:
    totals = vat_totals((line.amount, line.vat_rate) for line in lines)
    invoice.subtotal, invoice.vat_amount, invoice.total = totals.subtotal, totals.vat, totals.total
    _legal_fields_set(invoice, invoice.billing_account, now=now)
    _legal_numbers_assign([invoice], now=now)
    invoice.due_on = timezone.localdate(now) + dt.timedelta(days=_payment_terms_days())
    # Lines go in while it is a draft (issued invoices' lines are frozen by the database).
    status = invoice.status
    invoice.status = InvoiceStatus.DRAFT
    invoice.save()
    for position, line in enumerate(lines, start=1):
        line.pk = None
        line.invoice = invoice
        line.position = position
    InvoiceLine.objects.bulk_create(lines)
    invoice.status = status
    invoice.save(update_fields=["status", "paid_at"])
    _einvoices_send_after_commit([invoice])
    return invoice


@transaction.atomic
def invoice_replace(
    *,
    invoice: Invoice,
    reason: str,
    amounts: Mapping[int, int] | None = None,
    actor_email: str = "",
    now: dt.datetime | None = None,
) -> Invoice:
    """Replace an issued invoice that nothing was paid on: a new invoice with the payer's
    current details (and line amounts changed by position, if given); the original is void."""
    now = now or timezone.now()
    original = _original(invoice)
    why = _reason(reason)
    if original.amount_paid or original.amount_credited or original.corrections.exists():
        raise ValidationError(
            _(
                "The invoice %(number)s has payments, credits or corrections already: correct"
                " it with an adjustment invoice instead."
            )
            % {"number": original.number}
        )
    lines = list(original.lines.order_by("position"))
    positions = {line.position for line in lines}
    for position, amount in (amounts or {}).items():
        if position not in positions or amount < 0:
            raise ValidationError(
                {"amounts": _("Line %(n)s: no such line, or a negative amount.") % {"n": position}}
            )
    for line in lines:
        if amounts and line.position in amounts:
            line.amount = amounts[line.position]
    Invoice.objects.filter(pk=original.pk).update(status=InvoiceStatus.VOID)
    replacement = _issue(
        Invoice(
            billing_account=original.billing_account,
            period_start=original.period_start,
            period_end=original.period_end,
            kind=InvoiceKind.REPLACEMENT,
            original=original,
            correction_reason=why,
            status=InvoiceStatus.ISSUED,
        ),
        lines,
        now=now,
    )
    if replacement.total <= 0:
        replacement.status, replacement.paid_at = InvoiceStatus.PAID, now
        replacement.save(update_fields=["status", "paid_at"])
    BillingEvent.objects.create(
        billing_account_id=original.billing_account_id,
        invoice=replacement,
        event="invoice_replaced",
        actor_email=actor_email,
        detail={"original": original.number, "replacement": replacement.number,
                "reason": why, "total": replacement.total},
    )  # fmt: skip
    _reassess(replacement, actor_email)
    return replacement


@dataclass(frozen=True)
class AdjustmentLine:
    """A difference on one line of the original (its position), before VAT, in đồng (> 0)."""

    position: int
    amount: int
    description: str = ""


@transaction.atomic
def invoice_adjust(
    *,
    invoice: Invoice,
    direction: str,
    lines: Sequence[AdjustmentLine],
    reason: str,
    actor_email: str = "",
    now: dt.datetime | None = None,
) -> Invoice:
    """Issue an adjustment invoice (increase or decrease) of named lines of an issued invoice."""
    now = now or timezone.now()
    original = _original(invoice)
    why = _reason(reason)
    if direction not in Adjustment.values:
        raise ValidationError(_("Choose an increase or a decrease."))
    if not lines:
        raise ValidationError(_("Name at least one line of the invoice to adjust."))
    by_position = {line.position: line for line in original.lines.select_related("agency")}
    sign = 1 if direction == Adjustment.INCREASE else -1
    # Line texts are on the legal document: always in Vietnamese.
    word = "Điều chỉnh tăng" if sign > 0 else "Điều chỉnh giảm"
    new_lines = []
    for change in lines:
        source = by_position.get(change.position)
        if source is None or change.amount <= 0:
            raise ValidationError(
                _("Line %(n)s: no such line on the invoice, or an amount that is not positive.")
                % {"n": change.position}
            )
        text = change.description.strip() or source.description
        new_lines.append(
            InvoiceLine(
                agency=source.agency,
                kind=LineKind.ADJUSTMENT,
                metric=source.metric,
                description=(
                    f"{word}: {source.agency.name} — {text} "
                    f"(dòng {source.position}, hóa đơn {original.number})"
                )[:300],
                quantity=0,
                amount=sign * change.amount,
                vat_rate=source.vat_rate,
            )
        )
    totals = vat_totals((line.amount, line.vat_rate) for line in new_lines)
    if sign < 0:
        room = original.total - original.amount_credited
        if -totals.total > room:
            raise ValidationError(
                _("The decrease (%(amount)s ₫ with VAT) is more than the %(room)s ₫ the invoice"
                  " can still be reduced by.")
                % {"amount": -totals.total, "room": room}
            )  # fmt: skip
    adjustment = _issue(
        Invoice(
            billing_account=original.billing_account,
            period_start=original.period_start,
            period_end=original.period_end,
            kind=InvoiceKind.ADJUSTMENT,
            adjustment=direction,
            original=original,
            correction_reason=why,
            status=InvoiceStatus.ISSUED if sign > 0 else InvoiceStatus.PAID,
            paid_at=None if sign > 0 else now,
        ),
        new_lines,
        now=now,
    )
    if sign < 0:
        original.amount_credited += -adjustment.total
        fields = ["amount_credited"]
        if original.balance <= 0 and original.status == InvoiceStatus.ISSUED:
            original.status, original.paid_at = InvoiceStatus.PAID, now
            fields += ["status", "paid_at"]
        original.save(update_fields=fields)
    BillingEvent.objects.create(
        billing_account_id=original.billing_account_id,
        invoice=adjustment,
        event="invoice_adjusted",
        actor_email=actor_email,
        detail={"original": original.number, "adjustment": adjustment.number,
                "direction": direction, "reason": why, "total": adjustment.total},
    )  # fmt: skip
    _reassess(adjustment, actor_email)
    return adjustment
