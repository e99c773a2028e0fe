"""The provider's invoice as PDF (the readable form of the e-invoice, Decree 123/2020/NĐ-CP
art. 10): form and series symbols, number, date, the tax authority's code, seller and buyer
with their tax codes and addresses, the lines with their VAT rates, the totals per rate, the
total in words, the seller's digital signature; laid out by ``documents.pdf`` (A4, DejaVu
Serif embedded). The legal original stays the signed XML (``billing.einvoice``).
"""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from billing import selectors
from billing.models import EInvoiceTransmission, Invoice, InvoiceKind
from documents import sheets
from documents.pdf import MM, Sheet, Signature, sheet_pdf


def _money(amount: int) -> str:
    # "đ", not "₫": DejaVu Serif has no glyph for U+20AB (it would print as a blank box).
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(int(amount)):,}".replace(",", ".") + " đ"


def _rate(rate: str) -> str:
    if rate == "KCT":
        return _("KCT")
    return f"{rate}%" if rate else "—"


def _item(line: Any) -> str:
    if line.kind == "adjustment" or not (line.metric or line.period_days):
        return str(line.description)
    if line.metric:
        return str(line.get_metric_display())
    return f"{_('Monthly fee')} — {line.description} ({line.active_days}/{line.period_days})"


def invoice_sheet(invoice: Invoice) -> Sheet:
    legal = invoice.legal_number is not None
    account = invoice.billing_account
    seller = invoice.seller_name or "MotCua Cloud"
    sheet = Sheet(
        agency=seller,
        title=_("VAT INVOICE") if legal else f"{_('INVOICE')} {invoice.number or _('(draft)')}",
        issued=timezone.localtime(invoice.issued_at).date() if invoice.issued_at else None,
    )
    facts: list[tuple[str, str]] = []
    if legal:
        if invoice.kind == InvoiceKind.REPLACEMENT:
            sheet.form_no = _("Replacement invoice")
        elif invoice.kind == InvoiceKind.ADJUSTMENT:
            sheet.form_no = (
                _("Adjustment invoice (increase)")
                if invoice.adjustment == "increase"
                else _("Adjustment invoice (decrease)")
            )
        facts += [
            (_("Form symbol"), invoice.form_symbol),
            (_("Series symbol"), invoice.series),
            (_("No."), invoice.legal_number_display),
            (
                _("Date"),
                f"{timezone.localtime(invoice.issued_at):%d/%m/%Y}" if invoice.issued_at else "",
            ),
            (
                _("Tax authority code"),
                invoice.tax_authority_code or str(invoice.get_einvoice_status_display()),
            ),
        ]
    facts += [
        (_("Seller"), seller),
        (_("Tax code"), invoice.seller_tax_code),
        (_("Address"), invoice.seller_address),
        (_("Bank account"), f"{invoice.seller_bank_account} · {invoice.seller_bank_name}"),
        (_("Buyer"), invoice.payer_name or account.name),
        (_("Tax code"), invoice.payer_tax_code or account.tax_code),
        (_("Address"), invoice.payer_address or account.address),
        (_("Payment reference"), invoice.number or "—"),
        (
            _("Period"),
            f"{invoice.period_start:%d/%m/%Y} – {invoice.period_end:%d/%m/%Y}",
        ),
    ]
    if invoice.original_id and invoice.original is not None:
        o = invoice.original
        facts.append(
            (
                _("Reason"),
                f"{o.form_symbol}{o.series} {o.legal_number_display}: {invoice.correction_reason}",
            )
        )
    sheet.facts = [(k, v) for k, v in facts if v and v.strip(" ·")]
    rows = [
        [
            str(line.position),
            line.agency.name,
            _item(line),
            _money(line.unit_price) if line.kind != "adjustment" else "",
            _money(line.amount),
            _rate(line.vat_rate),
        ]
        for line in invoice.lines.select_related("agency").order_by("position")
    ]
    sheet.table = (
        ["#", _("Agency"), _("Item"), _("Unit price"), _("Amount before VAT"), _("VAT rate")],
        rows,
    )
    sheet.table_widths = [w * MM for w in (8, 36, 56, 22, 26, 17)]
    totals: list[str] = []
    if legal:
        for r in selectors.invoice_vat_breakdown(invoice=invoice).by_rate:
            label = _rate(r.rate)
            totals.append(f"{_('Amount before VAT')} ({label}): {_money(r.base)}")
            if r.rate != "KCT":
                totals.append(f"{_('VAT amount')} ({label}): {_money(r.vat)}")
        totals += [
            f"{_('Total before VAT')}: {_money(invoice.subtotal)}",
            f"{_('VAT amount')}: {_money(invoice.vat_amount)}",
            f"{_('Total payment')}: {_money(invoice.total)}",
            f"{_('Amount in words')}: {invoice.amount_in_words}",
        ]
    else:
        totals.append(f"{_('Total')}: {_money(invoice.total)}")
    if invoice.amount_paid:
        totals.append(f"{_('Paid')}: −{_money(invoice.amount_paid)}")
    sheet.footer = "\n".join(totals)
    signed = EInvoiceTransmission.objects.filter(invoice=invoice).exists()
    sheet.signature = Signature(
        title=_("Seller"),
        note=(
            _("Signed digitally by %(name)s") % {"name": seller}
            if signed
            else _("(not signed yet)")
        ),
    )
    qr = selectors.invoice_payment_qr(invoice=invoice)
    if qr is not None:
        sheet.qr = [(qr.payload, _("Scan with any banking app to pay by transfer (VietQR)"))]
    sheet.metadata = {"subject": invoice.number or "", "author": seller}
    return sheet


def invoice_pdf(invoice: Invoice) -> io.BytesIO:
    """The invoice's PDF, ready to stream."""
    out = io.BytesIO()
    sheet_pdf(invoice_sheet(invoice), out, texts=sheets.texts())
    out.seek(0)
    return out
