"""Citizens' fees: the channels an agency offers, online payment through the billing gateway
interface (Stripe Checkout; the National Public Service Portal's payment platform), the VietQR
transfer into the agency's own account, and reconciliation of both.

Runs in the agency's schema: payments, settings and reconciliation lines sit with the dossiers.
A payment's remote id names its agency (``<schema>:<dossier code>:<attempt>``); confirmations
look it up in the active agency's schema only, so a callback on one agency's host (or a Stripe
event naming one agency) finds nothing of another's.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from billing import webhooks
from billing.gateways import GatewayError, gateway_get
from billing.gateways.national_platform import (
    CODE as NATIONAL,
)
from billing.gateways.national_platform import (
    NationalPlatformGateway,
    ReconciliationFileError,
    ReconciliationRow,
    SignatureError,
    callback_verify,
    order_agency,
    reconciliation_parse,
)
from billing.models import BillingEvent, Gateway, WebhookEvent, WebhookStatus
from billing.reconciliation import fold
from billing.statements import StatementFileError, statement_parse
from billing.vietqr import NAPAS_BANKS, VietQRError, ascii_text, qr_svg, vietqr_payload
from dossiers.models import (
    Dossier,
    FeeChannel,
    FeeLineSource,
    FeeLineStatus,
    FeePayment,
    FeePaymentStatus,
    FeeReconciliationLine,
    FeeSettings,
)
from lifecycle import dossier_fee_paid
from tenants.context import agency_context, for_each_agency
from tenants.db import connection
from tenants.models import Agency

if TYPE_CHECKING:
    from accounts.models import User

# A Checkout Session lives 24 hours; an older pending one is replaced by a new one.
SESSION_REUSE = dt.timedelta(hours=23)
VN = ZoneInfo("Asia/Ho_Chi_Minh")
ONLINE_CHANNELS = (FeeChannel.NATIONAL.value, FeeChannel.STRIPE.value)
# The reference a VietQR transfer carries: "LP" (lệ phí) and the dossier's number, however typed
# ("LP0000123", "lp 123", "LP-123").
_REFERENCE = re.compile(r"(?<![A-Z0-9])LP\s*[-_.:#]?\s*(\d{1,9})(?!\d)")
_BIN = re.compile(r"^\d{6}$")
_ACCOUNT = re.compile(r"^[0-9A-Za-z]{1,19}$")
_ACCOUNT_NAME = re.compile(r"^[A-Z0-9 .,&()'/-]{2,50}$")


# --- the agency's settings ---------------------------------------------------------------------


def fee_settings() -> FeeSettings:
    found, _created = FeeSettings.objects.get_or_create(pk=1)
    return found


def national_platform_configured() -> bool:
    return bool(settings.NATIONAL_PAYMENT_URL and settings.NATIONAL_PAYMENT_SECRET)


def fee_settings_update(
    *,
    channels: list[str],
    bank_bin: str,
    bank_account: str,
    bank_account_name: str,
    actor: User | None = None,
) -> FeeSettings:
    """Save which channels the agency offers and its bank account (validated together)."""
    bank_bin, bank_account = bank_bin.strip(), bank_account.strip().replace(" ", "")
    bank_account_name = " ".join(ascii_text(bank_account_name).upper().split())
    errors: dict[str, list[str]] = {}
    known = {c.value for c in FeeChannel}
    chosen = [c for c in FeeChannel.values if c in set(channels)]
    if set(channels) - known:
        errors.setdefault("channels", []).append(_("Unknown payment channel."))
    if bank_bin and (not _BIN.match(bank_bin) or bank_bin not in NAPAS_BANKS):
        errors.setdefault("bank_bin", []).append(
            _("Choose the bank from the list (its six-digit NAPAS BIN, e.g. 970436).")
        )
    if bank_account and not _ACCOUNT.match(bank_account):
        errors.setdefault("bank_account", []).append(
            _("The account number is 1 to 19 letters or digits.")
        )
    if bank_account_name and not _ACCOUNT_NAME.match(bank_account_name):
        errors.setdefault("bank_account_name", []).append(
            _("The account name is written as the bank shows it: 2 to 50 letters, no marks.")
        )
    filled = [bool(bank_bin), bool(bank_account), bool(bank_account_name)]
    if any(filled) and not all(filled):
        errors.setdefault("__all__", []).append(
            _("Give the bank, the account number and the account name together.")
        )
    if FeeChannel.VIETQR in chosen and not all(filled):
        errors.setdefault("__all__", []).append(
            _("VietQR transfers need the agency's bank account: the bank, number and name.")
        )
    if FeeChannel.NATIONAL in chosen and not national_platform_configured():
        errors.setdefault("channels", []).append(
            _("The national payment platform is not connected on this installation yet.")
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = FeeSettings.objects.select_for_update().get_or_create(pk=1)[0]
        current.channels = chosen
        current.bank_bin, current.bank_account = bank_bin, bank_account
        current.bank_account_name = bank_account_name
        current.save()
        audit_record(
            action="fees.settings_updated",
            actor=actor,
            target="fee settings",
            channels=chosen,
            bank_bin=bank_bin,
            bank_account=bank_account,
        )
    return current


def fee_channels_offered(current: FeeSettings | None = None) -> list[str]:
    """The channels a citizen sees on a fee page: chosen by the agency and usable now."""
    current = current or fee_settings()
    offered = []
    for channel in FeeChannel.values:
        if channel not in current.channels:
            continue
        if channel == FeeChannel.NATIONAL and not national_platform_configured():
            continue
        if channel == FeeChannel.VIETQR and not current.has_bank_account:
            continue
        if channel == FeeChannel.STRIPE and not settings.STRIPE_API_KEY:
            continue  # an installation without Stripe keys (the demo) cannot take cards
        offered.append(channel)
    return offered


# --- VietQR into the agency's account ----------------------------------------------------------


def fee_transfer_reference(dossier: Dossier) -> str:
    return f"LP{dossier.pk:07d}"


@dataclass(frozen=True)
class TransferQR:
    payload: str
    svg: str
    reference: str
    memo: str
    bank_bin: str
    account: str
    account_name: str
    amount: int


def fee_transfer_qr(*, dossier: Dossier, current: FeeSettings | None = None) -> TransferQR | None:
    """The VietQR to pay the dossier's fee into the agency's own account, if it offers one."""
    current = current or fee_settings()
    if dossier.fee_amount <= 0 or dossier.fee_paid:
        return None
    if FeeChannel.VIETQR not in fee_channels_offered(current):
        return None
    reference = fee_transfer_reference(dossier)
    memo = ascii_text(f"{reference} {dossier.code}")[:25].strip()
    try:
        payload = vietqr_payload(
            bank_bin=current.bank_bin,
            account=current.bank_account,
            amount=dossier.fee_amount,
            purpose=memo,
            bill_number=reference,
        )
    except VietQRError:
        return None
    return TransferQR(
        payload=payload,
        svg=qr_svg(payload),
        reference=reference,
        memo=memo,
        bank_bin=current.bank_bin,
        account=current.bank_account,
        account_name=current.bank_account_name,
        amount=dossier.fee_amount,
    )


# --- online payment ----------------------------------------------------------------------------


def fee_checkout_start(
    *,
    dossier: Dossier,
    success_url: str,
    cancel_url: str,
    gateway: str = Gateway.STRIPE,
    notify_url: str = "",
) -> FeePayment:
    """Start (or resume) the online payment of the dossier's fee through one of the channels the
    agency offers; redirect the citizen to ``payment.url``."""
    if dossier.fee_amount <= 0:
        raise ValidationError(_("This dossier has no fee to pay."))
    if dossier.fee_paid:
        raise ValidationError(_("The fee of this dossier is already paid."))
    if gateway not in ONLINE_CHANNELS or gateway not in fee_channels_offered():
        raise ValidationError(_("This agency does not offer that way of paying."))
    recent = (
        FeePayment.objects.filter(
            dossier=dossier,
            gateway=gateway,
            status=FeePaymentStatus.PENDING,
            amount=dossier.fee_amount,
            created_at__gte=timezone.now() - SESSION_REUSE,
        )
        .order_by("-created_at")
        .first()
    )
    if recent is not None:
        return recent
    schema = connection.schema_name
    attempt = FeePayment.objects.filter(dossier=dossier).count() + 1
    try:
        session = gateway_get(gateway).fee_payment_create(
            amount=dossier.fee_amount,
            description=_("Fee of dossier %(code)s") % {"code": dossier.code},
            reference=f"{schema}:{dossier.code}:{attempt}",
            success_url=success_url,
            cancel_url=cancel_url,
            metadata={"agency": schema, "dossier": dossier.code},
            notify_url=notify_url,
        )
    except GatewayError:
        raise ValidationError(
            _("Online payment is not available right now. Please try again later.")
        ) from None
    return FeePayment.objects.create(
        dossier=dossier,
        gateway=gateway,
        remote_id=session.remote_id,
        amount=session.amount,
        url=session.url,
    )


@transaction.atomic
def fee_payment_confirm(
    *, remote_id: str, amount: int, currency: str, transaction_no: str = ""
) -> str:
    """The gateway says a session was paid (run in the agency's schema). Idempotent.

    Returns "paid", "already paid", "unknown" (no such session here) or "flagged" (the amount
    or currency does not match what we asked for; nothing is applied).
    """
    payment = (
        FeePayment.objects.select_for_update()
        .select_related("dossier")
        .filter(remote_id=remote_id)
        .first()
    )
    if payment is None:
        return "unknown"
    if payment.status == FeePaymentStatus.PAID:
        return "already paid"
    if amount != payment.amount or currency.lower() != "vnd":
        payment.status = FeePaymentStatus.FLAGGED
        payment.save(update_fields=["status"])
        return "flagged"
    now = timezone.now()
    payment.status, payment.paid_at = FeePaymentStatus.PAID, now
    payment.save(update_fields=["status", "paid_at"])
    dossier = Dossier.objects.select_for_update().get(pk=payment.dossier_id)
    dossier_fee_paid(
        dossier=dossier,
        amount=payment.amount,
        reference=" ".join(filter(None, [payment.gateway, payment.remote_id, transaction_no])),
        at=now,
    )
    return "paid"


@dataclass(frozen=True)
class CallbackOutcome:
    """What became of a national platform callback: ``outcome`` is one of "paid", "already
    paid", "not paid", "flagged", "unknown", "refused"; ``dossier_code`` when one was found."""

    outcome: str
    message: str
    dossier_code: str = ""

    @property
    def accepted(self) -> bool:
        return self.outcome in ("paid", "already paid", "not paid", "flagged")


def fee_national_callback(*, params: dict[str, str]) -> CallbackOutcome:
    """A callback from the national payment platform (the IPN, or the citizen's return) on the
    active agency's host. Verified before anything is read; a tampered one, or one naming
    another agency's order, changes nothing. A repeated one applies nothing again."""
    try:
        callback = callback_verify(params)
    except SignatureError:
        return CallbackOutcome("refused", "invalid signature")
    except GatewayError as exc:
        return CallbackOutcome("refused", str(exc))
    schema = connection.schema_name
    if order_agency(callback.order_id) != schema:
        return CallbackOutcome("unknown", "the order belongs to another agency")
    payment = FeePayment.objects.filter(remote_id=callback.order_id, gateway=NATIONAL).first()
    if payment is None:
        return CallbackOutcome("unknown", "no such order in this agency")
    code = Dossier.objects.values_list("code", flat=True).get(pk=payment.dossier_id)
    if callback.status != "paid":
        return CallbackOutcome("not paid", callback.status, code)
    outcome = fee_payment_confirm(
        remote_id=callback.order_id,
        amount=callback.amount,
        currency=callback.currency,
        transaction_no=callback.transaction_no,
    )
    if outcome == "flagged":
        _queue_once(
            source=FeeLineSource.NATIONAL_CALLBACK,
            key=f"{callback.order_id}:{callback.transaction_no}",
            booked_on=timezone.localdate(callback.paid_at or timezone.now(), VN),
            amount=callback.amount,
            reference=callback.order_id,
            dossier_id=payment.dossier_id,
            message=_(
                "The platform reports %(paid)s đồng paid for order %(order)s, but the fee asked"
                " was %(fee)s đồng: the fee is not marked paid."
            )
            % {
                "paid": _vnd(callback.amount),
                "order": callback.order_id,
                "fee": _vnd(payment.amount),
            },
        )
        return CallbackOutcome("flagged", "amount or currency does not match", code)
    return CallbackOutcome(outcome, outcome, code)


def fee_payment_refresh(*, payment: FeePayment) -> str:
    """Ask the gateway where a pending payment stands; apply it if it was paid."""
    if payment.status != FeePaymentStatus.PENDING:
        return payment.status
    try:
        status = gateway_get(payment.gateway).fee_payment_status(remote_id=payment.remote_id)
    except GatewayError:
        raise ValidationError(
            _("The payment platform cannot be asked right now. Please try again later.")
        ) from None
    if status.status != "paid":
        return status.status
    return fee_payment_confirm(
        remote_id=payment.remote_id,
        amount=status.amount,
        currency=status.currency,
        transaction_no=status.transaction_no,
    )


# --- reconciliation ----------------------------------------------------------------------------


def _vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _queue_once(
    *,
    source: str,
    key: str,
    booked_on: dt.date,
    amount: int,
    reference: str,
    message: str,
    dossier_id: int | None = None,
    memo: str = "",
    filename: str = "",
) -> FeeReconciliationLine | None:
    try:
        with transaction.atomic():
            return FeeReconciliationLine.objects.create(
                source=source, key=key[:120], booked_on=booked_on, amount=amount,
                reference=reference[:200], memo=memo, dossier_id=dossier_id,
                status=FeeLineStatus.QUEUED, message=message, filename=filename[:255],
            )  # fmt: skip
    except IntegrityError:
        return None


@dataclass
class FeeImportReport:
    applied: int = 0
    matched: int = 0
    queued: int = 0
    already_known: int = 0
    day: dt.date | None = None


def _line(
    report: FeeImportReport,
    *,
    source: str,
    key: str,
    booked_on: dt.date,
    amount: int,
    reference: str,
    status: str,
    message: str,
    filename: str,
    dossier_id: int | None = None,
    memo: str = "",
) -> None:
    FeeReconciliationLine.objects.create(
        source=source, key=key[:120], booked_on=booked_on, amount=amount,
        reference=reference[:200], memo=memo, dossier_id=dossier_id, status=status,
        message=message, filename=filename[:255],
    )  # fmt: skip
    if status == FeeLineStatus.APPLIED:
        report.applied += 1
    elif status == FeeLineStatus.MATCHED:
        report.matched += 1
    else:
        report.queued += 1


def fee_national_reconcile(
    *, data: bytes, filename: str = "", actor: User | None = None
) -> FeeImportReport:
    """Import the national platform's daily reconciliation file of this agency.

    The whole file is verified first (ValidationError with the reason: nothing applied). Each
    line is stored once: a line already imported is skipped. A payment the platform settled but
    whose notification never arrived is applied; any disagreement (an order this agency did not
    start, another amount, paid here but not there) is queued for staff with a message."""
    try:
        parsed = reconciliation_parse(data=data, agency=connection.schema_name)
    except ReconciliationFileError as exc:
        raise ValidationError(str(exc)) from None
    source, day = FeeLineSource.NATIONAL_FILE, parsed.day
    report = FeeImportReport(day=day)
    with transaction.atomic():
        known = set(
            FeeReconciliationLine.objects.filter(
                source=source, key__startswith=f"{day}:"
            ).values_list("key", flat=True)
        )
        payments = {
            p.remote_id: p
            for p in FeePayment.objects.filter(
                gateway=NATIONAL, remote_id__in=[r.order_id for r in parsed.rows]
            )
        }
        listed: set[str] = set()
        for row in parsed.rows:
            listed.add(row.order_id)
            key = f"{day}:{row.order_id}:{row.transaction_no}"
            if key in known:
                report.already_known += 1
                continue
            known.add(key)
            payment = payments.get(row.order_id)
            common = {
                "source": source, "key": key, "booked_on": day, "amount": row.amount,
                "reference": row.order_id, "filename": filename,
                "dossier_id": payment.dossier_id if payment else None,
            }  # fmt: skip
            status, message = _national_row(row, payment)
            _line(report, status=status, message=message, **common)  # type: ignore[arg-type]
        # Paid here that day but in no file: missing on the platform's side. (Confirmed here
        # just after midnight but listed in the file of the day before is not missing.)
        start = dt.datetime.combine(day, dt.time.min, tzinfo=VN)
        listed_before = FeeReconciliationLine.objects.filter(
            source=source, status__in=[FeeLineStatus.APPLIED, FeeLineStatus.MATCHED]
        ).values("reference")
        missing = (
            FeePayment.objects.filter(
                gateway=NATIONAL,
                status=FeePaymentStatus.PAID,
                paid_at__gte=start,
                paid_at__lt=start + dt.timedelta(days=1),
            )
            .exclude(remote_id__in=listed)
            .exclude(remote_id__in=listed_before)
        )
        for payment in missing:
            key = f"{day}:{payment.remote_id}:missing"
            if key in known:
                report.already_known += 1
                continue
            _line(
                report, source=source, key=key, booked_on=day, amount=payment.amount,
                reference=payment.remote_id, filename=filename, dossier_id=payment.dossier_id,
                status=FeeLineStatus.QUEUED,
                message=_(
                    "Marked paid here through the platform, but the platform's file of this day"
                    " does not list order %(order)s: check with the platform before returning"
                    " the result."
                ) % {"order": payment.remote_id},
            )  # fmt: skip
        audit_record(
            action="fees.national_file_imported", actor=actor, target=filename or str(day),
            day=str(day), applied=report.applied, matched=report.matched,
            queued=report.queued, already_known=report.already_known,
        )  # fmt: skip
    return report


def _national_row(row: ReconciliationRow, payment: FeePayment | None) -> tuple[str, str]:
    if payment is None:
        return FeeLineStatus.QUEUED, _(
            "The platform lists order %(order)s (%(amount)s đồng), which this agency did not"
            " start: nothing was applied."
        ) % {"order": row.order_id, "amount": _vnd(row.amount)}
    if row.status != "paid":
        if payment.status == FeePaymentStatus.PAID:
            return FeeLineStatus.QUEUED, _(
                "Marked paid here, but the platform reports order %(order)s as “%(status)s”."
            ) % {"order": row.order_id, "status": row.status}
        return FeeLineStatus.MATCHED, _("Not paid on the platform; not paid here either.")
    if row.amount != payment.amount:
        return FeeLineStatus.QUEUED, _(
            "The platform reports %(paid)s đồng for order %(order)s, but the fee asked was"
            " %(fee)s đồng: nothing was applied."
        ) % {"paid": _vnd(row.amount), "order": row.order_id, "fee": _vnd(payment.amount)}
    if payment.status == FeePaymentStatus.PAID:
        return FeeLineStatus.MATCHED, _("Paid, as recorded here.")
    if payment.status == FeePaymentStatus.FLAGGED:
        return FeeLineStatus.QUEUED, _(
            "Order %(order)s was flagged for review when it was notified: check it by hand."
        ) % {"order": row.order_id}
    outcome = fee_payment_confirm(
        remote_id=payment.remote_id, amount=row.amount, currency="vnd",
        transaction_no=row.transaction_no,
    )  # fmt: skip
    if outcome == "paid":
        return FeeLineStatus.APPLIED, _(
            "The platform's notification had not arrived: the fee is now marked paid."
        )
    return FeeLineStatus.MATCHED, _("Paid, as recorded here.")


def fee_statement_import(
    *, data: bytes, filename: str = "", actor: User | None = None
) -> FeeImportReport:
    """Import the agency's bank statement export (CSV/Excel): each credit whose memo carries a
    fee reference (``LP…``) of an unpaid dossier, for exactly its fee, marks that fee paid; any
    other credit is queued for staff with the reason. A line seen before applies nothing."""
    try:
        parsed = statement_parse(data=data)
    except StatementFileError as exc:
        raise ValidationError(str(exc)) from None
    source = FeeLineSource.BANK_STATEMENT
    report = FeeImportReport()
    with transaction.atomic():
        for transfer in parsed.transfers:
            key = transfer.line_key
            if FeeReconciliationLine.objects.filter(source=source, key=key[:120]).exists():
                report.already_known += 1
                continue
            numbers = list(
                dict.fromkeys(m.group(1) for m in _REFERENCE.finditer(fold(transfer.memo)))
            )
            dossier = None
            if len(numbers) == 1:
                dossier = Dossier.objects.select_for_update().filter(pk=int(numbers[0])).first()
            status, message = _transfer_outcome(transfer.amount, numbers, dossier)
            if status == FeeLineStatus.APPLIED and dossier is not None:
                dossier_fee_paid(
                    dossier=dossier,
                    amount=transfer.amount,
                    reference=" ".join(
                        filter(None, ["vietqr", fee_transfer_reference(dossier),
                                      transfer.bank_transaction_id])
                    ),
                    at=timezone.now(),
                )  # fmt: skip
            _line(
                report, source=source, key=key, booked_on=transfer.booked_on,
                amount=transfer.amount, reference=transfer.bank_transaction_id,
                memo=transfer.memo, filename=filename, status=status, message=message,
                dossier_id=dossier.pk if dossier else None,
            )  # fmt: skip
        audit_record(
            action="fees.statement_imported", actor=actor, target=filename,
            applied=report.applied, queued=report.queued, already_known=report.already_known,
        )  # fmt: skip
    return report


def _transfer_outcome(amount: int, numbers: list[str], dossier: Dossier | None) -> tuple[str, str]:
    if not numbers:
        return FeeLineStatus.QUEUED, _(
            "The memo names no fee reference (LP followed by the dossier's number)."
        )
    if len(numbers) > 1:
        return FeeLineStatus.QUEUED, _(
            "The memo names several fee references (%(refs)s): split it by hand."
        ) % {"refs": ", ".join(f"LP{n}" for n in numbers)}
    if dossier is None:
        return FeeLineStatus.QUEUED, _(
            "No dossier of this agency has the fee reference LP%(ref)s."
        ) % {"ref": numbers[0]}
    if dossier.fee_paid:
        return FeeLineStatus.QUEUED, _(
            "The fee of dossier %(code)s is already paid: this transfer may be a second payment"
            " to refund."
        ) % {"code": dossier.code}
    if amount != dossier.fee_amount:
        return FeeLineStatus.QUEUED, _(
            "%(paid)s đồng were transferred for dossier %(code)s, whose fee is %(fee)s đồng:"
            " nothing was applied."
        ) % {"paid": _vnd(amount), "code": dossier.code, "fee": _vnd(dossier.fee_amount)}
    return FeeLineStatus.APPLIED, _("The fee of dossier %(code)s is now marked paid.") % {
        "code": dossier.code
    }


def fee_line_dismiss(*, line: FeeReconciliationLine, note: str, actor: User | None = None) -> None:
    """Staff set a queued line aside (refunded, settled by hand, …) with a note."""
    note = note.strip()
    if not note:
        raise ValidationError(_("Say why the line is set aside."))
    with transaction.atomic():
        locked = FeeReconciliationLine.objects.select_for_update().get(pk=line.pk)
        if locked.status != FeeLineStatus.QUEUED:
            raise ValidationError(_("This line is not waiting for staff any more."))
        locked.status = FeeLineStatus.DISMISSED
        locked.message = f"{locked.message}\n— {note}"
        locked.resolved_by_email = str(getattr(actor, "email", "") or "")
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["status", "message", "resolved_by_email", "resolved_at"])
        audit_record(action="fees.line_dismissed", actor=actor, target=locked.key, note=note[:500])


