"""Bank transfers into the provider's account, matched to invoices and applied — or queued.

Each credit on the account (a statement file's line, a bank notification) becomes one
``BankStatementLine``, unique by the bank's transaction id or by a hash of its content: the line
and the payments it makes are written in one transaction, so a line seen again applies nothing.

Matching reads the memo the way people type it: ``HD2026-000010``, ``hd 2026 10``, digits only
(``2026000010``), Vietnamese text around it, several invoices in one transfer, or only the payer's
tax code. A transfer naming invoices pays them oldest first (partial payments leave a balance; an
excess is an ``Overpayment`` for staff); one naming only the payer's tax code pays that payer's
open invoices oldest first. Anything not matched with confidence (no reference, an unknown or
void invoice, references of one payer and the tax code of another) is queued for staff, who
resolve it on the console by naming the invoices, or dismiss it with a note.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import (
    BankStatementLine,
    BillingAccount,
    BillingEvent,
    Gateway,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    LineStatus,
    Payment,
    StatementImport,
)

# "HD" (also "HĐ", any case), the year, then the sequence: HD2026-000010, HD 2026 10, hd2026/10.
_EXPLICIT = re.compile(r"(?<![A-Z0-9])HD\s*[-_./:#]?\s*(20\d{2})\s*[-_./ ]?\s*(\d{1,6})(?!\d)")
# Digits only: 2026000010, 2026-000010 (the year and six digits).
_DIGITS = re.compile(r"(?<!\d)(20\d{2})[-./ ]?(\d{6})(?!\d)")
# Tax codes: 10 digits, a branch's 10-3, or a person's 12-digit ID number.
_TAX_CODE = re.compile(r"(?<![\d-])(\d{10}-\d{3}|\d{10}|\d{12})(?![\d])")


def fold(text: str) -> str:
    """Upper-case ASCII: no diacritics (Đ → D), so "hđ 2026" reads like "HD 2026"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain if not unicodedata.combining(c)).upper()


def _number(year: str, seq: str) -> str | None:
    return f"HD{year}-{int(seq):06d}" if int(seq) > 0 else None


@dataclass(frozen=True)
class MemoReferences:
    named: list[str]  # invoice numbers written with "HD": the payer meant an invoice
    digits: list[str]  # invoice numbers written as digits only (may also be other numbers)
    tax_codes: list[str]

    @property
    def numbers(self) -> list[str]:
        return list(dict.fromkeys([*self.named, *self.digits]))


def memo_references(memo: str) -> MemoReferences:
    """The invoice numbers and tax codes a transfer's memo may name, in the order written."""
    text = fold(memo)
    named = [n for m in _EXPLICIT.finditer(text) if (n := _number(m.group(1), m.group(2)))]
    rest = _EXPLICIT.sub(" ", text)
    digits = [n for m in _DIGITS.finditer(rest) if (n := _number(m.group(1), m.group(2)))]
    codes = [m.group(1) for m in _TAX_CODE.finditer(rest)]
    return MemoReferences(
        named=list(dict.fromkeys(named)),
        digits=[n for n in dict.fromkeys(digits) if n not in named],
        tax_codes=list(dict.fromkeys(codes)),
    )


# --- deciding what a transfer pays -------------------------------------------------------------


@dataclass
class Plan:
    """What to do with a line: pay these invoices (oldest first), or queue it with a reason."""

    invoices: list[Invoice] = field(default_factory=list)
    queue_reason: str = ""

    @property
    def queued(self) -> bool:
        return bool(self.queue_reason)


def _current(invoice: Invoice) -> Invoice | None:
    """The invoice to pay for one a memo names: itself, or what replaced it; None if void."""
    seen = 0
    while invoice.status == InvoiceStatus.VOID and seen < 10:
        replacement = (
            Invoice.objects.filter(original=invoice, kind=InvoiceKind.REPLACEMENT)
            .exclude(status=InvoiceStatus.VOID)
            .first()
        ) or Invoice.objects.filter(original=invoice, kind=InvoiceKind.REPLACEMENT).first()
        if replacement is None:
            return None
        invoice, seen = replacement, seen + 1
    return None if invoice.status == InvoiceStatus.VOID else invoice


def _oldest_first(invoices: Sequence[Invoice]) -> list[Invoice]:
    return sorted(invoices, key=lambda i: (i.period_start, i.issued_at or timezone.now(), i.pk))


def _payable(invoice: Invoice) -> bool:
    return invoice.status in (InvoiceStatus.ISSUED, InvoiceStatus.PAID) and not invoice.is_decrease


