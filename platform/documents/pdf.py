"""Official paper as PDF (ReportLab): A4, the layout of Decree 30/2020/NĐ-CP, Vietnamese text in
an embedded serif font, the QR code.

A :class:`Sheet` says what a document holds (agency, form number, title, facts, paragraphs,
lists, a table, the signature block, QR codes); :func:`sheet_pdf` lays it out. The register
(Form 07) is long, so :func:`register_pdf` draws it page by page straight from an iterator of
rows, keeping in memory only the page being drawn and the compressed pages already written.

The font is DejaVu Serif, shipped in ``static/fonts/`` (Bitstream Vera licence) and embedded
(subset) in every PDF: the Debian Liberation Serif lacks most Vietnamese letters with two marks
(ệ, ộ, ữ …), and a PDF must never depend on the reader's fonts or on a CDN.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

import segno
from django.conf import settings
from django.utils import timezone
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

SERIF = "MotCuaSerif"
SERIF_BOLD = "MotCuaSerif-Bold"
SERIF_ITALIC = "MotCuaSerif-Italic"
# Decree 30/2020 (appendix I): top and bottom 20–25 mm, left 30–35 mm, right 15–20 mm.
MARGINS = {"top": 20 * mm, "bottom": 20 * mm, "left": 30 * mm, "right": 15 * mm}
BODY_SIZE = 13
MM: float = mm


def font_dir() -> Path:
    return Path(settings.BASE_DIR) / "static" / "fonts"


@cache
def fonts_register() -> None:
    """Register the embedded fonts once per process."""
    base = font_dir()
    pdfmetrics.registerFont(TTFont(SERIF, str(base / "DejaVuSerif.ttf")))
    pdfmetrics.registerFont(TTFont(SERIF_BOLD, str(base / "DejaVuSerif-Bold.ttf")))
    pdfmetrics.registerFont(TTFont(SERIF_ITALIC, str(base / "DejaVuSerif-Italic.ttf")))
    pdfmetrics.registerFontFamily(
        SERIF, normal=SERIF, bold=SERIF_BOLD, italic=SERIF_ITALIC, boldItalic=SERIF_BOLD
    )


def _style(name: str, **kw: Any) -> ParagraphStyle:
    base: dict[str, Any] = {"fontName": SERIF, "fontSize": BODY_SIZE, "leading": BODY_SIZE * 1.3}
    base.update(kw)
    return ParagraphStyle(name, **base)


@cache
def styles() -> dict[str, ParagraphStyle]:
    fonts_register()
    return {
        "body": _style("body", alignment=TA_JUSTIFY, spaceAfter=4),
        "small": _style("small", fontSize=10.5, leading=13, textColor=colors.HexColor("#333333")),
        "head": _style("head", fontSize=12, leading=15, alignment=TA_CENTER),
        "nation": _style(
            "nation", fontName=SERIF_BOLD, fontSize=12, leading=16, alignment=TA_CENTER
        ),
        "place": _style("place", fontName=SERIF_ITALIC, alignment=TA_RIGHT, spaceBefore=4),
        "form_no": _style("form_no", fontSize=10.5, alignment=TA_RIGHT),
        "title": _style(
            "title",
            fontName=SERIF_BOLD,
            fontSize=14,
            leading=18,
            alignment=TA_CENTER,
            spaceBefore=8,
            spaceAfter=8,
        ),
        "cell": _style("cell", fontSize=10, leading=12),
        "cell_bold": _style("cell_bold", fontName=SERIF_BOLD, fontSize=10, leading=12),
        "sign_title": _style("sign_title", fontName=SERIF_BOLD, alignment=TA_CENTER),
        "sign_name": _style("sign_name", fontName=SERIF_BOLD, alignment=TA_CENTER),
        "sign_note": _style("sign_note", fontName=SERIF_ITALIC, fontSize=11, alignment=TA_CENTER),
        "caption": _style("caption", fontSize=9, leading=11, alignment=TA_CENTER),
    }


def para(text: str, style: str = "body") -> Paragraph:
    """A paragraph of plain text (escaped; newlines kept)."""
    return Paragraph(escape(text).replace("\n", "<br/>"), styles()[style])


class QrCode(Flowable):
    """A QR code drawn as vector squares (segno's matrix): sharp at any zoom or printer. A web
    address is also a link on screen (clicking the code opens it)."""

    def __init__(self, data: str, size: float = 30 * mm) -> None:
        super().__init__()
        self.data = data
        self.qr = segno.make(data, error="m")
        self.size = size
        self.width = self.height = size

    def drawing(self) -> Drawing:
        matrix = list(self.qr.matrix_iter(border=2))
        cell = self.size / len(matrix)
        d = Drawing(self.size, self.size)
        for y, row in enumerate(matrix):
            for x, dark in enumerate(row):
                if dark:
                    d.add(
                        Rect(
                            x * cell,
                            self.size - (y + 1) * cell,
                            cell,
                            cell,
                            fillColor=colors.black,
                            strokeColor=None,
                            strokeWidth=0,
                        )
                    )
        return d

    def draw(self) -> None:
        self.drawing().drawOn(self.canv, 0, 0)
        if self.data.startswith(("https://", "http://")):
            self.canv.linkURL(self.data, (0, 0, self.size, self.size), relative=1, thickness=0)


@dataclass
class Signature:
    """The signature block at the bottom right: the signer's title and name."""

    title: str
    name: str = ""
    note: str = ""


@dataclass
class Sheet:
    agency: str
    title: str
    form_no: str = ""
    agency_sub: str = ""
    place: str = ""
    issued: dt.date | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)
    blocks: list[Any] = field(default_factory=list)  # str | list[str] | Table data | Flowable
    table: tuple[list[str], list[list[str]]] | None = None
    table_widths: list[float] | None = None
    signature: Signature | None = None
    qr: list[tuple[str, str]] = field(default_factory=list)  # (data, caption)
    footer: str = ""
    image: bytes | None = None
    landscape: bool = False
    metadata: dict[str, str] = field(default_factory=dict)


