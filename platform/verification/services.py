"""Verifying uploaded PDFs for people: size and type refused with a message, the signature
check of ``documents.verify`` otherwise; and the checks the desk shows on dossier documents.

Nothing here raises for what a visitor sends: every outcome is a ``Verification`` whose code
says which problem it is (empty, too large, not a PDF, damaged, unsigned, changed, unknown
CA, expired, ...).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from documents.verify import Verification, pdf_verify
from verification.models import DocumentCheck

logger = logging.getLogger(__name__)

EMPTY = "empty"
TOO_LARGE = "too_large"
NO_FILE = "no_file"
PDF_TYPES = ("application/pdf",)


def max_bytes() -> int:
    return int(getattr(settings, "VERIFICATION_MAX_BYTES", 20 * 1024 * 1024))


def upload_verify(upload: Any) -> tuple[Verification, str]:
    """Check one uploaded file; returns the outcome and the file's sha256 ("" if unread)."""
    if upload is None:
        return Verification(NO_FILE, _("Choose the PDF file to verify.")), ""
    size = int(getattr(upload, "size", 0) or 0)
    if size == 0:
        return Verification(EMPTY, _("The file is empty: there is nothing to verify.")), ""
    if size > max_bytes():
        return (
            Verification(
                TOO_LARGE,
                _("The file is %(size)s; at most %(limit)s can be verified here.")
                % {"size": filesizeformat(size), "limit": filesizeformat(max_bytes())},
            ),
            "",
        )
    upload.seek(0)
    data = b"".join(upload.chunks())
    return bytes_verify(data), hashlib.sha256(data).hexdigest()


def bytes_verify(data: bytes) -> Verification:
    try:
        return pdf_verify(data)
    except Exception:  # pdf_verify answers every bad input itself; this is a last guard
        logger.exception("verification failed unexpectedly")
        return Verification("invalid", _("The signature is not valid."))


def _signatures(result: Verification) -> list[dict[str, Any]]:
    def iso(value: dt.datetime | None) -> str:
        return value.isoformat() if value else ""

    return [
        {
            "signer": s.signer,
            "organisation": s.organisation,
            "issuer": s.issuer,
            "signed_at": iso(s.signed_at),
            "timestamped": s.timestamped,
            "not_before": iso(s.not_before),
            "not_after": iso(s.not_after),
            "code": s.code,
        }
        for s in result.signatures
    ]


def document_check(*, sha256: str, read: Callable[[], bytes]) -> DocumentCheck:
    """The stored check of a file with this content, made now if there is none yet."""
    found = DocumentCheck.objects.filter(sha256=sha256).first()
    if found is not None:
        return found
    result = bytes_verify(read())
    check = DocumentCheck(
        sha256=sha256, code=result.code, message=result.message, signatures=_signatures(result)
    )
    try:
        with transaction.atomic():
            check.save()
    except IntegrityError:  # checked at the same time by another request
        return DocumentCheck.objects.get(sha256=sha256)
    return check


def _read(document: Any) -> bytes:
    with document.file.open("rb") as fh:
        return bytes(fh.read())


def document_checks(documents: Iterable[Any]) -> dict[int, DocumentCheck]:
    """The signature checks of a dossier's PDF documents, by document id (made when missing).

    A file that cannot be read (gone from storage) gets no check rather than an error page.
    """
    out: dict[int, DocumentCheck] = {}
    for document in documents:
        if document.content_type not in PDF_TYPES:
            continue
        try:
            out[document.pk] = document_check(
                sha256=document.sha256, read=functools.partial(_read, document)
            )
        except OSError:
            logger.warning("document %s could not be read for its signature check", document.pk)
    return out
