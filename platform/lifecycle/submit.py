"""Receiving dossiers and keeping drafts, in the active agency's schema.

``dossier_submit`` is the one way a dossier comes into being (online, API,
national portal, desk). It validates everything first and then has the lifecycle
(``lifecycle.dossier_receive``) write the dossier, its documents, its first
history event and its effects in one transaction: all or nothing. Files written before
a failed commit are removed.
"""

from __future__ import annotations

# Applicant, SubmitResult and documents_store are imported from dossiers.submission and
# named here too: callers of dossier_submit build and read them from this module.
__all__ = [
    "Applicant",
    "CheckedSubmission",
    "ExternalIdConflict",
    "SubmitResult",
    "documents_store",
    "dossier_check",
    "dossier_lookup",
    "dossier_submit",
    "draft_delete",
    "draft_for_user",
    "draft_save",
    "drafts_purge_expired",
]

import datetime as dt
import hmac
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.validators import validate_personal_id, validate_phone
from billing.selectors import agency_billing_restricted
from core.failpoints import failpoint
from docstore.models import StoredDocument
from docstore.services import stored_document_for, stored_document_read
from dossiers import codes
from dossiers.files import ALLOWED_TYPES, CheckedFile, check_file, check_total, files_delete
from dossiers.formdata import check_draft_answers, clean_form_data, too_long
from dossiers.models import (
    Channel,
    Dossier,
    DossierDraft,
    DraftDocument,
)
from dossiers.submission import (
    Applicant,
    CheckedSubmission,
    SubmitResult,
    documents_store,
)
from lifecycle.intake import dossier_receive
from procedures.models import AgencyProcedure, ProcedureVersion
from tenants.context import on_commit_in_schema
from tenants.models import Agency, AgencyStatus

logger = logging.getLogger(__name__)

DRAFT_LIFETIME = dt.timedelta(days=30)
FORM_ERROR_PREFIX = "form."
ONLINE_CHANNELS = (Channel.ONLINE, Channel.NATIONAL_PORTAL)


class ExternalIdConflict(Exception):
    """An external id already names a dossier received with different content."""

    def __init__(self, dossier: Dossier) -> None:
        super().__init__(dossier.external_id)
        self.dossier = dossier


def _known_external(external_id: str, fingerprint: str) -> SubmitResult | None:
    existing = Dossier.objects.filter(external_id=external_id).first()
    if existing is None:
        return None
    if fingerprint and existing.external_fingerprint != fingerprint:
        raise ExternalIdConflict(existing)
    return SubmitResult(existing, created=False)


# The longest value each applicant detail may have (the Dossier columns' sizes).
APPLICANT_MAX_LENGTHS = {
    "applicant_name": 200,
    "applicant_id_number": 12,
    "applicant_phone": 20,
    "applicant_email": 254,
    "applicant_address": 300,
}


def _check_identity(
    procedure: AgencyProcedure, applicant: Applicant, errors: dict[str, list[str]]
) -> None:
    """Online: details VNeID verified are the applicant's, unchanged; a procedure may require
    a VNeID identity of some level to be submitted at all."""
    from vneid.services import identity_applicant_values, identity_of

    identity = identity_of(applicant.user)
    if identity is not None:
        given = {
            "applicant_name": applicant.name.strip(),
            "applicant_id_number": applicant.id_number.strip(),
            "applicant_address": applicant.address.strip(),
        }
        for key, value in identity_applicant_values(identity).items():
            if given[key] != value.strip():
                errors.setdefault(key, []).append(
                    _("This detail comes from your VNeID identity and cannot be changed.")
                )
    required = procedure.identity_level_required
    if required and (identity is None or identity.level < required):
        errors.setdefault("__all__", []).append(
            _(
                "This procedure can only be submitted online with a level-%(level)d VNeID "
                "identity. Sign in with VNeID (level %(level)d) and submit again."
            )
            % {"level": required}
        )


