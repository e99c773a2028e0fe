"""Bank statement exports (CSV, Excel .xlsx/.xls) read into transfers, then reconciled.

Vietnamese banks' exports differ in their columns but say the same things: a date ("Ngày giao
dịch", "Ngày hạch toán", "Transaction date"), the credit ("Số tiền ghi có", "Ghi có", "Credit",
or one signed "Số tiền"/"Amount"), the memo ("Nội dung", "Diễn giải", "Mô tả", "Description"),
often a transaction number ("Số tham chiếu", "Mã giao dịch", "Số bút toán", "Reference") and a
running balance ("Số dư"). Title rows come before the header; the header is found by its names.

Excel files are read with python-calamine (Rust, read-only: no macros, formulas or XML entities
are evaluated), which also reads the older .xls many banks still export. A file that is not a
statement, or any row that cannot be read, refuses the whole file with a message naming the
problem: nothing of it is applied.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import BillingEvent, LineStatus, StatementImport, StatementSource
from billing.reconciliation import IncomingTransfer, fold, statement_line_receive

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
HEADER_SCAN_ROWS = 40

# Header names, folded (no diacritics, upper case, single spaces).
# fmt: off
DATE = {"NGAY GIAO DICH", "NGAY GD", "NGAY", "NGAY HACH TOAN", "NGAY HIEU LUC", "NGAY GHI SO",
        "NGAY CHUNG TU", "THOI GIAN GIAO DICH", "THOI GIAN", "TRANSACTION DATE", "DATE",
        "POSTING DATE", "VALUE DATE", "BOOKING DATE", "NGAY GIAO DICH / TRANSACTION DATE"}
CREDIT = {"SO TIEN GHI CO", "GHI CO", "CO", "CREDIT", "CREDIT AMOUNT", "SO TIEN CO", "TIEN VAO",
          "PHAT SINH CO", "PS CO", "SO TIEN GHI CO (VND)", "GHI CO (VND)", "CREDIT (VND)"}
DEBIT = {"SO TIEN GHI NO", "GHI NO", "NO", "DEBIT", "DEBIT AMOUNT", "SO TIEN NO", "TIEN RA",
         "PHAT SINH NO", "PS NO", "SO TIEN GHI NO (VND)", "GHI NO (VND)", "DEBIT (VND)"}
AMOUNT = {"SO TIEN", "AMOUNT", "SO TIEN GIAO DICH", "SO TIEN (VND)", "AMOUNT (VND)",
          "TRANSACTION AMOUNT"}
MEMO = {"NOI DUNG", "NOI DUNG GIAO DICH", "NOI DUNG CHUYEN KHOAN", "DIEN GIAI", "MO TA",
        "DESCRIPTION", "MEMO", "CHI TIET GIAO DICH", "NOI DUNG CHI TIET", "REMARK", "REMARKS",
        "TRANSACTION DETAILS", "DETAILS", "TRANSACTION DESCRIPTION", "NOI DUNG / DESCRIPTION"}
REFERENCE = {"SO THAM CHIEU", "MA GIAO DICH", "SO GIAO DICH", "SO BUT TOAN", "SO CT",
             "SO CHUNG TU", "REF", "REFERENCE", "REFERENCE NO", "REF NO", "TRANSACTION ID",
             "MA GD", "TRANSACTION NO", "TRANSACTION NUMBER", "SO GD", "MA THAM CHIEU", "TXN ID"}
BALANCE = {"SO DU", "BALANCE", "SO DU CUOI", "RUNNING BALANCE", "SO DU (VND)"}
FOOTERS = ("TONG", "CONG", "SO DU", "PHAT SINH", "TOTAL", "BALANCE", "OPENING", "CLOSING")
# fmt: on

_SPACES = re.compile(r"\s+")


class StatementFileError(ValueError):
    """The file cannot be read as a bank statement; the message says why, for the person."""


def _name(cell: Any) -> str:
    return _SPACES.sub(" ", fold(str(cell or "")).replace(":", " ")).strip()


@dataclass
class Columns:
    date: int
    memo: int
    credit: int | None = None
    debit: int | None = None
    amount: int | None = None
    reference: int | None = None
    balance: int | None = None


def _columns(header: Sequence[Any]) -> Columns | None:
    names = [_name(c) for c in header]

    def find(options: set[str]) -> int | None:
        for i, name in enumerate(names):
            if name in options:
                return i
        return None

    date, memo = find(DATE), find(MEMO)
    credit, amount = find(CREDIT), find(AMOUNT)
    if date is None or memo is None or (credit is None and amount is None):
        return None
    return Columns(
        date=date, memo=memo, credit=credit, debit=find(DEBIT), amount=amount,
        reference=find(REFERENCE), balance=find(BALANCE),
    )  # fmt: skip


_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d/%m/%y", "%Y/%m/%d")


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    head = text.split()[0] if text else ""
    head = head.split("T")[0] if re.match(r"^\d{4}-\d{2}-\d{2}T", head) else head
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(head, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def parse_amount(value: Any) -> int:
    """Đồng from a cell: 1.005.000 / 1,005,000 / 1005000 / 1.005.000,00 / +1,005,000.00 / a
    number. A fraction of a đồng, or anything else, is refused."""
    if isinstance(value, bool):
        raise ValueError(str(value))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != int(value):
            raise ValueError(str(value))
        return int(value)
    text = str(value or "").strip().replace("\u00a0", "").replace(" ", "")
    text = re.sub(r"(?i)(VND|VNĐ|ĐỒNG|Đ|₫)$", "", text).lstrip("+")
    if not text:
        return 0
    negative = text.startswith("-") or (text.startswith("(") and text.endswith(")"))
    text = text.strip("-()")
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        whole, _mark, fraction = text.rpartition(decimal_mark)
        whole = whole.replace("." if decimal_mark == "," else ",", "")
    elif re.fullmatch(r"\d{1,3}([.,]\d{3})+", text):
        whole, fraction = re.sub(r"[.,]", "", text), ""
    elif re.fullmatch(r"\d+([.,]\d{1,2})?", text):
        whole, _mark, fraction = text.replace(",", ".").partition(".")
    else:
        raise ValueError(text)
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        raise ValueError(text)
    try:
        amount = Decimal(f"{whole}.{fraction or 0}")
    except InvalidOperation:
        raise ValueError(text) from None
    if amount != amount.to_integral_value():
        raise ValueError(text)
    return -int(amount) if negative else int(amount)


# --- reading the file ------------------------------------------------------------------------


def _rows_csv(data: bytes) -> list[list[Any]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise StatementFileError(
                _("The file is not text in UTF-8: save the statement as CSV (UTF-8) or Excel.")
            ) from None
    if "\x00" in text:
        raise StatementFileError(_("The file is not a CSV or Excel statement."))
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)]


def _rows_excel(data: bytes) -> list[list[Any]]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if not book.sheet_names:
            raise StatementFileError(_("The Excel file has no sheet."))
        return [list(row) for row in book.get_sheet_by_index(0).to_python(skip_empty_area=False)]
    except StatementFileError:
        raise
    except Exception:  # calamine raises its own errors for damaged or encrypted workbooks
        raise StatementFileError(
            _("The Excel file cannot be read (damaged, password-protected or not a workbook).")
        ) from None


def file_format(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if data[:5].lower() in (b"%pdf-",) or data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "other"
    return "csv"


@dataclass
class ParsedStatement:
    file_format: str
    transfers: list[IncomingTransfer] = field(default_factory=list)
    rows: int = 0
    debits: int = 0


def _cell(row: Sequence[Any], index: int | None) -> Any:
    if index is None or index >= len(row):
        return None
    return row[index]


def _blank(value: Any) -> bool:
    return value is None or str(value).strip() == ""


def statement_parse(*, data: bytes) -> ParsedStatement:
    """The credits of a statement export; StatementFileError (a message for the person) if the
    file, or any row of it, cannot be read."""
    if not data:
        raise StatementFileError(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise StatementFileError(
            _("The file is larger than %(mb)s MB: export a shorter period.")
            % {"mb": MAX_BYTES // (1024 * 1024)}
        )
    kind = file_format(data)
    if kind == "other":
        raise StatementFileError(
            _("The file is not a CSV or Excel statement (it looks like a PDF or an image).")
        )
    rows = _rows_excel(data) if kind in ("xlsx", "xls") else _rows_csv(data)
    if len(rows) > MAX_ROWS:
        raise StatementFileError(
            _("The statement has more than %(n)s rows: export a shorter period.") % {"n": MAX_ROWS}
        )
    header_at, columns = None, None
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        if (found := _columns(row)) is not None:
            header_at, columns = i, found
            break
    if columns is None or header_at is None:
        raise StatementFileError(
            _(
                "No header row with a date, an amount (or credit) and a description column was"
                " found in the first %(n)s rows. Expected column names such as “Ngày giao"
                " dịch”, “Số tiền ghi có” and “Nội dung”."
            )
            % {"n": HEADER_SCAN_ROWS}
        )
    parsed = ParsedStatement(file_format=kind)
    seen: Counter[tuple[object, ...]] = Counter()
    for offset, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if all(_blank(c) for c in row):
            continue
        raw_date = _cell(row, columns.date)
        if _blank(raw_date) or _name(raw_date).startswith(FOOTERS):
            # Totals and footers ("Tổng cộng", "Số dư cuối kỳ") are not transfers.
            continue
        try:
            booked_on = parse_date(raw_date)
        except ValueError:
            raise StatementFileError(
                _("Row %(row)s: “%(value)s” is not a date (expected dd/mm/yyyy).")
                % {"row": offset, "value": str(raw_date)[:40]}
            ) from None
        try:
            if columns.credit is not None:
                credit = parse_amount(_cell(row, columns.credit))
            else:
                credit = parse_amount(_cell(row, columns.amount))
            debit = parse_amount(_cell(row, columns.debit)) if columns.debit is not None else 0
        except ValueError as exc:
            raise StatementFileError(
                _("Row %(row)s: the amount “%(value)s” is not a whole number of đồng.")
                % {"row": offset, "value": str(exc)[:40]}
            ) from None
        parsed.rows += 1
        if credit <= 0:
            parsed.debits += 1 if (credit < 0 or debit) else 0
            continue
        memo = str(_cell(row, columns.memo) or "").strip()
        reference = _cell(row, columns.reference)
        reference_text = "" if _blank(reference) else str(reference).strip()
        if reference_text.endswith(".0") and reference_text[:-2].isdigit():
            reference_text = reference_text[:-2]  # a number stored as a float by Excel
        balance = _cell(row, columns.balance)
        balance_text = "" if _blank(balance) else str(balance).strip()
        content: tuple[object, ...] = (booked_on, credit, " ".join(memo.split()), balance_text)
        seen[content] += 1
        parsed.transfers.append(
            IncomingTransfer(
                booked_on=booked_on,
                amount=credit,
                memo=memo[:2000],
                bank_transaction_id=reference_text[:80],
                balance=balance_text,
                occurrence=seen[content],
            )
        )
    if not parsed.rows:
        raise StatementFileError(_("The statement has a header but no transaction rows."))
    return parsed


@dataclass
class ImportReport:
    statement_import: StatementImport
    applied: int = 0
    queued: int = 0
    already_known: int = 0
    recorded_by_hand: int = 0
    debits: int = 0


def statement_import(*, filename: str, data: bytes, actor_email: str = "") -> ImportReport:
    """Read a statement export and reconcile each credit (all of it in one transaction): a line
    already imported (by a file or the bank's notification) is skipped, never applied again."""
    parsed = statement_parse(data=data)
    with transaction.atomic():
        record = StatementImport.objects.create(
            filename=filename[:255],
            sha256=hashlib.sha256(data).hexdigest(),
            file_format=parsed.file_format,
            rows=parsed.rows,
            uploaded_by_email=actor_email,
        )
        report = ImportReport(statement_import=record, debits=parsed.debits)
        for transfer in parsed.transfers:
            line, created = statement_line_receive(
                transfer=transfer, source=StatementSource.FILE, statement_import=record
            )
            if not created:
                report.already_known += 1
            elif line.status == LineStatus.APPLIED:
                report.applied += 1
            elif line.status == LineStatus.RECORDED:
                report.recorded_by_hand += 1
            else:
                report.queued += 1
        record.new_lines = report.applied + report.queued + report.recorded_by_hand
        record.save(update_fields=["new_lines"])
        BillingEvent.objects.create(
            event="bank_statement_imported",
            actor_email=actor_email,
            detail={"import": record.pk, "file": record.filename, "rows": parsed.rows,
                    "applied": report.applied, "queued": report.queued,
                    "already_known": report.already_known},
        )  # fmt: skip
    return report
