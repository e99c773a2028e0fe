"""Issuing official PDFs for a dossier: lay them out, sign them, keep them, serve them again.

Everything runs in the active agency's schema and storage. The organisation certificate of
*that* agency (``keys.organisation_path(connection.schema_name)``) seals what is issued when
the agency has one; an agency without key material still gets its PDFs, unsigned (the
signer fields stay empty, so the desk shows it). A person's signature (a leader's, on a
result or a Form 04) comes from the lifecycle action that takes it, through the same
:class:`~documents.signing.Signer` interface.

An issued document is looked up by (dossier, kind, ref) first: the bytes issued once are the
bytes served from then on. Each gets a random public reference when it is issued; its QR code
opens the verification page of that reference on the agency's own portal
(``/xac-thuc/<reference>/``, see :func:`verify_url` and ``documents.selectors``).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from documents import keys, sheets, signing
from documents.models import IssuedDocument, IssuedKind
from documents.pdf import Sheet, sheet_pdf
from documents.references import reference_new, reference_path
from dossiers.models import Dossier
from tenants.db import connection
from tenants.models import Agency
from tenants.selectors import agency_primary_hostname

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

FORM_KINDS = {
    "02": IssuedKind.FORM_02,
    "03": IssuedKind.FORM_03,
    "04": IssuedKind.FORM_04,
    "05": IssuedKind.FORM_05,
    "06": IssuedKind.FORM_06,
}
ORGANISATION_FIELD = "Organisation"
PERSON_FIELD = "Leader"


@dataclass(frozen=True)
class Signature:
    """One signature to apply: whose, in which field, and the person behind it if any."""

    signer: signing.Signer
    field: str
    person: Any = None


def _schema() -> str:
    return str(connection.schema_name)


def organisation_signature() -> Signature | None:
    """The active agency's organisation seal, or None when the agency has no key yet."""
    schema = _schema()
    if not keys.organisation_path(schema).exists():
        logger.warning("no organisation certificate for %s: documents are issued unsigned", schema)
        return None
    return Signature(signing.organisation_signer(schema), ORGANISATION_FIELD)


def person_signature(user: User) -> Signature:
    """The user's own certificate in the active agency (SigningError when they have none)."""
    return Signature(signing.person_signer(_schema(), int(user.pk)), PERSON_FIELD, user)


def has_person_certificate(user: User) -> bool:
    return bool(user and user.pk) and keys.person_path(_schema(), int(user.pk)).exists()


def verify_url(reference: str) -> str:
    """What the QR code of a document issued under ``reference`` opens: the verification page
    of that reference on the active agency's primary host ("" when the agency has none)."""
    host = agency_primary_hostname(connection.tenant)
    if not host:
        return ""
    base = str(settings.AGENCY_PORTAL_URL).format(host=host).rstrip("/")
    return base + reference_path(reference)


def issued_find(dossier: Dossier, kind: str, ref: str = "") -> IssuedDocument | None:
    return IssuedDocument.objects.filter(dossier=dossier, kind=kind, ref=ref).first()


def _sign(
    data: bytes,
    signatures: Sequence[Signature],
    *,
    reason: str,
    attachments: tuple[signing.Attachment, ...] = (),
) -> bytes:
    for i, sig in enumerate(signatures):
        data = signing.pdf_sign(
            data,
            sig.signer,
            field_name=sig.field,
            reason=reason,
            attachments=attachments if i == 0 else (),
        )
    return data


def _fill(row: IssuedDocument, data: bytes, signatures: Sequence[Signature]) -> None:
    row.size = len(data)
    row.sha256 = hashlib.sha256(data).hexdigest()
    names = [sig.signer.subject for sig in signatures]
    row.signer = "; ".join(names)[:300]
    row.signer_serial = signatures[-1].signer.serial if signatures else ""
    person = next((sig.person for sig in signatures if sig.person is not None), None)
    if person is not None:
        row.signed_by = person
    row.signed_at = timezone.now() if signatures else None
    row.file.save(f"{row.kind.replace('_', '-')}-{uuid.uuid4().hex}.pdf", ContentFile(data), False)