def _check_applicant(applicant: Applicant, errors: dict[str, list[str]]) -> None:
    if not applicant.name.strip():
        errors.setdefault("applicant_name", []).append(_("The applicant's full name is required."))
    values = {
        "applicant_name": applicant.name.strip(),
        "applicant_id_number": applicant.id_number,
        "applicant_phone": applicant.phone,
        "applicant_email": applicant.email,
        "applicant_address": applicant.address,
    }
    for key, limit in APPLICANT_MAX_LENGTHS.items():
        if len(values[key]) > limit:
            errors.setdefault(key, []).append(
                _("This is too long: at most %(limit)d characters (it has %(length)d).")
                % {"limit": limit, "length": len(values[key])}
            )
    if applicant.email and len(applicant.email) <= APPLICANT_MAX_LENGTHS["applicant_email"]:
        try:
            validate_email(applicant.email)
        except ValidationError as exc:
            errors.setdefault("applicant_email", []).extend(exc.messages)
    for key, value, check in (
        ("applicant_id_number", applicant.id_number, validate_personal_id),
        ("applicant_phone", applicant.phone, validate_phone),
    ):
        if value and key not in errors:
            try:
                check(value)
            except ValidationError as exc:
                errors.setdefault(key, []).extend(exc.messages)


def _accepting_version(
    agency: Agency, procedure: AgencyProcedure, channel: str
) -> ProcedureVersion:
    """The version a new dossier is pinned to, or a clear refusal."""
    # A suspended agency, or one restricted for unpaid invoices, takes no new online dossiers;
    # tracking and results stay available to citizens.
    if channel in ONLINE_CHANNELS and (
        agency.status != AgencyStatus.ACTIVE or agency_billing_restricted(agency=agency)
    ):
        raise ValidationError(
            _(
                "%(agency)s is not accepting new online dossiers at the moment; you can still "
                "track the dossiers already submitted."
            )
            % {"agency": agency.name}
        )
    procedure = AgencyProcedure.objects.select_related("published_version").get(pk=procedure.pk)
    version = procedure.published_version
    if not procedure.is_published or version is None:
        raise ValidationError(
            _("The procedure “%(name)s” is no longer offered by this agency.")
            % {"name": procedure.name},
            code="unpublished",
        )
    if channel in ONLINE_CHANNELS and not (
        version.online_submission and version.spec.online_mode != "none"
    ):
        raise ValidationError(
            _(
                "The procedure “%(name)s” cannot be submitted online; "
                "please come to the one-stop desk."
            )
            % {"name": procedure.name},
            code="not_online",
        )
    return version


def _check_documents(
    version: ProcedureVersion,
    uploads: Mapping[int, Sequence[UploadedFile]],
    kept: Mapping[int, int],
    errors: dict[str, list[str]],
) -> dict[int, list[CheckedFile]]:
    """Per component: required ones present, counts within limits, each file acceptable.

    ``kept`` counts documents already held for a component (from a draft).
    """
    checked: dict[int, list[CheckedFile]] = {}
    components = version.spec.components
    unknown = set(uploads) - set(range(len(components)))
    if unknown:
        errors.setdefault("documents", []).append(
            _("Files were sent for a component that does not exist.")
        )
    for position, component in enumerate(components):
        files = list(uploads.get(position, ()))
        count = len(files) + kept.get(position, 0)
        key = f"component_{position}"
        if component.required and count == 0:
            errors.setdefault(key, []).append(
                _("“%(component)s” is required: attach at least one file.")
                % {"component": component.name}
            )
        if count > component.max_files:
            errors.setdefault(key, []).append(
                _("“%(component)s” accepts at most %(max)d file(s); %(count)d were given.")
                % {"component": component.name, "max": component.max_files, "count": count}
            )
        for upload in files:
            try:
                checked.setdefault(position, []).append(
                    check_file(upload, component=component.name)
                )
            except ValidationError as exc:
                errors.setdefault(key, []).extend(exc.messages)
    try:
        check_total([f for files in checked.values() for f in files])
    except ValidationError as exc:
        errors.setdefault("documents", []).extend(exc.messages)
    return checked


