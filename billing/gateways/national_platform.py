"""The National Public Service Portal's payment platform (Cổng DVCQG, "nền tảng thanh toán"):
a gateway for citizens' fees.

The protocol (HTTP, every message signed with the partner's shared secret):

- **payment request**: the citizen is redirected to ``<base>/thanh-toan?…`` whose query carries
  ``version, partner_code, agency, order_id, amount, currency, order_info, return_url, ipn_url,
  created_at, expire_at, locale`` and ``signature``;
- **callbacks**: when the citizen has paid (or cancelled), the platform posts the outcome to
  ``ipn_url`` (server to server, JSON) and sends the browser back to ``return_url`` with the same
  fields in the query: ``partner_code, order_id, transaction_no, amount, currency, status``
  (``paid``, ``cancelled``, ``failed``), ``paid_at`` and ``signature``;
- **status query**: ``POST <base>/api/v1/truy-van`` ``{partner_code, order_id, request_time,
  signature}`` → the same fields as a callback (``status`` may be ``pending``), signed;
- **reconciliation file**: ``GET <base>/api/v1/doi-soat?partner_code&agency&date&request_time&
  signature`` → the day's file (UTF-8, ``|``-separated)::

      HDR|1.0|<partner>|<agency>|<YYYYMMDD>|<count>|<total>
      <order_id>|<transaction_no>|<amount>|<status>|<paid_at YYYYMMDDHHMMSS>
      SIG|<HMAC-SHA256 of every line above, joined by "\\n">

The signature is HMAC-SHA256 (hex) over the fields other than ``signature`` that are not empty,
sorted by name, written ``name=value`` and joined by ``&`` (values as sent, not URL-encoded).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.gateways.base import (
    FeePayment,
    FeeStatus,
    GatewayError,
    NoProviderBillingGateway,
    register,
)

CODE = "dvcqg"
VERSION = "1.0"
TIMEOUT = 10
PAY_PATH = "/thanh-toan"
QUERY_PATH = "/api/v1/truy-van"
RECONCILIATION_PATH = "/api/v1/doi-soat"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
STAMP = "%Y%m%d%H%M%S"
CALLBACK_FIELDS = ("partner_code", "order_id", "transaction_no", "amount", "currency", "status")
STATUSES = {"paid", "pending", "cancelled", "failed"}
MAX_FILE_BYTES = 5 * 1024 * 1024
_ORDER = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


class SignatureError(GatewayError):
    """A message whose signature does not verify: tampered with, or not from the platform."""


class ReconciliationFileError(ValueError):
    """A reconciliation file that cannot be read: the message says why (nothing is applied)."""


def canonical(params: Mapping[str, Any]) -> str:
    return "&".join(
        f"{k}={params[k]}" for k in sorted(params) if k != "signature" and str(params[k]) != ""
    )


def sign(params: Mapping[str, Any], *, secret: str | None = None) -> str:
    key = (settings.NATIONAL_PAYMENT_SECRET if secret is None else secret).encode()
    return hmac.new(key, canonical(params).encode(), hashlib.sha256).hexdigest()


def signature_valid(params: Mapping[str, Any], *, secret: str | None = None) -> bool:
    given = str(params.get("signature") or "")
    return bool(given) and hmac.compare_digest(given.lower(), sign(params, secret=secret))


def stamp(at: dt.datetime) -> str:
    return at.astimezone(VN).strftime(STAMP)


def parse_stamp(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, STAMP).replace(tzinfo=VN)


@dataclass(frozen=True)
class Callback:
    """A verified callback (IPN or return): what the platform says about one order."""

    order_id: str
    transaction_no: str
    amount: int
    currency: str
    status: str
    paid_at: dt.datetime | None


def callback_verify(params: Mapping[str, Any]) -> Callback:
    """Check a callback's signature and shape; SignatureError (tampered) or GatewayError."""
    values = {k: str(v) for k, v in params.items()}
    if not _configured():
        raise GatewayError("the national payment platform is not configured")
    if not signature_valid(values):
        raise SignatureError("the signature does not match")
    missing = [name for name in CALLBACK_FIELDS if not values.get(name)]
    if missing:
        raise GatewayError(f"missing fields: {', '.join(missing)}")
    if values["partner_code"] != settings.NATIONAL_PAYMENT_PARTNER:
        raise GatewayError("the callback is for another partner")
    if not values["amount"].isdigit() or values["status"] not in STATUSES:
        raise GatewayError("malformed amount or status")
    paid_at = None
    if values.get("paid_at"):
        try:
            paid_at = parse_stamp(values["paid_at"])
        except ValueError:
            raise GatewayError("malformed paid_at") from None
    return Callback(
        order_id=values["order_id"],
        transaction_no=values["transaction_no"],
        amount=int(values["amount"]),
        currency=values["currency"].lower(),
        status=values["status"],
        paid_at=paid_at,
    )


