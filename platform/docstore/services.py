"""Writes and reads of the document store. Entries are public-schema rows; files stay in
the issuing agency's storage and are opened with that agency's schema active."""

from __future__ import annotations

from typing import IO, Any

from django.core.files.storage import default_storage
from django.db.models import QuerySet

from docstore.models import DocumentKind, StoredDocument
from tenants.context import agency_context
from tenants.models import Agency


def stored_document_add_result(
    *, owner: Any, agency: Agency, result: Any, issued: Any = None
) -> StoredDocument:
    """Keep an issued result document in its applicant's store (once; repeats return it).

    ``issued``: the signed PDF the agency issued for it (documents.IssuedDocument), which is
    then what the store keeps; without one, the file the officer attached."""
    dossier = result.dossier
    if issued is not None:
        stem = result.original_name.rsplit(".", 1)[0] or dossier.code
        kept = {
            "file_name": issued.file.name,
            "original_name": f"{stem}.pdf"[:200],
            "content_type": "application/pdf",
            "size": issued.size,
            "sha256": issued.sha256,
        }
    else:
        kept = {
            "file_name": result.file.name,
            "original_name": result.original_name,
            "content_type": result.content_type,
            "size": result.size,
            "sha256": result.sha256,
        }
    document, _created = StoredDocument.objects.get_or_create(
        owner_id=owner.pk,
        agency_id=agency.pk,
        kind=DocumentKind.RESULT,
        source_id=result.pk,
        defaults={
            "dossier_code": dossier.code,
            "procedure_name": dossier.procedure.name[:500],
            "number": result.number,
            **kept,
            "issued_at": result.issued_at,
        },
    )
    return document


def stored_document_add_certified_copy(*, owner: Any, agency: Agency, copy: Any) -> StoredDocument:
    """Keep an electronic certified copy (``copies.CertifiedCopy``) in its applicant's store."""
    document, _created = StoredDocument.objects.get_or_create(
        owner_id=owner.pk,
        agency_id=agency.pk,
        kind=DocumentKind.CERTIFIED_COPY,
        source_id=copy.pk,
        defaults={
            "dossier_code": copy.dossier.code if copy.dossier_id else "",
            # What the copy is of (e.g. "Giấy khai sinh"): matched against dossier components.
            "procedure_name": copy.title[:500],
            "number": copy.number,
            "file_name": copy.file.name,
            "original_name": f"ban-sao-chung-thuc-{copy.reference}.pdf",
            "content_type": "application/pdf",
            "size": copy.size,
            "sha256": copy.sha256,
            "issued_at": copy.certified_at,
        },
    )
    return document


def documents_of(owner: Any) -> QuerySet[StoredDocument]:
    """The owner's stored documents, newest first, with their agencies."""
    return StoredDocument.objects.filter(owner_id=owner.pk).select_related("agency")


def stored_document_for(*, owner: Any, document_id: int) -> StoredDocument | None:
    """The owner's own entry, or None (another person's id is treated as unknown)."""
    return documents_of(owner).filter(pk=document_id).first()


def stored_document_open(*, document: StoredDocument) -> IO[bytes]:
    """Open the file in the issuing agency's storage (explicitly that agency's schema)."""
    with agency_context(document.agency):
        return default_storage.open(document.file_name, "rb")


# Words too common in document names to say two documents are alike.
COMMON_WORDS = frozenset(
    [
        "ban",
        "sao",
        "chinh",
        "cua",
        "va",
        "cac",
        "hoac",
        "theo",
        "mau",
        "so",
        "the",
        "cho",
        "ve",
        "tai",
        "nguoi",
        "don",
        "to",
        "ho",
        "so",
        "copy",
        "of",
        "the",
        "and",
        "or",
        "a",
        "an",
        "for",
        "form",
    ]
)


def _words(text: str) -> set[str]:
    import unicodedata

    plain = unicodedata.normalize("NFD", str(text or "").lower().replace("đ", "d"))
    plain = "".join(ch if ch.isalnum() else " " for ch in plain if not unicodedata.combining(ch))
    return {w for w in plain.split() if len(w) > 1 and w not in COMMON_WORDS}


def documents_matching(owner: Any, component_name: str) -> list[StoredDocument]:
    """The owner's stored documents that look like what a dossier component asks for: most of
    the document's own name (its procedure or title) appears in the component's name."""
    wanted = _words(component_name)
    if not wanted:
        return []
    found: list[tuple[int, StoredDocument]] = []
    for document in documents_of(owner):
        own = _words(document.procedure_name)
        shared = len(own & wanted)
        if shared >= 2 and shared * 2 >= len(own):
            found.append((shared, document))
    found.sort(key=lambda pair: -pair[0])
    return [document for _score, document in found]


def stored_document_read(*, document: StoredDocument) -> bytes:
    """The entry's file, checked against the digest recorded when it was stored."""
    import hashlib

    with stored_document_open(document=document) as fh:
        data = bytes(fh.read())
    if hashlib.sha256(data).hexdigest() != document.sha256:
        raise ValueError("the stored file does not match its entry")
    return data