def dossier_check(
    *,
    agency: Agency,
    procedure: AgencyProcedure,
    applicant: Applicant,
    form_data: Mapping[str, Any],
    files: Mapping[int, Sequence[UploadedFile]] | None = None,
    draft: DossierDraft | None = None,
    channel: str = Channel.ONLINE,
) -> CheckedSubmission:
    """Everything ``dossier_submit`` checks, without writing: raises ValidationError with
    messages per field, or returns the cleaned parts.

    Error keys: ``applicant_<detail>`` for the applicant, ``form.<key>`` for the
    procedure's own fields (namespaced: a procedure may have a field called
    ``applicant_id_number`` too), ``component_<n>`` and ``documents`` for files.
    """
    version = _accepting_version(agency, procedure, channel)
    errors: dict[str, list[str]] = {}
    try:
        cleaned = clean_form_data(version.spec, dict(form_data))
    except ValidationError as exc:
        cleaned = {}
        for key, messages in exc.message_dict.items():
            errors.setdefault(f"{FORM_ERROR_PREFIX}{key}", []).extend(messages)
    _check_applicant(applicant, errors)
    if channel == Channel.ONLINE:
        _check_identity(procedure, applicant, errors)
    draft_documents = list(draft.documents.all()) if draft is not None else []
    kept: dict[int, int] = {}
    for doc in draft_documents:
        kept[doc.component_position] = kept.get(doc.component_position, 0) + 1
    checked = _check_documents(version, files or {}, kept, errors)
    if errors:
        raise ValidationError(errors)
    return CheckedSubmission(version, cleaned, checked, draft_documents)


def dossier_submit(
    *,
    agency: Agency,
    procedure: AgencyProcedure,
    applicant: Applicant,
    form_data: Mapping[str, Any],
    files: Mapping[int, Sequence[UploadedFile]] | None = None,
    draft: DossierDraft | None = None,
    channel: str = Channel.ONLINE,
    external_id: str | None = None,
    external_fingerprint: str = "",
    received_at: dt.datetime | None = None,
    received_by: Any = None,
) -> SubmitResult:
    """Receive a dossier. Raises ValidationError (a dict of messages per field) and writes
    nothing if anything is wrong.

    A known ``external_id`` returns the existing dossier (``created=False``), also when
    a concurrent delivery of it wins the race; if ``external_fingerprint`` (a digest of
    the delivered content) differs from the one stored with it, ExternalIdConflict.
    """
    if external_id:
        known = _known_external(external_id, external_fingerprint)
        if known is not None:
            return known
    checked_submission = dossier_check(
        agency=agency,
        procedure=procedure,
        applicant=applicant,
        form_data=form_data,
        files=files,
        draft=draft,
        channel=channel,
    )
    draft_documents = checked_submission.draft_documents

    received = received_at or timezone.now()
    written: list[str] = []
    try:
        with transaction.atomic():
            dossier, documents = dossier_receive(
                agency=agency,
                procedure_id=procedure.pk,
                applicant=applicant,
                submission=checked_submission,
                channel=channel,
                received=received,
                received_by=received_by,
                external_id=external_id,
                external_fingerprint=external_fingerprint,
                written=written,
                draft_documents=draft_documents,
            )
            failpoint("dossier.before_commit")
            if draft is not None:
                draft_files = [d.file.name for d in draft_documents]
                draft.delete()
                on_commit_in_schema(lambda: files_delete(draft_files))
    except IntegrityError:
        files_delete(written)
        if external_id:  # a concurrent delivery of the same external dossier won the race
            known = _known_external(external_id, external_fingerprint)
            if known is not None:
                return known
        raise
    except BaseException:
        files_delete(written)
        raise
    return SubmitResult(dossier, created=True, documents=documents)


# -- Drafts -------------------------------------------------------------------------------