def issue(
    *,
    dossier: Dossier,
    kind: str,
    ref: str = "",
    build: Callable[[str], bytes],
    signatures: Sequence[Signature] = (),
    reason: str = "",
    attachments: tuple[signing.Attachment, ...] = (),
    written: list[str] | None = None,
) -> IssuedDocument:
    """The document (dossier, kind, ref): the stored one, or laid out, signed and stored now.

    ``build`` lays it out given the address its verification QR code prints (the page of the
    document's new reference). ``written`` collects the stored file's name, for a caller whose
    transaction may still roll back (the lifecycle deletes it then)."""
    existing = issued_find(dossier, kind, ref)
    if existing is not None:
        return existing
    reference = reference_new()
    data = _sign(build(verify_url(reference)), signatures, reason=reason, attachments=attachments)
    row = IssuedDocument(dossier=dossier, kind=kind, ref=ref, reference=reference)
    _fill(row, data, signatures)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # issued by a concurrent request a moment ago: keep theirs
        default_storage.delete(row.file.name)
        found = issued_find(dossier, kind, ref)
        assert found is not None
        return found
    if written is not None:
        written.append(row.file.name)
    return row


def issued_resign(
    row: IssuedDocument,
    signatures: Sequence[Signature],
    *,
    reason: str = "",
    written: list[str] | None = None,
) -> IssuedDocument:
    """Add signatures on top of what ``row`` holds (an incremental update: the earlier
    signatures stay valid); the row then points at the new file."""
    if not signatures:
        return row
    with row.file.open("rb") as fh:
        before = fh.read()
    earlier = [s for s in row.signer.split("; ") if s]
    data = _sign(before, signatures, reason=reason)
    person = row.signed_by
    _fill(row, data, signatures)
    row.signer = "; ".join([*earlier, *(sig.signer.subject for sig in signatures)])[:300]
    if person is not None and row.signed_by is None:
        row.signed_by = person
    row.save()
    if written is not None:
        written.append(row.file.name)
    return row


def issued_open(row: IssuedDocument) -> IO[bytes]:
    stream: IO[bytes] = row.file.open("rb")
    return stream


def _render(sheet: Sheet) -> bytes:
    import io

    out = io.BytesIO()
    sheet_pdf(sheet, out, texts=sheets.texts())
    return out.getvalue()


# -- What is issued ------------------------------------------------------------------------


def receipt_issue(*, agency: Agency, dossier: Dossier, tracking_url: str) -> IssuedDocument:
    """Form 01, sealed by the agency when it has a certificate."""
    seal = organisation_signature()
    return issue(
        dossier=dossier,
        kind=IssuedKind.RECEIPT,
        build=lambda url: _render(
            sheets.receipt_sheet(
                agency=agency, dossier=dossier, tracking_url=tracking_url, verify_url=url
            )
        ),
        signatures=[seal] if seal else [],
        reason=_("Receipt of the dossier"),
    )


def form_ref(dossier: Dossier, form: str) -> str:
    """Which version of Form ``form`` the dossier has now; LookupError when it has none."""
    from dossiers.models import (
        Apology,
        ApologyStatus,
        HandOver,
        Refusal,
        StopNotice,
        SupplementRequest,
    )

    model: Any = {"02": SupplementRequest, "03": Refusal, "05": StopNotice}.get(form)
    if model is not None:
        pk = model.objects.filter(dossier=dossier).values_list("pk", flat=True).first()
    elif form == "04":
        pk = (
            Apology.objects.filter(dossier=dossier, status=ApologyStatus.SIGNED)
            .values_list("pk", flat=True)
            .first()
        )
    elif form == "06":
        pk = (
            HandOver.objects.filter(dossier=dossier)
            .order_by("-at", "-id")
            .values_list("pk", flat=True)
            .first()
        )
    else:
        raise LookupError(form)
    if pk is None:
        raise LookupError(form)
    return str(pk)