def fee_national_reconcile_fetch(*, day: dt.date, actor: User | None = None) -> FeeImportReport:
    """Fetch this agency's file of ``day`` from the platform and import it."""
    try:
        data = NationalPlatformGateway().reconciliation_fetch(
            agency=connection.schema_name, day=day
        )
    except GatewayError:
        raise ValidationError(
            _("The payment platform cannot be reached right now. Please try again later.")
        ) from None
    return fee_national_reconcile(data=data, filename=f"dvcqg-{day:%Y%m%d}.txt", actor=actor)


def fee_national_reconcile_for_each_agency(*, day: dt.date | None = None) -> dict[str, str]:
    """The daily job: every active agency that offers the national platform fetches and imports
    its file of ``day`` (default: yesterday, Vietnam time). One agency's failure (the platform
    unreachable, a refused file) is reported for it and does not stop the others; running it
    twice applies nothing twice."""
    if not national_platform_configured():
        return {}
    day = day or (timezone.localdate(timezone.now(), VN) - dt.timedelta(days=1))

    def one(agency: object) -> str:
        if FeeChannel.NATIONAL not in fee_settings().channels:
            return "not offered"
        try:
            report = fee_national_reconcile_fetch(day=day)
        except ValidationError as exc:
            return "refused: " + " ".join(exc.messages)
        return f"applied {report.applied}, queued {report.queued}, known {report.already_known}"

    return {schema: outcome for schema, outcome in for_each_agency(one).items()}