def _nation_block(sheet: Sheet, width: float, texts: dict[str, str]) -> Table:
    s = styles()
    left = [para(sheet.agency.upper(), "head")]
    if sheet.agency_sub:
        left.append(Paragraph(f"<b>{escape(sheet.agency_sub.upper())}</b>", s["head"]))
    right = [
        para(texts["nation"], "nation"),
        Paragraph(f"<u>{escape(texts['motto'])}</u>", s["nation"]),
    ]
    table = Table([[left, right]], colWidths=[width * 0.42, width * 0.58])
    table.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    return table


def date_line(place: str, day: dt.date, texts: dict[str, str]) -> str:
    return texts["date_line"] % {
        "place": place,
        "day": f"{day.day:02d}",
        "month": f"{day.month:02d}",
        "year": day.year,
    }


def _facts(rows: Sequence[tuple[str, str]], width: float) -> Table:
    s = styles()
    data = [[Paragraph(escape(k), s["cell_bold"]), para(v, "cell")] for k, v in rows]
    table = Table(data, colWidths=[width * 0.3, width * 0.7])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table


def _grid(headers: list[str], rows: list[list[str]], widths: list[float]) -> Table:
    s = styles()
    data: list[list[Any]] = [[Paragraph(escape(h), s["cell_bold"]) for h in headers]]
    data += [[para(c, "cell") for c in row] for row in rows] or [["—"] + [""] * (len(headers) - 1)]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ]
        )
    )
    return table


def sheet_pdf(sheet: Sheet, out: IO[bytes], *, texts: dict[str, str]) -> None:
    """Lay out one sheet into ``out`` (a binary file)."""
    styles()
    size = landscape(A4) if sheet.landscape else A4
    width = size[0] - MARGINS["left"] - MARGINS["right"]
    doc = SimpleDocTemplate(
        out,
        pagesize=size,
        leftMargin=MARGINS["left"],
        rightMargin=MARGINS["right"],
        topMargin=MARGINS["top"],
        bottomMargin=MARGINS["bottom"],
        title=sheet.metadata.get("title", sheet.title),
        author=sheet.metadata.get("author", sheet.agency),
        subject=sheet.metadata.get("subject", ""),
        creator="MotCua Cloud",
        lang="vi",
    )
    story: list[Any] = [_nation_block(sheet, width, texts)]
    if sheet.place and sheet.issued:
        story.append(para(date_line(sheet.place, sheet.issued, texts), "place"))
    if sheet.form_no:
        story.append(para(sheet.form_no, "form_no"))
    story.append(para(sheet.title, "title"))
    if sheet.facts:
        story += [_facts(sheet.facts, width), Spacer(1, 4 * mm)]
    for block in sheet.blocks:
        if isinstance(block, str):
            story.append(para(block))
        elif isinstance(block, list):
            story.append(
                ListFlowable(
                    [ListItem(para(item), leftIndent=14) for item in block],
                    bulletType="1",
                    bulletFontName=SERIF,
                    bulletFontSize=BODY_SIZE,
                    leftIndent=14,
                )
            )
        else:
            story.append(block)
    if sheet.table:
        headers, rows = sheet.table
        widths = sheet.table_widths or [width / len(headers)] * len(headers)
        story += [Spacer(1, 2 * mm), _grid(headers, rows, widths)]
    if sheet.image:
        try:
            story += [Spacer(1, 4 * mm), _image(sheet.image, width)]
        except Exception:  # a picture Pillow cannot read: the fingerprint above still names it
            story.append(Spacer(1, 4 * mm))
    tail: list[Any] = []
    left: list[Any] = []
    for data, caption in sheet.qr:
        left += [QrCode(data, 28 * mm), para(caption, "caption")]
    right: list[Any] = []
    if sheet.signature:
        right = [para(sheet.signature.title.upper(), "sign_title")]
        if sheet.signature.note:
            right.append(para(sheet.signature.note, "sign_note"))
        right += [Spacer(1, 18 * mm), para(sheet.signature.name, "sign_name")]
    if left or right:
        t = Table([[left or "", right or ""]], colWidths=[width * 0.45, width * 0.55])
        t.setStyle(
            TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
        )
        tail.append(t)
    if sheet.footer:
        tail += [Spacer(1, 3 * mm), para(sheet.footer, "small")]
    if tail:
        story += [Spacer(1, 6 * mm), KeepTogether(tail)]
    doc.build(story)