def plan_for(memo: str) -> Plan:
    """Which invoices a memo pays, or why staff must look at it."""
    refs = memo_references(memo)
    found = {i.number: i for i in Invoice.objects.filter(number__in=refs.numbers)}
    missing = [n for n in refs.named if n not in found]
    if missing:
        return Plan(
            queue_reason=_("The memo names %(numbers)s: no such invoice.")
            % {"numbers": ", ".join(missing)}
        )
    named: list[Invoice] = []
    for number in refs.numbers:
        if number not in found:
            continue
        current = _current(found[number])
        if current is None or not _payable(current):
            message = _("The invoice %(number)s named in the memo is void or takes no payment.")
            return Plan(queue_reason=message % {"number": number})
        if current not in named:
            named.append(current)
    accounts = {a.tax_code: a for a in BillingAccount.objects.filter(tax_code__in=refs.tax_codes)}
    if named:
        payers = {i.billing_account_id for i in named}
        strangers = [a for a in accounts.values() if a.pk not in payers]
        if strangers and len(accounts) == len(strangers):
            return Plan(
                queue_reason=_(
                    "The memo names invoices of one payer and the tax code %(tax_code)s of"
                    " another (%(payer)s)."
                )
                % {"tax_code": strangers[0].tax_code, "payer": strangers[0].name}
            )
        return Plan(invoices=_oldest_first(named))
    if len(accounts) > 1:
        return Plan(queue_reason=_("The memo names the tax codes of several payers."))
    if accounts:
        (account,) = accounts.values()
        open_invoices = [
            i
            for i in Invoice.objects.filter(billing_account=account, status=InvoiceStatus.ISSUED)
            if i.balance > 0 and not i.is_decrease
        ]
        if not open_invoices:
            return Plan(
                queue_reason=_(
                    "The memo names the tax code of %(payer)s, who has no invoice to pay."
                )
                % {"payer": account.name}
            )
        return Plan(invoices=_oldest_first(open_invoices))
    return Plan(queue_reason=_("The memo names no invoice and no payer's tax code."))


# --- applying a line -------------------------------------------------------------------------


def _allocate(amount: int, invoices: list[Invoice]) -> list[tuple[Invoice, int]]:
    """Split ``amount`` over invoices oldest first, up to each balance; the excess goes with
    the last invoice paid (or the first, if all were paid already): an overpayment."""
    shares: list[tuple[Invoice, int]] = []
    remaining = amount
    for invoice in invoices:
        owed = max(invoice.balance, 0) if invoice.status == InvoiceStatus.ISSUED else 0
        take = min(remaining, owed)
        if take > 0:
            shares.append((invoice, take))
            remaining -= take
    if remaining > 0:
        if shares:
            last, take = shares[-1]
            shares[-1] = (last, take + remaining)
        else:
            shares.append((invoices[0], remaining))
    return shares


def _apply(line: BankStatementLine, invoices: list[Invoice], *, actor_email: str) -> str:
    from billing.gateways.bank_transfer import bank_transfer_record

    shares = _allocate(line.amount, invoices)
    summary = []
    for invoice, amount in shares:
        reference = line.reference if len(shares) == 1 else f"{line.reference}/{invoice.number}"
        bank_transfer_record(
            invoice=invoice,
            amount=amount,
            received_on=line.booked_on,
            reference=reference,
            actor_email=actor_email,
            allow_overpayment=True,
            statement_line=line,
        )
        invoice.refresh_from_db()
        summary.append(f"{invoice.number}: {amount}")
    line.invoice_numbers = [i.number for i, _amount in shares]
    return "; ".join(summary)


def statement_line_reconcile(*, line: BankStatementLine) -> BankStatementLine:
    """Match a new line and apply it, or queue it; call inside the transaction that wrote it."""
    recorded = line.bank_transaction_id and Payment.objects.filter(
        gateway=Gateway.BANK_TRANSFER, reference=line.bank_transaction_id
    )
    if recorded and recorded.exists():
        line.status = LineStatus.RECORDED
        line.invoice_numbers = sorted({p.invoice.number or "" for p in recorded})
        line.reason = _("Staff had already recorded this transfer by hand.")
        line.save(update_fields=["status", "invoice_numbers", "reason"])
        return line
    plan = plan_for(line.memo)
    if plan.queued:
        line.status, line.reason = LineStatus.QUEUED, plan.queue_reason
    else:
        try:
            with transaction.atomic():
                line.reason = _apply(line, plan.invoices, actor_email="")
                line.status = LineStatus.APPLIED
        except ValidationError as exc:
            line.status, line.reason = LineStatus.QUEUED, " ".join(exc.messages)
            line.invoice_numbers = []
    line.reason = line.reason[:300]
    line.save(update_fields=["status", "reason", "invoice_numbers"])
    return line