# A citizen's fee paid through Stripe: billing stores and dispatches the webhook event
# (settings.BILLING_WEBHOOK_HANDLERS names this module); confirming the payment is ours.
@webhooks.handles("checkout.session.completed", "checkout.session.async_payment_succeeded")
def fee_stripe_event(event: WebhookEvent) -> tuple[str, str]:
    """A citizen paid a dossier's fee: confirmed in the agency's own schema."""
    obj = webhooks.event_object(event)
    metadata = obj.get("metadata") or {}
    if obj.get("mode") != "payment" or not metadata.get("agency"):
        return WebhookStatus.IGNORED, "not a fee payment"
    if obj.get("payment_status") != "paid":
        return WebhookStatus.PROCESSED, "not paid yet"
    agency = Agency.objects.filter(schema_name=metadata["agency"]).first()
    if agency is None:
        return WebhookStatus.IGNORED, "unknown agency"
    amount = int(obj.get("amount_total") or 0)
    with agency_context(agency):
        outcome = fee_payment_confirm(
            remote_id=obj["id"], amount=amount, currency=str(obj.get("currency") or "")
        )
    if outcome == "unknown":
        return WebhookStatus.IGNORED, f"no such fee payment in {agency.schema_name}"
    if outcome == "flagged":
        BillingEvent.objects.create(
            event="fee_amount_mismatch",
            detail={"gateway": Gateway.STRIPE, "event": event.event_id, "session": obj["id"],
                    "agency": agency.schema_name, "amount": amount,
                    "currency": obj.get("currency")},
        )  # fmt: skip
        return WebhookStatus.FLAGGED, "fee amount or currency does not match"
    return WebhookStatus.PROCESSED, outcome
