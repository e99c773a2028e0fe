"""Form 01 (giấy tiếp nhận hồ sơ và hẹn trả kết quả) as a PDF: A4, drawn with ReportLab.

The text is Vietnamese (or English, per the active language), in DejaVu Serif shipped in
``static/fonts/`` (Bitstream Vera licence, see LICENSE-DejaVu.txt) and embedded as a TrueType
subset: the PDF never depends on the reader's fonts. The tracking QR code is drawn as vector
squares from segno's matrix, sharp on any printer.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import segno
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from dossiers.models import Dossier

FONT = "MotCuaSerif"
FONT_BOLD = "MotCuaSerif-Bold"


def font_dir() -> Path:
    return Path(settings.BASE_DIR) / "static" / "fonts"


@cache
def fonts_register() -> None:
    """Register the embedded fonts once per process."""
    pdfmetrics.registerFont(TTFont(FONT, str(font_dir() / "DejaVuSerif.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(font_dir() / "DejaVuSerif-Bold.ttf")))


@dataclass(frozen=True)
class ReceiptFacts:
    """What the receipt shows, already formatted (the view gathers it; this module draws)."""

    agency_name: str
    code: str
    lookup_secret: str
    applicant_name: str
    applicant_address: str
    procedure: str
    received: str
    due: str
    documents: list[str]
    tracking_url: str


def receipt_facts(*, dossier: Dossier, agency_name: str, tracking_url: str) -> ReceiptFacts:
    spec = dossier.procedure_version.spec
    received_at = timezone.localtime(dossier.received_at)
    return ReceiptFacts(
        agency_name=agency_name,
        code=dossier.code,
        lookup_secret=dossier.lookup_secret,
        applicant_name=dossier.applicant_name,
        applicant_address=dossier.applicant_address or "",
        procedure=f"{spec.name} ({spec.code})",
        received=f"{received_at:%H:%M, %d/%m/%Y} · {dossier.get_channel_display()}",
        due=f"{dossier.due_date:%d/%m/%Y}",
        documents=[f"{d.component_name}: {d.original_name}" for d in dossier.documents.all()],
        tracking_url=tracking_url,
    )


def _qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    matrix = [list(row) for row in segno.make(data, error="m").matrix_iter(border=2)]
    cell = size / len(matrix)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(x + c * cell, y + size - (r + 1) * cell, cell, cell, stroke=0, fill=1)


def _centered_lines(
    canvas: Canvas, lines: Sequence[tuple[str, str, float]], cx: float, y: float
) -> float:
    for text, font, size in lines:
        canvas.setFont(font, size)
        canvas.drawCentredString(cx, y, text)
        y -= size * 1.35
    return y


def receipt_pdf(facts: ReceiptFacts) -> bytes:
    """The receipt as PDF bytes (one A4 page; the list of documents continues on more)."""
    fonts_register()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{_('Receipt')} {facts.code}")
    canvas.setAuthor(facts.agency_name)
    canvas.setSubject(_("Form 01"))
    width, height = A4
    left, right, top, bottom = 25 * mm, width - 18 * mm, height - 20 * mm, 20 * mm
    text_width = right - left

    # Header: the agency on the left, the national motto on the right (Decree 30/2020 layout).
    column = text_width * 0.42 - 4 * mm
    agency_lines = [
        (line, FONT, 10.5) for line in simpleSplit(facts.agency_name.upper(), FONT, 10.5, column)
    ] + [
        (line, FONT_BOLD, 10.5) for line in simpleSplit(_("ONE-STOP DESK"), FONT_BOLD, 10.5, column)
    ]
    agency_bottom = _centered_lines(canvas, agency_lines, left + text_width * 0.21, top)
    y = _centered_lines(
        canvas,
        [
            (_("SOCIALIST REPUBLIC OF VIET NAM"), FONT_BOLD, 11),
            (_("Independence – Freedom – Happiness"), FONT_BOLD, 11),
        ],
        left + text_width * 0.71,
        top,
    )
    y = min(y, agency_bottom) - 8 * mm
    canvas.setFont(FONT, 10)
    canvas.drawRightString(right, y, _("Form 01"))
    y -= 9 * mm
    canvas.setFont(FONT_BOLD, 14)
    for line in simpleSplit(_("RECEIPT AND APPOINTMENT FOR RESULT"), FONT_BOLD, 14, text_width):
        canvas.drawCentredString(width / 2, y, line)
        y -= 19
    y -= 4 * mm

    # Facts on the left, the QR code on the right.
    qr_size = 34 * mm
    qr_top = y + 4 * mm
    _qr(canvas, facts.tracking_url, right - qr_size, qr_top - qr_size, qr_size)
    canvas.setFont(FONT, 8)
    canvas.drawCentredString(
        right - qr_size / 2, qr_top - qr_size - 10, _("Scan to track this dossier")
    )
    label_width = 46 * mm
    value_width = text_width - label_width - qr_size - 6 * mm
    rows = [
        (_("Dossier code"), facts.code),
        (_("Applicant"), facts.applicant_name),
        (_("Address"), facts.applicant_address),
        (_("Procedure"), facts.procedure),
        (pgettext("date label", "Received"), facts.received),
        (_("Result due"), facts.due),
        (_("Lookup code"), facts.lookup_secret),
    ]
    for label, value in rows:
        if not value:
            continue
        label_y = value_y = y
        canvas.setFont(FONT_BOLD, 11)
        for line in simpleSplit(label, FONT_BOLD, 11, label_width - 3 * mm):
            canvas.drawString(left, label_y, line)
            label_y -= 15
        canvas.setFont(FONT, 11)
        for line in simpleSplit(value, FONT, 11, value_width):
            canvas.drawString(left + label_width, value_y, line)
            value_y -= 15
        y = min(label_y, value_y) - 3
    y = min(y, qr_top - qr_size - 24) - 4 * mm

    canvas.setFont(FONT_BOLD, 12)
    canvas.drawString(left, y, _("Documents received"))
    y -= 17
    canvas.setFont(FONT, 11)
    for n, doc in enumerate(facts.documents or ["—"], start=1):
        for i, line in enumerate(simpleSplit(doc, FONT, 11, text_width - 8 * mm)):
            if y < bottom + 30 * mm:
                canvas.showPage()
                canvas.setFont(FONT, 11)
                y = top
            canvas.drawString(left, y, f"{n}." if i == 0 else "")
            canvas.drawString(left + 8 * mm, y, line)
            y -= 15
    y -= 6 * mm
    canvas.setFont(FONT, 9.5)
    note = _(
        "Keep this receipt. Anyone holding the dossier code and the lookup code can see the "
        "progress of this dossier on the agency's portal, under “Track a dossier”."
    )
    for line in simpleSplit(note, FONT, 9.5, text_width):
        canvas.drawString(left, y, line)
        y -= 12
    canvas.showPage()
    canvas.save()
    return out.getvalue()