def _image(data: bytes, width: float) -> Flowable:
    import io

    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(data)) as im:
        w, h = im.size
    scale = min(width / w, 150 * mm / h, 1.0 if w > width else width / w)
    return Image(io.BytesIO(data), width=w * scale, height=h * scale)


# -- the register (Form 07), drawn row by row -----------------------------------------------


def register_pdf(
    rows: Iterable[Sequence[str]],
    out: IO[bytes],
    *,
    agency: str,
    title: str,
    headers: Sequence[str],
    widths_mm: Sequence[float],
    texts: dict[str, str],
    subtitle: str = "",
) -> int:
    """Draw the register on landscape A4 pages, streaming ``rows``; returns the rows drawn.

    Each cell is wrapped to at most two lines (a longer text ends with "…"), so a row's height
    is known before it is drawn and no page needs to be kept open.
    """
    fonts_register()
    page_w, page_h = landscape(A4)
    left, right, top, bottom = 15 * mm, 10 * mm, 15 * mm, 14 * mm
    scale = (page_w - left - right) / (sum(widths_mm) * mm)
    widths = [w * mm * scale for w in widths_mm]
    c = Canvas(out, pagesize=(page_w, page_h), pageCompression=1, lang="vi")
    c.setTitle(title)
    c.setAuthor(agency)
    c.setCreator("MotCua Cloud")
    size, lead, pad = 8.5, 10.0, 2.0
    page = 0

    def cells(values: Sequence[str], font: str) -> list[list[str]]:
        wrapped = []
        for value, w in zip(values, widths, strict=False):
            lines = simpleSplit(str(value or ""), font, size, w - 2 * pad) or [""]
            if len(lines) > 2:
                lines = [lines[0], lines[1][: max(1, len(lines[1]) - 1)] + "…"]
            wrapped.append(lines)
        return wrapped

    def draw_row(y: float, wrapped: list[list[str]], font: str, shade: bool = False) -> float:
        height = max(len(lines) for lines in wrapped) * lead + 2 * pad
        x = left
        if shade:
            c.setFillColor(colors.HexColor("#eeeeee"))
            c.rect(left, y - height, sum(widths), height, stroke=0, fill=1)
            c.setFillColor(colors.black)
        # One text object per row (not one per string): a fifth of the drawing time.
        text = c.beginText()
        text.setFont(font, size)
        for lines, w in zip(wrapped, widths, strict=False):
            c.rect(x, y - height, w, height, stroke=1, fill=0)
            for i, line in enumerate(lines):
                if line:
                    text.setTextOrigin(x + pad, y - pad - size - i * lead + 1)
                    text.textOut(line)
            x += w
        c.drawText(text)
        return y - height

    head_cells = cells(list(headers), SERIF_BOLD)

    def new_page() -> float:
        nonlocal page
        if page:
            c.showPage()
        page += 1
        c.setLineWidth(0.4)
        y = page_h - top
        if page == 1:
            c.setFont(SERIF, 11)
            c.drawString(left, y, agency.upper())
            c.setFont(SERIF_BOLD, 11)
            c.drawRightString(page_w - right, y, texts["nation"])
            c.drawRightString(page_w - right, y - 13, texts["motto"])
            c.setFont(SERIF_BOLD, 14)
            c.drawCentredString(page_w / 2, y - 36, title)
            y -= 40
            if subtitle:
                c.setFont(SERIF_ITALIC, 10)
                c.drawCentredString(page_w / 2, y - 6, subtitle)
                y -= 12
            y -= 8
        c.setFont(SERIF, 8)
        c.drawRightString(page_w - right, bottom - 8 * mm, texts["page"] % {"page": page})
        return draw_row(y, head_cells, SERIF_BOLD, shade=True)

    y = new_page()
    count = 0
    for values in rows:
        wrapped = cells(values, SERIF)
        height = max(len(lines) for lines in wrapped) * lead + 2 * pad
        if y - height < bottom:
            y = new_page()
        y = draw_row(y, wrapped, SERIF)
        count += 1
    c.setFont(SERIF_ITALIC, 9)
    if y - 14 < bottom:
        y = new_page()
    c.drawString(
        left,
        y - 12,
        texts["total"] % {"count": count, "when": f"{timezone.localtime():%H:%M %d/%m/%Y}"},
    )
    c.showPage()
    c.save()
    return count
