"""Billing pages: the agency admin's usage and invoices (agency host), the provider's revenue,
unpaid invoices, anomalies and invoice handling (public host, provider staff)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.permissions import agency_role_required
from accounts.provider_staff import provider_staff_required
from billing import selectors
from billing.bank_webhook import HEADER as BANK_SIGNATURE_HEADER
from billing.bank_webhook import BankWebhookRejected, bank_webhook_receive
from billing.corrections import AdjustmentLine, invoice_adjust, invoice_replace
from billing.einvoice.services import einvoice_signing_problem
from billing.forms import (
    AdjustmentForm,
    LineDismissForm,
    LineResolveForm,
    OverpaymentResolveForm,
    PaymentForm,
    ReplacementForm,
    StatementUploadForm,
)
from billing.gateways.bank_transfer import bank_transfer_record
from billing.models import (
    BankStatementLine,
    BillingAccount,
    EInvoiceTransmission,
    Invoice,
    Overpayment,
)
from billing.overpayments import overpayment_resolve
from billing.reconciliation import statement_line_dismiss, statement_line_resolve
from billing.statements import MAX_BYTES, StatementFileError, statement_import
from billing.webhooks import WebhookRejected, webhook_event_receive
from core.inputs import keeps_raw_body
from tenants.units import provinces


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
            "statement_queued": selectors.statement_lines_queued().count(),
            "einvoices_waiting": list(selectors.einvoices_waiting()[:100]),
            "einvoice_signing_problem": einvoice_signing_problem(),
        },
    )


def _invoice_context(invoice: Invoice) -> dict[str, Any]:
    """What the invoice sheet shows (console and agency pages alike)."""
    return {
        "invoice": invoice,
        "lines": invoice.lines.select_related("agency").order_by("position"),
        "vat": selectors.invoice_vat_breakdown(invoice=invoice),
        "qr": selectors.invoice_payment_qr(invoice=invoice),
        "corrections": invoice.corrections.order_by("issued_at", "pk"),
        "signed": EInvoiceTransmission.objects.filter(invoice=invoice).exists(),
    }


@provider_staff_required
def console_invoice(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(
        Invoice.objects.select_related("billing_account", "original"), pk=pk
    )
    transmission = EInvoiceTransmission.objects.filter(invoice=invoice).first()
    return render(
        request,
        "billing/invoice.html",
        {
            **_invoice_context(invoice),
            "console": True,
            "transmission": transmission,
            "payments": invoice.payments.select_related("carried_from__invoice"),
            "credit_notes": invoice.credit_notes.all(),
            "overpayments": invoice.overpayments.all(),
            "resolve_form": OverpaymentResolveForm(),
            "payment_form": PaymentForm(
                initial={"amount": max(invoice.balance, 0), "received_on": timezone.localdate()}
            ),
            "adjustment_form": AdjustmentForm(),
            "replacement_form": ReplacementForm(),
        },
    )


@agency_role_required("admin")
def agency_invoice(request: HttpRequest, pk: int) -> HttpResponse:
    """An invoice that bills this agency, printable, with its VietQR while it is unpaid."""
    agency: Any = request.tenant  # type: ignore[attr-defined]
    invoice = selectors.invoice_for_agency(agency=agency, pk=pk)
    if invoice is None:
        raise Http404
    return render(request, "billing/agency_invoice.html", _invoice_context(invoice))


def _invoice_pdf_response(invoice: Invoice) -> HttpResponse:
    from django.http import FileResponse

    from billing.invoice_pdf import invoice_pdf

    name = (
        f"{invoice.form_symbol}{invoice.series}-{invoice.legal_number_display}.pdf"
        if invoice.legal_number is not None
        else f"hoa-don-{invoice.number or invoice.pk}.pdf"
    )
    response = FileResponse(invoice_pdf(invoice), content_type="application/pdf", filename=name)
    response["Cache-Control"] = "private, no-store"
    return response  # type: ignore[return-value]


@provider_staff_required
def console_invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The invoice as PDF (its readable form; the legal original is the signed XML)."""
    invoice = get_object_or_404(
        Invoice.objects.select_related("billing_account", "original"), pk=pk
    )
    return _invoice_pdf_response(invoice)


@agency_role_required("admin")
def agency_invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """An invoice that bills this agency, as PDF (404 for any other invoice)."""
    agency: Any = request.tenant  # type: ignore[attr-defined]
    invoice = selectors.invoice_for_agency(agency=agency, pk=pk)
    if invoice is None:
        raise Http404
    return _invoice_pdf_response(invoice)


