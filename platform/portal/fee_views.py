"""Paying a dossier's fee from the portal: the channels the agency offers (the national payment
platform, Stripe, a VietQR transfer), and the platform's callbacks on the agency's own host.

Thin: parse, call one service in ``lifecycle.fees``, answer. The callbacks need no session: their
signature is what is trusted, and they act in the schema of the host they arrive on only.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import agency_roles
from dossiers.models import Dossier, FeeChannel, FeePayment, FeePaymentStatus
from lifecycle.fees import (
    fee_channels_offered,
    fee_checkout_start,
    fee_national_callback,
    fee_payment_refresh,
    fee_settings,
    fee_transfer_qr,
)
from tenants.http import AgencyRequest


def fee_page_context(dossier: Dossier) -> dict[str, Any]:
    """What the dossier page shows to pay its fee (nothing once paid)."""
    if dossier.fee_amount <= 0 or dossier.fee_paid:
        return {"fee_channels": [], "fee_qr": None, "fee_pending": None}
    current = fee_settings()
    offered = fee_channels_offered(current)
    labels = dict(FeeChannel.choices)
    return {
        "fee_channels": [
            {"code": c, "label": labels[c]} for c in offered if c != FeeChannel.VIETQR
        ],
        "fee_qr": fee_transfer_qr(dossier=dossier, current=current),
        "fee_pending": dossier.fee_payments.filter(
            gateway=FeeChannel.NATIONAL, status=FeePaymentStatus.PENDING
        ).first(),
    }


def _own_dossier(request: AgencyRequest, code: str) -> Dossier:
    dossier = get_object_or_404(Dossier, code=code)
    if dossier.applicant_id != request.user.pk and not agency_roles(request):
        raise Http404
    return dossier


@login_required
@require_POST
def fee_pay(request: AgencyRequest, code: str) -> HttpResponse:
    """Pay the dossier's fee online: off to the chosen channel's payment page."""
    dossier = _own_dossier(request, code)
    back = request.build_absolute_uri(reverse("portal-my-dossier", args=[dossier.code]))
    offered = [c for c in fee_channels_offered() if c != FeeChannel.VIETQR]
    gateway = request.POST.get("gateway") or (offered[0] if offered else FeeChannel.STRIPE)
    success = back
    if gateway == FeeChannel.NATIONAL:
        success = request.build_absolute_uri(reverse("portal-fee-national-return"))
    try:
        payment = fee_checkout_start(
            dossier=dossier,
            success_url=success,
            cancel_url=back,
            gateway=gateway,
            notify_url=request.build_absolute_uri(reverse("portal-fee-national-ipn")),
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("portal-my-dossier", dossier.code)
    return redirect(payment.url)


@login_required
@require_POST
def fee_check(request: AgencyRequest, code: str) -> HttpResponse:
    """Ask the platform where the dossier's pending payment stands (a lost notification)."""
    dossier = _own_dossier(request, code)
    payment = (
        FeePayment.objects.filter(dossier=dossier, status=FeePaymentStatus.PENDING)
        .exclude(gateway=FeeChannel.STRIPE)
        .first()
    )
    if payment is None:
        messages.info(request, _("There is no payment waiting for confirmation."))
        return redirect("portal-my-dossier", dossier.code)
    try:
        outcome = fee_payment_refresh(payment=payment)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if outcome in ("paid", "already paid"):
            messages.success(request, _("The fee is paid. Thank you."))
        elif outcome == "flagged":
            messages.error(request, _("The amount paid does not match the fee; staff will check."))
        else:
            messages.info(request, _("The payment is not completed yet."))
    return redirect("portal-my-dossier", dossier.code)


@require_GET
def fee_national_return(request: HttpRequest) -> HttpResponse:
    """The citizen comes back from the platform with its signed outcome."""
    outcome = fee_national_callback(params=request.GET.dict())
    if outcome.outcome in ("paid", "already paid"):
        messages.success(request, _("The fee is paid. Thank you."))
    elif outcome.outcome == "not paid":
        messages.info(request, _("The payment was not completed; you can pay again."))
    elif outcome.outcome == "flagged":
        messages.error(request, _("The amount paid does not match the fee; staff will check."))
    else:
        messages.error(
            request,
            _("This payment confirmation could not be verified; nothing was changed."),
        )
    if outcome.dossier_code:
        return redirect("portal-my-dossier", outcome.dossier_code)
    return redirect("portal-my-dossiers")


# The platform's answer codes (what its IPN client reads).
_IPN_ANSWERS = {
    "paid": (200, "00", "Confirmed"),
    "already paid": (200, "02", "Order already confirmed"),
    "not paid": (200, "00", "Noted: not paid"),
    "flagged": (200, "04", "Invalid amount"),
    "unknown": (404, "01", "Order not found"),
    "refused": (400, "97", "Invalid signature or fields"),
}


@csrf_exempt
@require_POST
def fee_national_ipn(request: HttpRequest) -> JsonResponse:
    """The platform's server-to-server notification (IPN), JSON, signed."""
    params: Any = None
    if request.content_type == "application/json":
        try:
            params = json.loads(request.body or b"{}")
        except (ValueError, RawPostDataException):
            params = None
    if not isinstance(params, dict):
        return JsonResponse({"code": "99", "message": "Invalid JSON body"}, status=400)
    outcome = fee_national_callback(params={str(k): str(v) for k, v in params.items()})
    status, code, message = _IPN_ANSWERS[outcome.outcome]
    return JsonResponse(
        {"code": code, "message": message, "detail": outcome.message}, status=status
    )
