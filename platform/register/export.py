"""The register as a spreadsheet (xlsx, XlsxWriter in constant-memory mode).

Rows are read with a server-side cursor in chunks and written row by row to a
temporary file, so memory stays bounded whatever the number of dossiers; the
file is then streamed to the client and removed when closed.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from typing import IO, Any

import xlsxwriter
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers.models import Channel, Dossier, DossierStatus, Outcome
from register.selectors import register_rows

CHUNK = 2000


def _headers() -> list[str]:
    return [
        _("No."),
        _("Dossier code"),
        _("Received"),
        _("Channel"),
        _("Procedure code"),
        _("Procedure"),
        _("Applicant"),
        _("Personal ID number"),
        _("Address"),
        _("Result due"),
        _("Status"),
        _("Completed"),
        _("Timeliness"),
        _("Result returned"),
        _("Fee (VND)"),
        _("Fee paid"),
    ]


def _local(value: dt.datetime | None) -> dt.datetime | None:
    # Excel has no time zones: write the agency's local wall-clock time.
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def register_export_xlsx(qs: QuerySet[Dossier], *, title: str) -> IO[bytes]:
    """Write the register to a temporary xlsx file; returns it open and rewound."""
    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (returned open, streamed)
    book = xlsxwriter.Workbook(
        out, {"constant_memory": True, "in_memory": False, "remove_timezone": True}
    )
    sheet = book.add_worksheet(_("Register")[:31])
    bold = book.add_format({"bold": True})
    when = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    money = book.add_format({"num_format": "#,##0"})
    sheet.write(0, 0, title, bold)
    for col, header in enumerate(_headers()):
        sheet.write(2, col, header, bold)
    widths = [6, 24, 16, 14, 14, 50, 28, 16, 36, 12, 18, 16, 14, 16, 12, 8]
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    statuses = dict(DossierStatus.choices)
    channels = dict(Channel.choices)
    outcomes = dict(Outcome.choices)
    yes, no = _("Yes"), _("No")
    row = 3
    for number, values in enumerate(register_rows(qs).iterator(chunk_size=CHUNK), start=1):
        (code, received, channel, p_code, p_name, name, id_no, address, due, status,
         completed, outcome, returned, fee, paid) = values  # fmt: skip
        cells: list[tuple[Any, Any]] = [
            (number, None),
            (code, None),
            (_local(received), when),
            (str(channels.get(channel, channel)), None),
            (p_code, None),
            (p_name, None),
            (name, None),
            (id_no, None),
            (address, None),
            (due, day),
            (str(statuses.get(status, status)), None),
            (_local(completed), when),
            (str(outcomes.get(outcome, "")) if outcome else "", None),
            (_local(returned), when),
            (fee, money),
            (yes if paid else no, None),
        ]
        for col, (value, fmt) in enumerate(cells):
            if value is None or value == "":
                continue
            if isinstance(value, dt.datetime):
                sheet.write_datetime(row, col, value, fmt)
            elif isinstance(value, dt.date):
                sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), fmt)
            elif isinstance(value, str):
                sheet.write_string(row, col, value)
            else:
                sheet.write_number(row, col, value, fmt)
        row += 1
    book.close()
    out.seek(0)
    return out
