"""The bank-transfer gateway: how Vietnamese agencies actually pay.

The bill is our printable invoice; provider staff record each transfer against it
(``bank_transfer_record``), and the reconciliation selector lines a bank statement up with
issued invoices and recorded payments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from billing.gateways.base import (
    FeePayment,
    GatewayError,
    NoProviderBillingGateway,
    register,
)
from billing.invoicing import payment_record
from billing.models import (
    BankStatementLine,
    Gateway,
    Invoice,
    InvoiceStatus,
    Overpayment,
    Payment,
)


@register
class BankTransferGateway(NoProviderBillingGateway):
    code = Gateway.BANK_TRANSFER

    def fee_payment_create(
        self,
        *,
        amount: int,
        description: str,
        reference: str,
        success_url: str,
        cancel_url: str,
        metadata: dict[str, str],
        expires_at: dt.datetime | None = None,
        notify_url: str = "",
    ) -> FeePayment:
        raise GatewayError(_("Online payment is not available by bank transfer."))


def bank_transfer_record(
    *,
    invoice: Invoice,
    amount: int,
    received_on: dt.date,
    reference: str,
    actor_email: str = "",
    allow_overpayment: bool = False,
    statement_line: BankStatementLine | None = None,
) -> Payment:
    """Record a transfer against an invoice; if the invoice also lives in Stripe and is now
    settled, Stripe is told it was paid out of band (after commit, by a retried task).

    A transfer beyond what is owed is refused unless ``allow_overpayment``: then the excess is
    kept as an overpayment for staff to refund or credit (billing.overpayments)."""
    with transaction.atomic():
        was_open = Invoice.objects.filter(pk=invoice.pk, status=InvoiceStatus.ISSUED).exists()
        payment = payment_record(
            invoice=invoice,
            amount=amount,
            received_on=received_on,
            reference=reference,
            gateway=Gateway.BANK_TRANSFER,
            actor_email=actor_email,
            allow_overpayment=allow_overpayment,
            statement_line=statement_line,
        )
        invoice.refresh_from_db()
        if was_open and invoice.status == InvoiceStatus.PAID and invoice.stripe_invoice_id:
            from billing.tasks import stripe_invoice_paid_out_of_band

            invoice_id = invoice.pk
            transaction.on_commit(lambda: stripe_invoice_paid_out_of_band.delay(invoice_id))
    return payment


# --- reconciliation -------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    """One credit on the provider's bank statement."""

    reference: str
    amount: int
    received_on: dt.date
    memo: str = ""


@dataclass(frozen=True)
class InvoicePosition:
    invoice_id: int
    number: str
    payer: str
    total: int
    paid: int
    credited: int
    balance: int
    recorded: int  # the payments recorded against it, less their excess (overpayments)


@dataclass
class Reconciliation:
    matched: list[tuple[StatementLine, Payment]] = field(default_factory=list)
    to_record: list[tuple[StatementLine, Invoice]] = field(default_factory=list)
    unmatched: list[StatementLine] = field(default_factory=list)
    open_invoices: list[InvoicePosition] = field(default_factory=list)
    mismatched: list[InvoicePosition] = field(default_factory=list)


def _invoice_number_in(memo: str) -> str | None:
    """The first invoice number a memo names, however it was typed (billing.reconciliation)."""
    from billing.reconciliation import memo_references

    numbers = memo_references(memo).numbers
    return numbers[0] if numbers else None


def bank_reconciliation(*, statement: Iterable[StatementLine] = ()) -> Reconciliation:
    """Line a bank statement up with our invoices and recorded transfers.

    - matched: a statement line whose reference is already recorded as a payment;
    - to_record: not recorded yet, but its memo names an open invoice and the amount fits;
    - unmatched: neither (unknown memo, a paid invoice, or more than the balance): for a human;
    - open_invoices: issued invoices still owing; mismatched: invoices whose paid amount does not
      equal the payments recorded against them.
    """
    result = Reconciliation()
    lines = list(statement)
    recorded = {
        p.reference: p
        for p in Payment.objects.filter(
            gateway=Gateway.BANK_TRANSFER, reference__in=[s.reference.strip() for s in lines]
        )
    }
    numbers = {n for s in lines if (n := _invoice_number_in(s.memo))}
    by_number = {i.number: i for i in Invoice.objects.filter(number__in=numbers)}
    for line in lines:
        payment = recorded.get(line.reference.strip())
        if payment is not None:
            result.matched.append((line, payment))
            continue
        number = _invoice_number_in(line.memo)
        invoice = by_number.get(number) if number else None
        if (
            invoice is not None
            and invoice.status == InvoiceStatus.ISSUED
            and 0 < line.amount <= invoice.balance
        ):
            result.to_record.append((line, invoice))
        else:
            result.unmatched.append(line)
    invoices = (
        Invoice.objects.exclude(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.VOID])
        .annotate(recorded=Sum("payments__amount"))
        .select_related("billing_account")
        .order_by("number")
    )
    # The excess of a payment is not applied to its invoice: it is an overpayment, kept apart.
    excess = dict(
        Overpayment.objects.values("invoice_id")
        .annotate(n=Sum("amount"))
        .values_list("invoice_id", "n")
    )
    for invoice in invoices:
        position = InvoicePosition(
            invoice_id=invoice.pk,
            number=invoice.number or "",
            payer=invoice.payer_name or invoice.billing_account.name,
            total=invoice.total,
            paid=invoice.amount_paid,
            credited=invoice.amount_credited,
            balance=invoice.balance,
            recorded=int(invoice.recorded or 0) - int(excess.get(invoice.pk, 0)),
        )
        if invoice.status == InvoiceStatus.ISSUED and invoice.balance > 0:
            result.open_invoices.append(position)
        if position.recorded != invoice.amount_paid:
            result.mismatched.append(position)
    return result
