"""Sending issued invoices to the tax authority through the e-invoice provider.

An invoice is signed once (its XML is kept, so every retry sends the same bytes under the same
key) and sent; the provider answers with the tax authority's code (recorded on the invoice, once),
"pending" (asked again later), or a refusal (shown to staff with the reasons). A provider that
cannot be reached leaves the invoice "to send": the periodic task tries again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.einvoice.providers import ProviderAnswer, ProviderError, provider_get
from billing.einvoice.providers.base import ACCEPTED, PENDING, REJECTED
from billing.einvoice.signing import SigningError, credentials_load, xml_sign
from billing.einvoice.xml import invoice_xml
from billing.models import BillingEvent, EInvoiceStatus, EInvoiceTransmission, Invoice

WAITING = (EInvoiceStatus.PENDING, EInvoiceStatus.SENT)


EXPIRY_WARNING_DAYS = 30


def einvoice_signing_problem() -> str:
    """Why e-invoices cannot be signed now ('' when they can, or when no provider is set):
    the certificate missing, unreadable, with a wrong password, not valid yet or expired (the
    tax authority refuses those), or expiring within EXPIRY_WARNING_DAYS. For staff to see
    before the month's invoices pile up unsent."""
    if not settings.EINVOICE_PROVIDER_URL:
        return ""
    try:
        certificate = credentials_load().certificate
    except SigningError as exc:
        return str(exc)
    now = timezone.now()
    starts, ends = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if now < starts:
        return f"the signing certificate is not valid before {starts:%Y-%m-%d}"
    if now >= ends:
        return f"the signing certificate expired on {ends:%Y-%m-%d}"
    if now + dt.timedelta(days=EXPIRY_WARNING_DAYS) >= ends:
        return f"the signing certificate expires on {ends:%Y-%m-%d}"
    return ""


def submission_key(invoice: Invoice) -> str:
    return f"{invoice.form_symbol}{invoice.series}-{invoice.legal_number_display}"


def _transmission(invoice_id: int) -> tuple[Invoice, EInvoiceTransmission | None]:
    """The invoice, and its transmission with the signed XML (signed now if it has none)."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
        if invoice.einvoice_status not in WAITING:
            return invoice, None
        existing = EInvoiceTransmission.objects.filter(invoice=invoice).first()
        if existing is not None:
            return invoice, existing
        signed = xml_sign(invoice_xml(invoice), credentials_load())
        transmission = EInvoiceTransmission.objects.create(
            invoice=invoice, provider=str(settings.EINVOICE_PROVIDER), signed_xml=signed.decode()
        )
        return invoice, transmission


def _record(invoice: Invoice, transmission: EInvoiceTransmission, answer: ProviderAnswer) -> str:
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        transmission.remote_id = answer.remote_id or transmission.remote_id
        transmission.answered_at = timezone.now()
        transmission.last_error = "\n".join(answer.errors)
        fields = ["einvoice_status"]
        if answer.status == ACCEPTED and answer.tax_authority_code:
            invoice.einvoice_status = EInvoiceStatus.ACCEPTED
            if not invoice.tax_authority_code:
                invoice.tax_authority_code = answer.tax_authority_code
                fields.append("tax_authority_code")
            transmission.authority_xml = answer.authority_xml
            event = "einvoice_accepted"
        elif answer.status == REJECTED:
            invoice.einvoice_status = EInvoiceStatus.REJECTED
            event = "einvoice_rejected"
        else:
            invoice.einvoice_status = EInvoiceStatus.SENT
            event = "einvoice_sent"
        invoice.save(update_fields=fields)
        transmission.save(update_fields=["remote_id", "answered_at", "last_error", "authority_xml"])
        BillingEvent.objects.create(
            billing_account_id=invoice.billing_account_id,
            invoice=invoice,
            event=event,
            detail={"key": submission_key(invoice), "remote_id": transmission.remote_id,
                    "code": invoice.tax_authority_code, "errors": list(answer.errors)},
        )  # fmt: skip
    return str(invoice.einvoice_status)


def _failed(transmission: EInvoiceTransmission | None, error: str) -> str:
    if transmission is not None:
        EInvoiceTransmission.objects.filter(pk=transmission.pk).update(last_error=error[:2000])
    return f"retry: {error}"


def einvoice_send(*, invoice_id: int) -> str:
    """Send one issued invoice (or ask for its status); what it stands at now."""
    if not settings.EINVOICE_PROVIDER_URL:
        return "not configured"
    try:
        invoice, transmission = _transmission(invoice_id)
    except SigningError as exc:
        return f"retry: {exc}"
    if transmission is None:
        return str(invoice.einvoice_status)
    provider = provider_get(transmission.provider)
    EInvoiceTransmission.objects.filter(pk=transmission.pk).update(
        attempts=transmission.attempts + 1, sent_at=timezone.now()
    )
    try:
        if invoice.einvoice_status == EInvoiceStatus.SENT and transmission.remote_id:
            answer = provider.status(remote_id=transmission.remote_id)
        else:
            answer = provider.submit(
                key=submission_key(invoice), signed_xml=transmission.signed_xml.encode()
            )
    except ProviderError as exc:
        return _failed(transmission, str(exc))
    if answer.status not in (ACCEPTED, PENDING, REJECTED):
        return _failed(transmission, f"unexpected status {answer.status!r}")
    return _record(invoice, transmission, answer)


@dataclass
class SendReport:
    outcomes: dict[str, str] = field(default_factory=dict)


def einvoices_send_due(*, limit: int = 500) -> SendReport:
    """Every issued invoice not yet coded by the tax authority, oldest first."""
    report = SendReport()
    if not settings.EINVOICE_PROVIDER_URL:
        return report
    due = (
        Invoice.objects.filter(einvoice_status__in=WAITING)
        .order_by("issued_at", "pk")
        .values_list("pk", "number")[:limit]
    )
    for pk, number in due:
        report.outcomes[number or str(pk)] = einvoice_send(invoice_id=pk)
    return report


@transaction.atomic
def einvoice_retry(*, invoice: Invoice, actor_email: str = "") -> Invoice:
    """Send a refused e-invoice again, signed afresh (its content never changes: a refusal for
    its content is corrected by a replacement invoice instead)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.einvoice_status != EInvoiceStatus.REJECTED:
        raise ValidationError(_("Only an e-invoice the tax authority refused can be sent again."))
    EInvoiceTransmission.objects.filter(invoice=invoice).delete()
    invoice.einvoice_status = EInvoiceStatus.PENDING
    invoice.save(update_fields=["einvoice_status"])
    BillingEvent.objects.create(
        billing_account_id=invoice.billing_account_id,
        invoice=invoice,
        event="einvoice_retry",
        actor_email=actor_email,
        detail={"key": submission_key(invoice)},
    )
    _send_after_commit()
    return invoice


def _send_after_commit() -> None:
    from billing.tasks import einvoices_send_due as task

    transaction.on_commit(lambda: task.delay())