def draft_save(
    *,
    user: User,
    procedure: AgencyProcedure,
    form_data: Mapping[str, Any],
    applicant_data: Mapping[str, Any] | None = None,
    files: Mapping[int, Sequence[UploadedFile]] | None = None,
    remove_documents: Sequence[int] = (),
    draft: DossierDraft | None = None,
    draft_id: uuid.UUID | None = None,
    store_documents: Mapping[int, Sequence[Any]] | None = None,
) -> DossierDraft:
    """Keep an unfinished submission on the applicant's account. Incomplete answers are
    fine here; files are still checked, so nothing unacceptable is stored.

    One form, one draft: ``draft_id`` is the id the form was given when it was first
    shown. The first save creates the draft under that id, every later save of the same
    form (again, after an error, from the back button) updates it.

    ``store_documents`` (component position → ids of entries of the applicant's document
    store) attaches documents the applicant already holds, without uploading: only the
    applicant's own entries (any agency's), copied into this agency's draft and checked
    against the digest recorded when they were stored.
    """
    version = procedure.published_version
    if not procedure.is_published or version is None:
        raise ValidationError(
            _("The procedure “%(name)s” is no longer offered by this agency.")
            % {"name": procedure.name}
        )
    if draft is None and draft_id is not None:
        draft = DossierDraft.objects.filter(pk=draft_id).first()
    if draft is not None and draft.applicant_id != user.pk:
        raise ValidationError(_("This draft belongs to someone else."))
    if draft is not None and draft.procedure_id != procedure.pk:
        raise ValidationError(
            _("This form belongs to another procedure; please start again."),
            code="draft_procedure",
        )
    components = version.spec.components
    existing = list(draft.documents.all()) if draft is not None else []
    remaining = [d for d in existing if d.pk not in set(remove_documents)]
    counts: dict[int, int] = {}
    for doc in remaining:
        counts[doc.component_position] = counts.get(doc.component_position, 0) + 1
    errors: dict[str, list[str]] = {}
    checked: dict[int, list[CheckedFile]] = {}
    for position, uploads in (files or {}).items():
        if not 0 <= position < len(components):
            errors.setdefault("documents", []).append(
                _("Files were sent for a component that does not exist.")
            )
            continue
        component = components[position]
        if counts.get(position, 0) + len(uploads) > component.max_files:
            errors.setdefault(f"component_{position}", []).append(
                _("“%(component)s” accepts at most %(max)d file(s).")
                % {"component": component.name, "max": component.max_files}
            )
        for upload in uploads:
            try:
                checked.setdefault(position, []).append(
                    check_file(upload, component=component.name)
                )
            except ValidationError as exc:
                errors.setdefault(f"component_{position}", []).extend(exc.messages)
    from_store = _store_documents_check(
        user, components, store_documents or {}, existing, remove_documents, counts, errors
    )
    # Incomplete answers are kept, but never cut: an answer the dossier could not take
    # as typed is refused now, saying the limit, rather than shortened without a word.
    text_data: dict[str, str] = {}
    try:
        text_data = check_draft_answers(version.spec, form_data)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(f"{FORM_ERROR_PREFIX}{key}", []).extend(messages)
    applicant_texts = _draft_applicant_data(applicant_data or {}, errors)
    if errors:
        raise ValidationError(errors)
    written: list[str] = []
    try:
        with transaction.atomic():
            if draft is None:
                draft = DossierDraft(applicant=user, procedure=procedure)
                if draft_id is not None:
                    draft.id = draft_id
            draft.procedure_version = version
            draft.form_data = text_data
            draft.applicant_data = applicant_texts
            draft.expires_at = timezone.now() + DRAFT_LIFETIME
            try:
                with transaction.atomic():
                    draft.save()
            except IntegrityError:
                # The same form saved twice at once (a double click): the other save made it.
                raise ValidationError(
                    _(
                        "This draft was just saved from another window. "
                        "Open it again from “My dossiers”."
                    ),
                    code="draft_race",
                ) from None
            removed = [d for d in existing if d.pk in set(remove_documents)]
            for doc in removed:
                doc.delete()
            for position, items in checked.items():
                for item in items:
                    row = DraftDocument(
                        draft=draft,
                        component_position=position,
                        original_name=item.original_name,
                        content_type=item.content_type,
                        size=item.size,
                        sha256=item.sha256,
                    )
                    row.file.save(item.stored_name(), item.upload, save=False)
                    written.append(row.file.name)
                    row.save()
            for position, entry, data in from_store:
                row = DraftDocument(
                    draft=draft,
                    component_position=position,
                    original_name=entry.original_name[:200],
                    content_type=entry.content_type,
                    size=len(data),
                    sha256=entry.sha256,
                    from_store_document=entry.pk,
                )
                extension = ALLOWED_TYPES.get(entry.content_type, ("bin", ""))[0]
                row.file.save(f"{uuid.uuid4().hex}.{extension}", ContentFile(data), save=False)
                written.append(row.file.name)
                row.save()
            removed_files = [d.file.name for d in removed]
            on_commit_in_schema(lambda: files_delete(removed_files))
    except BaseException:
        files_delete(written)
        raise
    return draft


