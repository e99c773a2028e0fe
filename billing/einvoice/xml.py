"""An issued invoice as the tax authority's e-invoice XML (Decision 1450/QĐ-TCT, format 2.x).

    HDon
      DLHDon Id="data"            the invoice data (what the seller signs)
        TTChung                   general: version, name, form (KHMSHDon), series (KHHDon),
                                  number (SHDon), date (NLap), currency, payment method;
                                  TTHDLQuan: the invoice it replaces or adjusts
        NDHDon                    content: seller (NBan), buyer (NMua), lines (DSHHDVu/HHDVu),
                                  totals (TToan: per rate, before VAT, VAT, total, in words)
      DSCKS/NBan                  the seller's XMLDSig signature (billing.einvoice.signing)

The tax authority adds its code (MCCQT) beside DLHDon when it accepts the invoice.
Amounts are whole đồng; a decrease adjustment's amounts are negative.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from billing.invoicing import BILLING_TIME_ZONE
from billing.models import Invoice, InvoiceKind, InvoiceLine, LineKind, Metric
from billing.vat import vat_totals

VERSION = "2.1.0"
DATA_ID = "data"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
INVOICE_NAME = "Hóa đơn giá trị gia tăng"
PAYMENT_METHOD = "Chuyển khoản"
# Tính chất hóa đơn of the related invoice: 1 replacement, 2 adjustment.
RELATION = {InvoiceKind.REPLACEMENT: "1", InvoiceKind.ADJUSTMENT: "2"}
# The item names and units on the legal document (always Vietnamese).
METRIC_ITEM = {
    Metric.DOSSIER_RECEIVED: ("Hồ sơ tiếp nhận vượt hạn mức", "Hồ sơ"),
    Metric.DOSSIER_ONLINE: ("Hồ sơ trực tuyến vượt hạn mức", "Hồ sơ"),
    Metric.SMS_SENT: ("Tin nhắn SMS vượt hạn mức", "Tin nhắn"),
    Metric.STORAGE_GB_DAY: ("Dung lượng lưu trữ vượt hạn mức", "GB-ngày"),
    Metric.STAFF_SEAT_DAY: ("Tài khoản cán bộ vượt hạn mức", "Người-ngày"),
}


def item_name(line: InvoiceLine, agency_name: str) -> tuple[str, str]:
    """(THHDVu, DVTinh) of a line: what the service is, and its unit."""
    if line.kind == LineKind.ADJUSTMENT:
        return line.description, ""
    if line.kind == LineKind.SUBSCRIPTION:
        days = f" ({line.active_days}/{line.period_days} ngày)" if line.period_days else ""
        return (
            f"{agency_name}: phí thuê bao dịch vụ một cửa điện tử — {line.description}{days}",
            "Tháng",
        )
    name, unit = METRIC_ITEM.get(Metric(line.metric), (line.metric, ""))
    return f"{agency_name}: {name}", unit


def _number(value: Decimal | int) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


def _add(parent: etree._Element, tag: str, text: object = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = str(text)
    return element


def _rate_label(rate: str) -> str:
    return f"{rate}%" if rate.isdigit() else "KCT"


def legal_lines(invoice: Invoice) -> list[InvoiceLine]:
    """The lines printed on the legal invoice: those with an amount (all, if none has one)."""
    lines = list(invoice.lines.select_related("agency").order_by("position"))
    billed = [line for line in lines if line.amount]
    return billed or lines


def invoice_xml(invoice: Invoice) -> etree._Element:
    """The unsigned ``HDon`` of an issued invoice, with an empty signature placeholder."""
    if invoice.legal_number is None or invoice.issued_at is None:
        raise ValueError(f"invoice {invoice.pk} is not issued")
    root = etree.Element("HDon")
    data = _add(root, "DLHDon")
    data.set("Id", DATA_ID)
    general = _add(data, "TTChung")
    _add(general, "PBan", VERSION)
    _add(general, "THDon", INVOICE_NAME)
    _add(general, "KHMSHDon", invoice.form_symbol)
    _add(general, "KHHDon", invoice.series)
    _add(general, "SHDon", invoice.legal_number_display)
    _add(general, "NLap", invoice.issued_at.astimezone(BILLING_TIME_ZONE).date().isoformat())
    _add(general, "DVTTe", "VND")
    _add(general, "TGia", 1)
    _add(general, "HTTToan", PAYMENT_METHOD)
    _add(general, "MSTTCGP", invoice.seller_tax_code)
    if invoice.kind in RELATION and invoice.original is not None:
        original = invoice.original
        related = _add(general, "TTHDLQuan")
        _add(related, "TCHDon", RELATION[InvoiceKind(invoice.kind)])
        _add(related, "LHDCLQuan", 1)  # the related invoice is an e-invoice under Decree 123
        _add(related, "KHMSHDCLQuan", original.form_symbol)
        _add(related, "KHHDCLQuan", original.series)
        _add(related, "SHDCLQuan", original.legal_number_display)
        issued = (
            original.issued_at.astimezone(BILLING_TIME_ZONE).date() if original.issued_at else None
        )
        _add(related, "NLHDCLQuan", issued.isoformat() if issued else "")
        _add(related, "GChu", invoice.correction_reason)
    content = _add(data, "NDHDon")
    seller = _add(content, "NBan")
    _add(seller, "Ten", invoice.seller_name)
    _add(seller, "MST", invoice.seller_tax_code)
    _add(seller, "DChi", invoice.seller_address)
    _add(seller, "STKNHang", invoice.seller_bank_account)
    _add(seller, "TNHang", invoice.seller_bank_name)
    buyer = _add(content, "NMua")
    _add(buyer, "Ten", invoice.payer_name)
    _add(buyer, "MST", invoice.payer_tax_code)
    _add(buyer, "DChi", invoice.payer_address)
    _add(buyer, "DCTDTu", invoice.payer_email)
    items = _add(content, "DSHHDVu")
    lines = legal_lines(invoice)
    for index, line in enumerate(lines, start=1):
        name, unit = item_name(line, line.agency.name)
        item = _add(items, "HHDVu")
        _add(item, "TChat", 1)  # goods or services
        _add(item, "STT", index)
        _add(item, "THHDVu", name)
        if unit:
            _add(item, "DVTinh", unit)
        if line.kind == LineKind.USAGE:
            _add(item, "SLuong", _number(line.billable))
            _add(item, "DGia", line.unit_price)
        else:
            _add(item, "SLuong", 1)
            _add(item, "DGia", line.amount)
        _add(item, "ThTien", line.amount)
        _add(item, "TSuat", _rate_label(line.vat_rate))
    totals = vat_totals((line.amount, line.vat_rate) for line in lines)
    payment = _add(content, "TToan")
    by_rate = _add(payment, "THTTLTSuat")
    for rate in totals.by_rate:
        group = _add(by_rate, "LTSuat")
        _add(group, "TSuat", rate.label)
        _add(group, "ThTien", rate.base)
        _add(group, "TThue", rate.vat)
    _add(payment, "TgTCThue", invoice.subtotal)
    _add(payment, "TgTThue", invoice.vat_amount)
    _add(payment, "TgTTTBSo", invoice.total)
    _add(payment, "TgTTTBChu", invoice.amount_in_words)
    signatures = _add(root, "DSCKS")
    seller_signature = _add(signatures, "NBan")
    placeholder = etree.SubElement(seller_signature, f"{{{DS_NS}}}Signature", nsmap={"ds": DS_NS})
    placeholder.set("Id", "placeholder")
    return root
