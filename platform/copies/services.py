"""Certifying a copy from its original (chứng thực bản sao điện tử từ bản chính).

``certified_copy_issue`` is the one writer: it checks who certifies and what (a scan the
officer uploads, or a document of a dossier), lays out the certification sheet with the scan
(an image on the page; a PDF scan embedded in the signed file, so the signature covers it),
signs it with the officer's own certificate where they have one and with the agency's
organisation certificate (``documents.signing``, timestamped), then records the copy, its
audit entry and the citizen's document-store entry in one transaction. Nothing half-done is
left: a file written before a failure is removed.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from audit.services import audit_record
from copies.models import CertifiedCopy, CopyCounter
from docstore.services import stored_document_add_certified_copy
from documents import sheets, signing
from documents.pdf import Sheet, Signature, sheet_pdf
from documents.references import reference_new, reference_path
from dossiers.engine import roles_of
from dossiers.files import check_file, files_delete
from dossiers.models import Dossier, DossierDocument
from tenants.db import connection

CERTIFIERS = (Role.RECEPTIONIST, Role.OFFICER, Role.LEADER)
SCAN_TYPES = ("application/pdf", "image/jpeg", "image/png")
TITLE_MAX = 300


def _number(year: int) -> str:
    counter, _created = CopyCounter.objects.select_for_update().get_or_create(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{counter.last:05d}/{year}/SCT-BS"


def _certification_pdf(
    *,
    agency: Any,
    title: str,
    number: str,
    applicant_name: str,
    officer: Any,
    when: Any,
    scan: bytes,
    scan_type: str,
    verify_url: str,
) -> bytes:
    local = timezone.localtime(when)
    sheet = Sheet(
        agency=agency.name,
        title=_("ELECTRONIC COPY CERTIFIED FROM THE ORIGINAL"),
        place=agency.name,
        issued=local.date(),
        facts=[
            (_("Document"), title),
            (_("Certification number"), number),
            (_("Certified for"), applicant_name),
            (_("Certified at"), local.strftime("%H:%M, %d/%m/%Y")),
        ],
        blocks=[
            _("Certified that this copy is true to the original shown to the certifying officer."),
            _("The copy is attached to this file as “%(name)s”.") % {"name": "ban-sao.pdf"}
            if scan_type == "application/pdf"
            else _("The copy is reproduced below."),
        ],
        image=scan if scan_type != "application/pdf" else None,
        signature=Signature(
            title=_("Certifying officer"),
            name=str(getattr(officer, "full_name", "") or officer.email),
            note=_("Signed digitally"),
        ),
        qr=[(verify_url, _("Scan to verify this copy"))],
        metadata={"title": f"{title} ({number})", "subject": number},
    )
    out = io.BytesIO()
    sheet_pdf(sheet, out, texts=sheets.texts())
    return out.getvalue()


def _sign(data: bytes, *, actor: User, scan: bytes, scan_type: str) -> tuple[bytes, list[str]]:
    schema = connection.schema_name
    attachments: tuple[signing.Attachment, ...] = ()
    if scan_type == "application/pdf":
        attachments = (
            signing.Attachment("ban-sao.pdf", scan, "application/pdf", _("The certified copy")),
        )
    signers: list[str] = []
    try:
        person = signing.person_signer(schema, actor.pk)
    except signing.SigningError:
        person = None
    if person is not None:
        data = signing.pdf_sign(
            data,
            person,
            field_name="CertifyingOfficer",
            reason=_("Certified copy from the original"),
            attachments=attachments,
        )
        signers.append(person.subject)
        attachments = ()
    organisation = signing.organisation_signer(schema)
    data = signing.pdf_sign(
        data,
        organisation,
        field_name="Agency",
        reason=_("Certified copy from the original"),
        attachments=attachments,
    )
    signers.append(organisation.subject)
    return data, signers


def certified_copy_issue(
    *,
    actor: User,
    title: str,
    base_url: str,
    scan: Any = None,
    document: DossierDocument | None = None,
    owner: Any = None,
) -> CertifiedCopy:
    """Certify ``scan`` (an upload) or ``document`` (of a dossier) as a copy of its original,
    for ``owner`` (a dossier's applicant by default). ``base_url``: the agency's portal root,
    for the QR code printed on the copy."""
    if not roles_of(actor) & set(CERTIFIERS):
        raise ValidationError(_("Only the agency's officers can certify copies."), code="role")
    title = " ".join(str(title or "").split())
    if not title:
        raise ValidationError(_("Name the document being certified (e.g. birth certificate)."))
    if len(title) > TITLE_MAX:
        raise ValidationError(
            _("The document's name is too long (at most %(max)d characters).") % {"max": TITLE_MAX}
        )
    dossier: Dossier | None = None
    if document is not None:
        dossier = document.dossier
        owner = owner or dossier.applicant
        with document.file.open("rb") as fh:
            data = bytes(fh.read())
        content_type = document.content_type
    else:
        if scan is None:
            raise ValidationError(_("Choose the scan of the original to certify."))
        checked = check_file(scan, component=_("Scan of the original"))
        scan.seek(0)
        data = b"".join(scan.chunks())
        content_type = checked.content_type
    if content_type not in SCAN_TYPES:
        raise ValidationError(_("A certified copy is made from a PDF, JPEG or PNG scan."))
    if owner is None or not getattr(owner, "pk", None):
        raise ValidationError(
            _(
                "The copy goes to the citizen's document store: the citizen needs an account "
                "on the portal."
            ),
            code="owner",
        )
    agency = connection.tenant
    now = timezone.now()
    reference = reference_new()
    verify_url = base_url.rstrip("/") + reference_path(reference)
    written: list[str] = []
    try:
        with transaction.atomic():
            number = _number(timezone.localtime(now).year)
            pdf = _certification_pdf(
                agency=agency,
                title=title,
                number=number,
                applicant_name=str(owner.full_name or owner.email),
                officer=actor,
                when=now,
                scan=data,
                scan_type=content_type,
                verify_url=verify_url,
            )
            try:
                signed, signers = _sign(pdf, actor=actor, scan=data, scan_type=content_type)
            except signing.SigningError as exc:
                raise ValidationError(
                    _("The copy could not be signed: %(reason)s") % {"reason": exc}
                ) from None
            copy = CertifiedCopy(
                reference=reference,
                number=number,
                title=title,
                applicant=owner,
                applicant_name=str(owner.full_name or owner.email)[:200],
                dossier=dossier,
                source_document=document,
                scan_sha256=hashlib.sha256(data).hexdigest(),
                scan_content_type=content_type,
                size=len(signed),
                sha256=hashlib.sha256(signed).hexdigest(),
                certified_at=now,
                certified_by=actor,
                signers=signers,
            )
            copy.file.save(f"{reference}.pdf", ContentFile(signed), save=False)
            written.append(copy.file.name)
            copy.save()
            audit_record(
                action="copies.certified",
                actor=actor,
                target=dossier.code if dossier else number,
                number=number,
                title=title,
            )
            stored_document_add_certified_copy(owner=owner, agency=agency, copy=copy)
    except BaseException:
        files_delete(written)
        raise
    return copy


def copy_owner_find(identifier: str) -> Any:
    """The citizen an officer names by e-mail or personal ID number (None if no account)."""

    value = str(identifier or "").strip()
    if not value:
        return None
    if "@" in value:
        return User.objects.filter(email__iexact=value, is_active=True).first()
    return User.objects.filter(personal_id_number=value, is_active=True).first()
