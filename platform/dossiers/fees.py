"""Paying a dossier's fee online, through the billing gateway interface (Stripe Checkout, VND).

Runs in the agency's schema: the payment row sits with its dossier. The gateway is told the
agency and dossier in the session's metadata, so its confirmation (a webhook, processed in the
public schema) can come back to the right agency, where the session id must match a payment
started here: a session of another agency finds nothing.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.gateways import GatewayError, gateway_get
from billing.models import Gateway
from dossiers.lifecycle import dossier_fee_paid
from dossiers.models import Dossier, FeePayment, FeePaymentStatus
from tenants.db import connection

# A Checkout Session lives 24 hours; an older pending one is replaced by a new one.
SESSION_REUSE = dt.timedelta(hours=23)


def fee_checkout_start(
    *, dossier: Dossier, success_url: str, cancel_url: str, gateway: str = Gateway.STRIPE
) -> FeePayment:
    """Start (or resume) the online payment of the dossier's fee; redirect the citizen to
    ``payment.url``."""
    if dossier.fee_amount <= 0:
        raise ValidationError(_("This dossier has no fee to pay."))
    if dossier.fee_paid:
        raise ValidationError(_("The fee of this dossier is already paid."))
    recent = (
        FeePayment.objects.filter(
            dossier=dossier,
            status=FeePaymentStatus.PENDING,
            amount=dossier.fee_amount,
            created_at__gte=timezone.now() - SESSION_REUSE,
        )
        .order_by("-created_at")
        .first()
    )
    if recent is not None:
        return recent
    schema = connection.schema_name
    attempt = FeePayment.objects.filter(dossier=dossier).count() + 1
    try:
        session = gateway_get(gateway).fee_payment_create(
            amount=dossier.fee_amount,
            description=_("Fee of dossier %(code)s") % {"code": dossier.code},
            reference=f"{schema}:{dossier.code}:{attempt}",
            success_url=success_url,
            cancel_url=cancel_url,
            metadata={"agency": schema, "dossier": dossier.code},
        )
    except GatewayError:
        raise ValidationError(
            _("Online payment is not available right now. Please try again later.")
        ) from None
    return FeePayment.objects.create(
        dossier=dossier,
        gateway=gateway,
        remote_id=session.remote_id,
        amount=session.amount,
        url=session.url,
    )


@transaction.atomic
def fee_payment_confirm(*, remote_id: str, amount: int, currency: str) -> str:
    """The gateway says a session was paid (run in the agency's schema). Idempotent.

    Returns "paid", "already paid", "unknown" (no such session here) or "flagged" (the amount
    or currency does not match what we asked for; nothing is applied).
    """
    payment = (
        FeePayment.objects.select_for_update()
        .select_related("dossier")
        .filter(remote_id=remote_id)
        .first()
    )
    if payment is None:
        return "unknown"
    if payment.status == FeePaymentStatus.PAID:
        return "already paid"
    if amount != payment.amount or currency.lower() != "vnd":
        payment.status = FeePaymentStatus.FLAGGED
        payment.save(update_fields=["status"])
        return "flagged"
    now = timezone.now()
    payment.status, payment.paid_at = FeePaymentStatus.PAID, now
    payment.save(update_fields=["status", "paid_at"])
    dossier = Dossier.objects.select_for_update().get(pk=payment.dossier_id)
    dossier_fee_paid(
        dossier=dossier,
        amount=payment.amount,
        reference=f"{payment.gateway} {payment.remote_id}",
        at=now,
    )
    return "paid"