def form_issue(
    *,
    agency: Agency,
    dossier: Dossier,
    form: str,
    person: Signature | None = None,
    written: list[str] | None = None,
) -> IssuedDocument:
    """Forms 02–06 of the dossier as they stand (LookupError when it has no such form): the
    person's signature first when given (a leader on Form 04), then the agency's seal."""
    kind = FORM_KINDS.get(form)
    if kind is None:
        raise LookupError(form)
    ref = form_ref(dossier, form)
    existing = issued_find(dossier, kind, ref)
    if existing is not None:
        return existing
    seal = organisation_signature()
    return issue(
        dossier=dossier,
        kind=kind,
        ref=ref,
        build=lambda url: _render(
            sheets.form_sheet(agency=agency, dossier=dossier, form=form, verify_url=url)
        ),
        signatures=[s for s in (person, seal) if s is not None],
        reason=_("Form %(form)s") % {"form": form},
        written=written,
    )


def _result_original(result: Any) -> tuple[bytes, tuple[signing.Attachment, ...]]:
    """The file the officer attached, and the attachment it travels as (none for a picture,
    which the sheet shows)."""
    with result.file.open("rb") as fh:
        original = bytes(fh.read())
    attachments: tuple[signing.Attachment, ...] = ()
    if not result.content_type.startswith("image/"):
        attachments = (signing.Attachment(result.original_name, original, result.content_type),)
    return original, attachments


def result_issue(
    *,
    agency: Agency,
    result: Any,
    person: Signature | None = None,
    written: list[str] | None = None,
) -> IssuedDocument | None:
    """The result as issued: laid out with the original inside, signed by ``person`` when
    given, and sealed by the agency (on top of an earlier person's signature, if the leader
    signed it before the approval). None when nobody can sign it (an agency without a
    certificate): the file the officer attached is then the result, as before."""
    dossier = result.dossier
    ref = str(result.pk)
    seal = organisation_signature()
    existing = issued_find(dossier, IssuedKind.RESULT, ref)
    if existing is not None:
        if person is None and seal is not None and ORGANISATION_FIELD not in _fields(existing):
            return issued_resign(existing, [seal], reason=_("Result issued"), written=written)
        return existing
    signatures = [person] if person is not None else [s for s in (seal,) if s is not None]
    if not signatures:
        return None
    title = _("Leader") if person is not None else _("On behalf of the agency")
    original, attachments = _result_original(result)
    return issue(
        dossier=dossier,
        kind=IssuedKind.RESULT,
        ref=ref,
        build=lambda url: _render(
            sheets.result_sheet(
                agency=agency, result=result, original=original, verify_url=url, signer_title=title
            )
        ),
        signatures=signatures,
        reason=_("Result of the administrative procedure"),
        attachments=attachments,
        written=written,
    )


def _fields(row: IssuedDocument) -> set[str]:
    """The signature fields the stored PDF carries."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    with row.file.open("rb") as fh:
        reader = PdfFileReader(io.BytesIO(fh.read()), strict=False)
    return {str(sig.field_name) for sig in reader.embedded_signatures}


def issued_for_desk(dossier: Dossier) -> list[IssuedDocument]:
    return list(IssuedDocument.objects.filter(dossier=dossier).order_by("created_at", "id"))


def issued_result_for(dossier: Dossier, result_id: int) -> IssuedDocument | None:
    return issued_find(dossier, IssuedKind.RESULT, str(int(result_id)))


def available_forms(dossier: Dossier) -> list[str]:
    """The Forms 02–06 this dossier has now (the desk links their PDFs)."""
    out = []
    for form in FORM_KINDS:
        try:
            form_ref(dossier, form)
        except LookupError:
            continue
        out.append(form)
    return out