def _store_documents_check(
    user: User,
    components: Sequence[Any],
    wanted: Mapping[int, Sequence[Any]],
    existing: Sequence[DraftDocument],
    remove_documents: Sequence[int],
    counts: dict[int, int],
    errors: dict[str, list[str]],
) -> list[tuple[int, StoredDocument, bytes]]:
    """The applicant's own stored documents to attach, read and checked (see draft_save)."""
    kept = {
        (d.component_position, d.from_store_document)
        for d in existing
        if d.pk not in set(remove_documents) and d.from_store_document is not None
    }
    found: list[tuple[int, StoredDocument, bytes]] = []
    for position, ids in wanted.items():
        key = f"component_{position}"
        if not 0 <= position < len(components):
            errors.setdefault("documents", []).append(
                _("Files were sent for a component that does not exist.")
            )
            continue
        component = components[position]
        for raw in ids:
            entry = (
                stored_document_for(owner=user, document_id=int(raw))
                if str(raw).isdigit()
                else None
            )
            if entry is None:  # another person's entry is as unknown as a made-up one
                errors.setdefault(key, []).append(_("This document is not in your document store."))
                continue
            if (position, entry.pk) in kept:
                continue  # attached already
            if entry.content_type not in ALLOWED_TYPES:
                errors.setdefault(key, []).append(
                    _("“%(file)s” cannot be attached to a dossier.") % {"file": entry}
                )
                continue
            try:
                data = stored_document_read(document=entry)
            except (OSError, ValueError):
                errors.setdefault(key, []).append(
                    _(
                        "“%(file)s” could not be read from your document store; upload the "
                        "file instead."
                    )
                    % {"file": entry}
                )
                continue
            kept.add((position, entry.pk))
            counts[position] = counts.get(position, 0) + 1
            if counts[position] > component.max_files:
                errors.setdefault(key, []).append(
                    _("“%(component)s” accepts at most %(max)d file(s).")
                    % {"component": component.name, "max": component.max_files}
                )
                continue
            found.append((position, entry, data))
    return found


def _draft_applicant_data(data: Mapping[str, Any], errors: dict[str, list[str]]) -> dict[str, str]:
    """The applicant details a draft keeps, each within its column's size (refused, never cut)."""
    kept: dict[str, str] = {}
    for key, raw in data.items():
        limit = APPLICANT_MAX_LENGTHS.get(str(key))
        if limit is None:
            continue
        text = str(raw or "")
        if (error := too_long(text.strip(), limit)) is not None:
            errors.setdefault(str(key), []).extend(error.messages)
            continue
        kept[str(key)] = text
    return kept


def draft_for_user(*, draft_id: Any, user: User) -> DossierDraft:
    """The user's own, unexpired draft; a clear error otherwise."""
    draft = (
        DossierDraft.objects.filter(pk=draft_id, applicant_id=user.pk)
        .select_related("procedure")
        .first()
    )
    if draft is None:
        raise ValidationError(
            _("This draft does not exist or belongs to someone else."), code="missing"
        )
    if draft.expires_at <= timezone.now():
        raise ValidationError(
            _("This draft expired on %(date)s and can no longer be submitted; please start again.")
            % {"date": timezone.localtime(draft.expires_at).strftime("%d/%m/%Y")},
            code="expired",
        )
    return draft


def draft_delete(*, draft: DossierDraft) -> None:
    names = [d.file.name for d in draft.documents.all()]
    with transaction.atomic():
        draft.delete()
        on_commit_in_schema(lambda: files_delete(names))


def drafts_purge_expired(*, now: dt.datetime | None = None) -> int:
    """Remove drafts past their expiry, with their files. Returns how many went."""
    expired = list(DossierDraft.objects.filter(expires_at__lte=now or timezone.now()))
    for draft in expired:
        draft_delete(draft=draft)
    return len(expired)


# -- Public tracking ---------------------------------------------------------------------


def dossier_lookup(*, code: str, secret: str) -> Dossier | None:
    """The dossier whose code *and* lookup secret match, else None (no hint which was wrong)."""
    code = code.strip().upper()
    dossier = Dossier.objects.filter(code=code).select_related("procedure").first()
    if dossier is None:  # a code from before a merge (lifecycle.move)
        dossier = Dossier.objects.filter(aliases__code=code).select_related("procedure").first()
    given = codes.normalise_secret(secret)
    expected = dossier.lookup_secret if dossier is not None else "X" * codes.SECRET_LENGTH
    if not hmac.compare_digest(given.encode(), expected.encode()) or dossier is None:
        return None
    return dossier