def content_key(*parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return f"hash:{digest[:64]}"


@dataclass(frozen=True)
class IncomingTransfer:
    """A credit on the account as a bank reports it. Without the bank's transaction id, the
    line is known by its content: the running balance and the occurrence of the same content
    within the export tell two equal transfers apart."""

    booked_on: dt.date
    amount: int
    memo: str
    bank_transaction_id: str = ""
    balance: str = ""
    occurrence: int = 1

    @property
    def memo_key(self) -> str:
        return " ".join(self.memo.split())

    @property
    def line_key(self) -> str:
        if self.bank_transaction_id:
            return f"txn:{self.bank_transaction_id}"
        return content_key(
            self.booked_on.isoformat(), self.amount, self.memo_key, self.balance, self.occurrence
        )


def _known(transfer: IncomingTransfer) -> BankStatementLine | None:
    existing = BankStatementLine.objects.filter(line_key=transfer.line_key).first()
    if existing is not None or transfer.bank_transaction_id:
        return existing
    # An export without transaction ids may repeat transfers the bank already notified (with
    # their ids): the n-th equal line of the file is known if the bank told us of n such.
    same = list(
        BankStatementLine.objects.filter(
            booked_on=transfer.booked_on, amount=transfer.amount, memo=transfer.memo
        )
        .exclude(bank_transaction_id="")
        .order_by("pk")[: transfer.occurrence]
    )
    return same[-1] if len(same) >= transfer.occurrence else None


def statement_line_receive(
    *,
    transfer: IncomingTransfer,
    source: str,
    statement_import: StatementImport | None = None,
) -> tuple[BankStatementLine, bool]:
    """Store a transfer once and reconcile it; ``(line, False)`` if it was already known."""
    with transaction.atomic():
        existing = _known(transfer)
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                line = BankStatementLine.objects.create(
                    line_key=transfer.line_key,
                    source=source,
                    statement_import=statement_import,
                    bank_transaction_id=transfer.bank_transaction_id,
                    booked_on=transfer.booked_on,
                    amount=transfer.amount,
                    memo=transfer.memo,
                    status=LineStatus.QUEUED,
                )
        except IntegrityError:  # the same line arrived at the same moment by another way
            return BankStatementLine.objects.get(line_key=transfer.line_key), False
        statement_line_reconcile(line=line)
        BillingEvent.objects.create(
            event="bank_line_received",
            detail={"line": line.pk, "key": line.line_key, "amount": line.amount,
                    "status": line.status, "invoices": line.invoice_numbers, "source": source},
        )  # fmt: skip
    return line, True


# --- staff: the queue ------------------------------------------------------------------------


def _queued(line: BankStatementLine) -> BankStatementLine:
    line = BankStatementLine.objects.select_for_update().get(pk=line.pk)
    if line.status != LineStatus.QUEUED:
        raise ValidationError(
            _("This transfer is already handled (%(status)s).")
            % {"status": line.get_status_display()}
        )
    return line


@transaction.atomic
def statement_line_resolve(
    *, line: BankStatementLine, invoices: str, note: str = "", actor_email: str = ""
) -> BankStatementLine:
    """Staff say which invoices a queued transfer pays ("HD2026-000010 HD2026-000011")."""
    line = _queued(line)
    refs = memo_references(invoices)
    if not refs.numbers:
        raise ValidationError(
            {"invoices": _("Enter the invoice numbers this transfer pays, e.g. HD2026-000010.")}
        )
    found = {i.number: i for i in Invoice.objects.filter(number__in=refs.numbers)}
    targets: list[Invoice] = []
    for number in refs.numbers:
        invoice = found.get(number)
        current = _current(invoice) if invoice is not None else None
        if current is None or not _payable(current):
            raise ValidationError(
                {"invoices": _("There is no invoice %(number)s that can take a payment.")
                 % {"number": number}}
            )  # fmt: skip
        if current not in targets:
            targets.append(current)
    line.reason = _apply(line, _oldest_first(targets), actor_email=actor_email)[:300]
    line.status = LineStatus.RESOLVED
    line.resolution_note = note.strip()
    line.resolved_by_email = actor_email
    line.resolved_at = timezone.now()
    line.save()
    BillingEvent.objects.create(
        event="bank_line_resolved",
        actor_email=actor_email,
        detail={"line": line.pk, "invoices": line.invoice_numbers, "note": line.resolution_note},
    )
    return line


@transaction.atomic
def statement_line_dismiss(
    *, line: BankStatementLine, note: str, actor_email: str = ""
) -> BankStatementLine:
    """Staff set a queued transfer aside (not a payment of an invoice: say what it is)."""
    line = _queued(line)
    if not note.strip():
        raise ValidationError({"note": _("Say why this transfer pays no invoice.")})
    line.status = LineStatus.DISMISSED
    line.resolution_note = note.strip()
    line.resolved_by_email = actor_email
    line.resolved_at = timezone.now()
    line.save(update_fields=["status", "resolution_note", "resolved_by_email", "resolved_at"])
    BillingEvent.objects.create(
        event="bank_line_dismissed",
        actor_email=actor_email,
        detail={"line": line.pk, "note": line.resolution_note},
    )
    return line