def order_agency(order_id: str) -> str:
    """The agency (schema) an order id names: ours are ``<schema>:<dossier code>:<attempt>``."""
    return order_id.split(":", 1)[0]


def _configured() -> bool:
    return bool(settings.NATIONAL_PAYMENT_URL and settings.NATIONAL_PAYMENT_SECRET)


def _base() -> str:
    if not _configured():
        raise GatewayError("the national payment platform is not configured")
    return str(settings.NATIONAL_PAYMENT_URL).rstrip("/")


def _call(request: urllib.request.Request) -> bytes:
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode(errors="replace")
        raise GatewayError(f"national payment platform {exc.code}: {detail}") from exc
    except OSError as exc:
        raise GatewayError(f"national payment platform: {exc}") from exc


@register
class NationalPlatformGateway(NoProviderBillingGateway):
    """Fees only: agencies' invoices are not paid through the national platform."""

    code = CODE

    def fee_payment_create(
        self,
        *,
        amount: int,
        description: str,
        reference: str,
        success_url: str,
        cancel_url: str,
        metadata: dict[str, str],
        expires_at: dt.datetime | None = None,
        notify_url: str = "",
    ) -> FeePayment:
        """No call is needed: the signed request is the URL the citizen is sent to."""
        if amount <= 0:
            raise GatewayError("a fee payment needs a positive amount")
        if not _ORDER.match(reference):
            raise GatewayError(f"unusable order id {reference!r}")
        if not notify_url:
            raise GatewayError("the national platform needs a notification (IPN) URL")
        now = timezone.now()
        params: dict[str, str] = {
            "version": VERSION,
            "partner_code": settings.NATIONAL_PAYMENT_PARTNER,
            "agency": metadata.get("agency", ""),
            "order_id": reference,
            "amount": str(amount),
            "currency": "VND",
            "order_info": description[:255],
            "return_url": success_url,
            "ipn_url": notify_url,
            "created_at": stamp(now),
            "expire_at": stamp(expires_at or now + dt.timedelta(hours=24)),
            "locale": "vi",
        }
        params["signature"] = sign(params)
        return FeePayment(
            remote_id=reference,
            url=f"{_base()}{PAY_PATH}?{urlencode(params)}",
            amount=amount,
            currency="vnd",
        )

    def fee_payment_status(self, *, remote_id: str) -> FeeStatus:
        params = {
            "partner_code": settings.NATIONAL_PAYMENT_PARTNER,
            "order_id": remote_id,
            "request_time": stamp(timezone.now()),
        }
        params["signature"] = sign(params)
        request = urllib.request.Request(  # noqa: S310 - the URL comes from our settings
            f"{_base()}{QUERY_PATH}",
            data=json.dumps(params).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            answer = json.loads(_call(request) or b"{}")
        except ValueError as exc:
            raise GatewayError(f"national payment platform: {exc}") from exc
        if not isinstance(answer, dict):
            raise GatewayError("national payment platform: unexpected answer")
        callback = callback_verify(answer)  # the answer is signed like a callback
        if callback.order_id != remote_id:
            raise GatewayError("the answer is about another order")
        return FeeStatus(
            remote_id=remote_id,
            status=callback.status,
            amount=callback.amount,
            currency=callback.currency,
            transaction_no=callback.transaction_no,
            paid_at=callback.paid_at,
        )

    def reconciliation_fetch(self, *, agency: str, day: dt.date) -> bytes:
        """The day's reconciliation file of one agency, as the platform produced it."""
        params = {
            "partner_code": settings.NATIONAL_PAYMENT_PARTNER,
            "agency": agency,
            "date": day.strftime("%Y%m%d"),
            "request_time": stamp(timezone.now()),
        }
        params["signature"] = sign(params)
        request = urllib.request.Request(  # noqa: S310 - the URL comes from our settings
            f"{_base()}{RECONCILIATION_PATH}?{urlencode(params)}"
        )
        return _call(request)


# --- the reconciliation file -------------------------------------------------------------------


@dataclass(frozen=True)
class ReconciliationRow:
    line: int
    order_id: str
    transaction_no: str
    amount: int
    status: str
    paid_at: dt.datetime | None


@dataclass
class ReconciliationFile:
    agency: str
    day: dt.date
    rows: list[ReconciliationRow] = field(default_factory=list)


def reconciliation_file_build(
    *, partner: str, agency: str, day: dt.date, rows: Sequence[Sequence[str]], secret: str
) -> bytes:
    """A file in the platform's format (the fake platform produces its files with this)."""
    total = sum(int(r[2]) for r in rows)
    lines = [f"HDR|{VERSION}|{partner}|{agency}|{day:%Y%m%d}|{len(rows)}|{total}"]
    lines += ["|".join(r) for r in rows]
    digest = hmac.new(secret.encode(), "\n".join(lines).encode(), hashlib.sha256).hexdigest()
    return ("\n".join([*lines, f"SIG|{digest}"]) + "\n").encode()


def reconciliation_parse(*, data: bytes, agency: str) -> ReconciliationFile:
    """Read and verify a reconciliation file for ``agency``; ReconciliationFileError (a message
    for staff) if anything in it is wrong: then none of it is applied."""
    if not data.strip():
        raise ReconciliationFileError(_("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise ReconciliationFileError(_("The file is too large for a day's reconciliation file."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReconciliationFileError(
            _("The file is not text (UTF-8): it is not a reconciliation file of the platform.")
        ) from None
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    head = lines[0].split("|") if lines else []
    if len(head) != 7 or head[0] != "HDR":
        raise ReconciliationFileError(
            _(
                "The first line is not the platform's header (HDR|version|partner|agency|date|"
                "count|total): this is not a reconciliation file of the national payment"
                " platform."
            )
        )
    tail = lines[-1].split("|")
    if len(lines) < 2 or len(tail) != 2 or tail[0] != "SIG":
        raise ReconciliationFileError(
            _("The file has no signature line at its end (SIG|…): it may be cut short.")
        )
    body = "\n".join(lines[:-1])
    key = settings.NATIONAL_PAYMENT_SECRET.encode()
    expected = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    if not settings.NATIONAL_PAYMENT_SECRET or not hmac.compare_digest(tail[1].lower(), expected):
        raise ReconciliationFileError(
            _("The file's signature does not match: it was changed or is not from the platform.")
        )
    partner, file_agency, day_text, count_text, total_text = head[2:]
    if partner != settings.NATIONAL_PAYMENT_PARTNER:
        raise ReconciliationFileError(_("The file is for another partner of the platform."))
    if file_agency != agency:
        raise ReconciliationFileError(
            _("The file is for another agency (%(agency)s), not this one.")
            % {"agency": file_agency}
        )
    try:
        day = dt.datetime.strptime(day_text, "%Y%m%d").date()
    except ValueError:
        raise ReconciliationFileError(
            _("The header's date “%(value)s” is not a date (YYYYMMDD).") % {"value": day_text}
        ) from None
    result = ReconciliationFile(agency=file_agency, day=day)
    for number, line in enumerate(lines[1:-1], start=2):
        cells = line.split("|")
        if len(cells) != 5 or not cells[2].isdigit() or cells[3] not in STATUSES:
            raise ReconciliationFileError(
                _("Line %(line)s cannot be read: “%(text)s”.") % {"line": number, "text": line[:80]}
            )
        try:
            paid_at = parse_stamp(cells[4]) if cells[4] else None
        except ValueError:
            raise ReconciliationFileError(
                _("Line %(line)s: “%(value)s” is not a time (YYYYMMDDHHMMSS).")
                % {"line": number, "value": cells[4][:20]}
            ) from None
        result.rows.append(
            ReconciliationRow(number, cells[0], cells[1], int(cells[2]), cells[3], paid_at)
        )
    if (
        not count_text.isdigit()
        or int(count_text) != len(result.rows)
        or not total_text.isdigit()
        or int(total_text) != sum(r.amount for r in result.rows)
    ):
        raise ReconciliationFileError(
            _("The header announces %(count)s lines and %(total)s đồng; the file holds others.")
            % {"count": count_text, "total": total_text}
        )
    return result
