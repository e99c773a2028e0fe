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
