"""Overpayments: money that arrived beyond what an invoice owed, until staff resolve it.

``payment_record`` keeps every payment and turns the excess into an ``Overpayment`` (flagged).
Staff then either record the refund they made, or credit it to the payer: the credit settles the
payer's next invoices (issued after the overpaid one), now or when they are issued. Every step is
a BillingEvent.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import (
    BillingAccount,
    BillingEvent,
    Invoice,
    InvoiceStatus,
    Overpayment,
    OverpaymentStatus,
    Payment,
)

REFUND = "refund"
CREDIT = "credit"


@transaction.atomic
def overpayment_resolve(
    *, overpayment: Overpayment, action: str, note: str = "", actor_email: str = ""
) -> Overpayment:
    """``refund``: staff paid the excess back (the note says how: the bank or Stripe reference);
    ``credit``: the excess pays the account's next invoices."""
    overpayment = Overpayment.objects.select_for_update().get(pk=overpayment.pk)
    note = note.strip()
    if overpayment.status != OverpaymentStatus.OPEN:
        raise ValidationError(
            _("This overpayment is already resolved (%(status)s).")
            % {"status": overpayment.get_status_display()}
        )
    if action == REFUND:
        if not note:
            raise ValidationError(
                {"note": _("Say how the money was refunded (the transfer or refund reference).")}
            )
        overpayment.status = OverpaymentStatus.REFUNDED
    elif action == CREDIT:
        overpayment.status = OverpaymentStatus.CREDIT
    else:
        raise ValidationError(_("Choose a refund or a credit to the next invoice."))
    overpayment.resolution_note = note
    overpayment.resolved_by_email = actor_email
    overpayment.resolved_at = timezone.now()
    overpayment.save(
        update_fields=["status", "resolution_note", "resolved_by_email", "resolved_at"]
    )
    BillingEvent.objects.create(
        billing_account_id=overpayment.billing_account_id,
        invoice_id=overpayment.invoice_id,
        event="overpayment_refunded" if action == REFUND else "overpayment_credited",
        actor_email=actor_email,
        detail={"overpayment": overpayment.pk, "amount": overpayment.amount, "note": note},
    )
    if action == CREDIT:
        account_credit_apply(account=overpayment.billing_account, actor_email=actor_email)
        overpayment.refresh_from_db()
    return overpayment


def account_credit_apply(*, account: BillingAccount, actor_email: str = "") -> int:
    """Apply the account's credited overpayments to its issued, unpaid invoices of later periods
    (oldest first). Idempotent; call inside or outside a transaction. Returns the đồng applied."""
    from billing.dunning import dunning_reassess

    total = 0
    settled: list[Invoice] = []
    with transaction.atomic():
        waiting = list(
            Overpayment.objects.select_for_update()
            .filter(billing_account=account, status=OverpaymentStatus.CREDIT)
            .select_related("invoice", "payment")
            .order_by("created_at", "pk")
        )
        for credit in waiting:
            targets = (
                Invoice.objects.select_for_update()
                .filter(
                    billing_account=account,
                    status=InvoiceStatus.ISSUED,
                    period_start__gt=credit.invoice.period_start,
                )
                .order_by("period_start", "pk")
            )
            for invoice in targets:
                use = min(credit.remaining, invoice.balance)
                if use <= 0:
                    continue
                Payment.objects.create(
                    invoice=invoice,
                    gateway=credit.payment.gateway,
                    amount=use,
                    received_on=timezone.localdate(),
                    reference=f"OP{credit.pk}-{invoice.number}",
                    recorded_by_email=actor_email,
                    carried_from=credit,
                )
                invoice.amount_paid += use
                fields = ["amount_paid"]
                if invoice.balance <= 0:
                    invoice.status, invoice.paid_at = InvoiceStatus.PAID, timezone.now()
                    fields += ["status", "paid_at"]
                    settled.append(invoice)
                invoice.save(update_fields=fields)
                credit.applied += use
                total += use
                BillingEvent.objects.create(
                    billing_account=account,
                    invoice=invoice,
                    event="overpayment_applied",
                    actor_email=actor_email,
                    detail={"overpayment": credit.pk, "amount": use,
                            "from_invoice": credit.invoice.number},
                )  # fmt: skip
                if credit.remaining == 0:
                    break
            if credit.remaining == 0:
                credit.status = OverpaymentStatus.APPLIED
            credit.save(update_fields=["applied", "status"])
        for invoice in settled:
            if invoice.stripe_invoice_id:
                from billing.tasks import stripe_invoice_paid_out_of_band

                invoice_id = invoice.pk
                transaction.on_commit(
                    lambda pk=invoice_id: stripe_invoice_paid_out_of_band.delay(pk)  # type: ignore[misc]
                )
    if total:
        dunning_reassess(account=account, actor_email=actor_email)
    return total