@provider_staff_required
def console_invoice_xml(request: HttpRequest, pk: int) -> HttpResponse:
    """The signed e-invoice XML (with the tax authority's code once granted)."""
    transmission = get_object_or_404(
        EInvoiceTransmission.objects.select_related("invoice"), invoice_id=pk
    )
    invoice = transmission.invoice
    response = HttpResponse(
        transmission.authority_xml or transmission.signed_xml,
        content_type="application/xml; charset=utf-8",
    )
    name = f"{invoice.form_symbol}{invoice.series}-{invoice.legal_number_display}.xml"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


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
def console_invoice_adjust(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue an adjustment invoice (increase or decrease) for one line of an invoice."""
    invoice = get_object_or_404(Invoice, pk=pk)
    form = AdjustmentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            adjustment = invoice_adjust(
                invoice=invoice,
                direction=data["direction"],
                lines=[AdjustmentLine(position=data["position"], amount=data["amount"],
                                      description=data["description"])],
                reason=data["reason"],
                actor_email=request.user.email,  # type: ignore[union-attr]
            )  # fmt: skip
        except ValidationError as exc:
            _errors(request, exc.messages)
        else:
            messages.success(
                request,
                _("The adjustment invoice %(number)s was issued.") % {"number": adjustment.number},
            )
            return redirect("console-invoice", pk=adjustment.pk)
    else:
        _form_errors(request, form)
    return redirect("console-invoice", pk=invoice.pk)


@provider_staff_required
@require_POST
def console_invoice_replace(request: HttpRequest, pk: int) -> HttpResponse:
    """Replace an invoice nothing was paid on with a new one (the payer's current details)."""
    invoice = get_object_or_404(Invoice, pk=pk)
    form = ReplacementForm(request.POST)
    if form.is_valid():
        try:
            replacement = invoice_replace(
                invoice=invoice,
                reason=form.cleaned_data["reason"],
                actor_email=request.user.email,  # type: ignore[union-attr]
            )
        except ValidationError as exc:
            _errors(request, exc.messages)
        else:
            messages.success(
                request,
                _("The replacement invoice %(number)s was issued; %(old)s is void.")
                % {"number": replacement.number, "old": invoice.number},
            )
            return redirect("console-invoice", pk=replacement.pk)
    else:
        _form_errors(request, form)
    return redirect("console-invoice", pk=invoice.pk)


@provider_staff_required
@require_POST
def console_invoice_einvoice_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Send an e-invoice the tax authority refused again, signed afresh (after the cause — a
    certificate, the provider's settings — was fixed)."""
    from billing.einvoice.services import einvoice_retry

    invoice = get_object_or_404(Invoice, pk=pk)
    try:
        einvoice_retry(invoice=invoice, actor_email=request.user.email)  # type: ignore[union-attr]
    except ValidationError as exc:
        _errors(request, exc.messages)
    else:
        messages.success(request, _("The e-invoice will be sent again."))
    return redirect("console-invoice", pk=invoice.pk)


def _errors(request: HttpRequest, texts: list[str]) -> None:
    for text in texts:
        messages.error(request, text)


def _form_errors(request: HttpRequest, form: Any) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


# --- bank statements: import, queue, bank notifications ------------------------------------

STATEMENT_EXTENSIONS = (".csv", ".txt", ".xlsx", ".xls")


@provider_staff_required
def console_statements(request: HttpRequest) -> HttpResponse:
    """Import a bank statement export; the transfers staff must match by hand."""
    form = StatementUploadForm()
    if request.method == "POST":
        form = StatementUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["statement"]
            name = str(upload.name or "")
            if not name.lower().endswith(STATEMENT_EXTENSIONS):
                messages.error(
                    request,
                    _("“%(name)s” is not a CSV or Excel file (.csv, .xlsx, .xls): nothing was"
                      " imported.") % {"name": name},
                )  # fmt: skip
            else:
                try:
                    report = statement_import(
                        filename=name,
                        data=upload.read(MAX_BYTES + 1),
                        actor_email=request.user.email,  # type: ignore[union-attr]
                    )
                except StatementFileError as exc:
                    messages.error(
                        request,
                        _("The statement “%(name)s” was not imported, nothing was applied: "
                          "%(problem)s") % {"name": name, "problem": exc},
                    )  # fmt: skip
                else:
                    messages.success(
                        request,
                        _("Statement imported: %(applied)s transfer(s) applied to invoices,"
                          " %(queued)s to resolve by hand, %(known)s already known, %(hand)s"
                          " already recorded by hand.")
                        % {"applied": report.applied, "queued": report.queued,
                           "known": report.already_known, "hand": report.recorded_by_hand},
                    )  # fmt: skip
                    return redirect("console-statements")
        else:
            _form_errors(request, form)
    return render(
        request,
        "billing/console_statements.html",
        {
            "form": form,
            "queued": list(selectors.statement_lines_queued()[:300]),
            "recent": list(selectors.statement_lines_recent()),
            "resolve_form": LineResolveForm(),
            "dismiss_form": LineDismissForm(),
        },
    )


@provider_staff_required
@require_POST
def console_statement_line_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    line = get_object_or_404(BankStatementLine, pk=pk)
    actor = request.user.email  # type: ignore[union-attr]
    if request.POST.get("action") == "dismiss":
        form: Any = LineDismissForm(request.POST)
        action: Any = lambda data: statement_line_dismiss(  # noqa: E731
            line=line, note=data["note"], actor_email=actor
        )
        done = _("The transfer was set aside.")
    else:
        form = LineResolveForm(request.POST)
        action = lambda data: statement_line_resolve(  # noqa: E731
            line=line, invoices=data["invoices"], note=data["note"], actor_email=actor
        )
        done = _("The transfer was applied to the invoices.")
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except ValidationError as exc:
            _errors(request, exc.messages)
        else:
            messages.success(request, done)
    else:
        _form_errors(request, form)
    return redirect(f"{reverse('console-statements')}#queue")


@csrf_exempt
@keeps_raw_body  # the signature covers the exact bytes the bank sent
@require_POST
def bank_webhook(request: HttpRequest) -> HttpResponse:
    """The bank's notification of a transfer into our account (public host): verified, stored
    once per bank transaction, reconciled at once."""
    try:
        outcome = bank_webhook_receive(
            body=request.body, signature=request.headers.get(BANK_SIGNATURE_HEADER, "")
        )
    except BankWebhookRejected as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    return JsonResponse(
        {"received": True, "status": outcome.status, "invoices": list(outcome.invoices)}
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
