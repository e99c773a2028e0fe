"""Checking a signed PDF: is it unchanged, who signed it, when, and was the certificate valid
then. Used by the public verification page of every agency's portal and by the desk for the
signed documents citizens upload.

Every outcome is a :class:`Verification` with a code and a sentence for people; nothing a
visitor uploads raises. The time of a signature is its RFC 3161 timestamp when it has a trusted
one (otherwise the time the signer's computer claimed, said so), and the certificate is judged
at that time: a certificate that has since expired or been rotated still verifies what it
signed while valid.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import load_cert_from_pemder
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from documents import keys
from documents.signing import outside_event_loop

logger = logging.getLogger(__name__)

VALID = "valid"
NOT_PDF = "not_pdf"
UNREADABLE = "unreadable"
UNSIGNED = "unsigned"
CHANGED = "changed"
UNKNOWN_CA = "unknown_ca"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"
INVALID = "invalid"


@dataclass
class SignatureCheck:
    field: str
    signer: str = ""
    organisation: str = ""
    email: str = ""
    serial: str = ""
    issuer: str = ""
    signed_at: dt.datetime | None = None
    timestamped: bool = False
    not_before: dt.datetime | None = None
    not_after: dt.datetime | None = None
    code: str = VALID
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.code == VALID


@dataclass
class Verification:
    code: str
    message: str
    signatures: list[SignatureCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.code == VALID


def _messages() -> dict[str, str]:
    return {
        VALID: _("The document is unchanged since it was signed, and every signature is valid."),
        NOT_PDF: _("This file is not a PDF document."),
        UNREADABLE: _("This PDF is damaged and cannot be read."),
        UNSIGNED: _("This PDF carries no digital signature."),
        CHANGED: _(
            "The document was changed after it was signed: its signature no longer matches."
        ),
        UNKNOWN_CA: _(
            "The signature was made with a certificate that no trusted certification authority "
            "issued."
        ),
        EXPIRED: _("The signer's certificate had already expired when the document was signed."),
        NOT_YET_VALID: _(
            "The signer's certificate was not yet valid when the document was signed."
        ),
        INVALID: _("The signature is not valid."),
    }


def _context(moment: dt.datetime | None = None) -> ValidationContext:
    roots = [load_cert_from_pemder(str(p)) for p in keys.trust_root_paths()]
    # No revocation sources reachable in this deployment yet (no CRL/OCSP of the test CA):
    # revocation is checked when the information is there and not required otherwise.
    return ValidationContext(
        trust_roots=roots,
        allow_fetching=False,
        revocation_mode="soft-fail",
        moment=moment,
        best_signature_time=moment,
    )


def _name_part(cert: Any, key: str) -> str:
    return str(cert.subject.native.get(key, "") or "")


def _check_one(sig: Any) -> SignatureCheck:
    messages = _messages()
    cert = sig.signer_cert
    check = SignatureCheck(
        field=str(sig.field_name or ""),
        signer=_name_part(cert, "common_name"),
        organisation=_name_part(cert, "organization_name"),
        serial=f"{cert.serial_number:x}",
        issuer=str(cert.issuer.native.get("common_name", "")),
        not_before=cert["tbs_certificate"]["validity"]["not_before"].native,
        not_after=cert["tbs_certificate"]["validity"]["not_after"].native,
    )
    try:
        check.email = ", ".join(
            str(name)
            for name in getattr(cert.subject_alt_name_value, "native", None) or []
            if "@" in str(name)
        )
    except Exception:  # an odd SAN is no reason to fail the check
        check.email = ""
    first = outside_event_loop(
        lambda: validate_pdf_signature(
            sig, signer_validation_context=_context(), ts_validation_context=_context()
        )
    )
    ts = first.timestamp_validity
    if ts is not None and ts.intact and ts.valid and ts.trusted:
        check.signed_at, check.timestamped = ts.timestamp, True
    else:
        check.signed_at = first.signer_reported_dt
    if not first.intact:
        check.code = CHANGED
    elif not first.valid:
        check.code = INVALID
    elif (
        first.modification_level is not None
        and first.modification_level > ModificationLevel.FORM_FILLING
    ):
        check.code = CHANGED
    else:
        moment = check.signed_at if check.timestamped else None
        status = (
            first
            if moment is None
            else outside_event_loop(
                lambda: validate_pdf_signature(
                    sig,
                    signer_validation_context=_context(moment),
                    ts_validation_context=_context(),
                )
            )
        )
        when = check.signed_at or dt.datetime.now(dt.UTC)
        if not status.trusted:
            if check.not_after and when > check.not_after:
                check.code = EXPIRED
            elif check.not_before and when < check.not_before:
                check.code = NOT_YET_VALID
            else:
                check.code = UNKNOWN_CA
    check.message = messages[check.code]
    return check


def pdf_verify(data: bytes) -> Verification:
    """Verify every signature of ``data``; the first problem decides the outcome."""
    messages = _messages()
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        return Verification(NOT_PDF, messages[NOT_PDF])
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = list(reader.embedded_signatures)
    except Exception:
        return Verification(UNREADABLE, messages[UNREADABLE])
    if not signatures:
        return Verification(UNSIGNED, messages[UNSIGNED])
    checks: list[SignatureCheck] = []
    for sig in signatures:
        try:
            checks.append(_check_one(sig))
        except Exception:
            # A malformed signature dictionary or CMS blob: broken, whatever caused it.
            logger.info("signature check failed", exc_info=True)
            checks.append(
                SignatureCheck(
                    field=str(getattr(sig, "field_name", "") or ""),
                    code=CHANGED,
                    message=messages[CHANGED],
                )
            )
    bad = next((c for c in checks if not c.ok), None)
    if bad is not None:
        return Verification(bad.code, bad.message, checks)
    return Verification(VALID, messages[VALID], checks)
