"""Billing pages: the agency admin's usage and invoices (agency host), the provider's revenue,
unpaid invoices, anomalies and invoice handling (public host, provider staff)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.permissions import agency_role_required
from billing import selectors
from billing.forms import CreditNoteForm, OverpaymentResolveForm, PaymentForm
from billing.gateways.bank_transfer import bank_transfer_record
from billing.invoicing import credit_note_issue
from billing.models import BillingAccount, Invoice, Overpayment
from billing.overpayments import overpayment_resolve
from billing.webhooks import WebhookRejected, webhook_event_receive
from console.access import provider_staff_required
from onboarding.units import provinces
from ops.inputs import keeps_raw_body


@agency_role_required("admin")
def agency_billing(request: HttpRequest) -> HttpResponse:
    agency: Any = request.tenant  # type: ignore[attr-defined]
    today = timezone.localdate()
    summary = selectors.agency_usage_month(agency=agency, today=today)
    received = selectors.received_per_day(summary)
    return render(
        request,
        "billing/agency_billing.html",
        {
            "subscription": selectors.current_subscription(agency=agency),
            "summary": summary,
            "invoices": selectors.agency_invoice_shares(agency=agency),
            "received_per_day": received,
        },
    )


@provider_staff_required
def console_billing(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    names = provinces()
    revenue = selectors.revenue_by_province_month(today=today)
    months: dict[str, int] = {}
    table: dict[str, dict[str, int]] = {}
    for row in revenue:
        month = row["month"].strftime("%m/%Y")
        months[month] = months.get(month, 0) + row["amount"]
        province = names.get(row["agency__province_code"], row["agency__province_code"])
        table.setdefault(province, {})[month] = row["amount"]
    unpaid = list(selectors.unpaid_invoices(today=today)[:300])
    stuck = selectors.meter_outbox_stuck(now=timezone.now())
    for invoice in unpaid:
        invoice.days_late = (today - invoice.due_on).days if invoice.due_on else 0  # type: ignore[attr-defined]
    return render(
        request,
        "billing/console_billing.html",
        {
            "months": list(months.items()),
            "month_names": list(months),
            "province_rows": sorted(table.items()),
            "unpaid": unpaid,
            "unpaid_total": sum(i.balance for i in unpaid),
            "anomalies": selectors.usage_anomalies(today=today)[:50],
            "accounts": BillingAccount.objects.exclude(status="good").order_by("name"),
            "overpayments": list(selectors.overpayments_to_resolve()[:200]),
            "meter_stuck": list(stuck[:100]),
            "meter_stuck_count": stuck.count(),
            "resolve_form": OverpaymentResolveForm(),
        },
    )


@provider_staff_required
def console_invoice(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice.objects.select_related("billing_account"), pk=pk)
    lines = invoice.lines.select_related("agency").order_by("position")
    return render(
        request,
        "billing/invoice.html",
        {
            "invoice": invoice,
            "lines": lines,
            "payments": invoice.payments.select_related("carried_from__invoice"),
            "credit_notes": invoice.credit_notes.all(),
            "overpayments": invoice.overpayments.all(),
            "resolve_form": OverpaymentResolveForm(),
            "payment_form": PaymentForm(
                initial={"amount": invoice.balance, "received_on": timezone.localdate()}
            ),
            "credit_form": CreditNoteForm(),
        },
    )


def _apply(
    request: HttpRequest, invoice: Invoice, form: Any, action: Any, done: str
) -> HttpResponse:
    if form.is_valid():
        try:
            action(**form.cleaned_data)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, done)
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
    return redirect("console-invoice", pk=invoice.pk)


@provider_staff_required
@require_POST
def console_invoice_payment(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    return _apply(
        request,
        invoice,
        PaymentForm(request.POST),
        # A transfer also settles the invoice's Stripe copy, if it has one (paid out of band).
        lambda **data: bank_transfer_record(
            invoice=invoice,
            actor_email=request.user.email,  # type: ignore[union-attr]
            **data,
        ),
        _("The payment was recorded."),
    )


@provider_staff_required
@require_POST
def console_invoice_credit(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    return _apply(
        request,
        invoice,
        CreditNoteForm(request.POST),
        lambda **data: credit_note_issue(invoice=invoice, actor_email=request.user.email, **data),  # type: ignore[union-attr]
        _("The credit note was issued."),
    )


@provider_staff_required
@require_POST
def console_overpayment_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Resolve an overpayment: the refund made is recorded, or it is credited to the payer."""
    overpayment = get_object_or_404(Overpayment, pk=pk)
    form = OverpaymentResolveForm(request.POST)
    if form.is_valid():
        try:
            overpayment_resolve(
                overpayment=overpayment,
                action=form.cleaned_data["action"],
                note=form.cleaned_data["note"],
                actor_email=request.user.email,  # type: ignore[union-attr]
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The overpayment was resolved."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    if request.POST.get("back") == "invoice":
        return redirect("console-invoice", pk=overpayment.invoice_id)
    return redirect(f"{reverse('console-billing')}#overpayments")


@provider_staff_required
@require_POST
def console_meter_events_requeue(request: HttpRequest) -> HttpResponse:
    """Send stuck meter events to Stripe again (checked against Stripe's summary first when
    Stripe may already have counted them)."""
    from billing.outbox import meter_outbox_requeue

    raw = request.POST.getlist("rows")
    if not raw or not all(value.isdigit() for value in raw):
        messages.error(request, _("Choose the meter events to send again."))
    else:
        report = meter_outbox_requeue(
            ids=[int(value) for value in raw],
            actor_email=request.user.email,  # type: ignore[union-attr]
        )
        if report.requeued:
            messages.success(
                request,
                _(
                    "%(n)s meter event(s) will be sent to Stripe again (%(checked)s after a"
                    " check against Stripe's summary)."
                )
                % {"n": report.requeued, "checked": report.to_verify},
            )
        if report.too_old:
            messages.error(
                request,
                _(
                    "%(n)s meter event(s) are older than Stripe's 35 days and can no longer be"
                    " reported to Stripe; our invoices still bill them from the ledger."
                )
                % {"n": report.too_old},
            )
    return redirect(f"{reverse('console-billing')}#meter-events")


@csrf_exempt
@keeps_raw_body  # the signature covers the exact bytes Stripe sent
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's webhook (public host): verify the signature on the raw body, store the event
    once, answer at once; processing is asynchronous (billing.webhooks)."""
    try:
        event, queued = webhook_event_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except WebhookRejected as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    return JsonResponse({"received": True, "id": event.event_id, "queued": queued})
