"""Reads of certified copies."""

from __future__ import annotations

from django.db.models import QuerySet

from copies.models import CertifiedCopy
from documents.references import HeldDocument


def certified_copy_held(reference: str) -> HeldDocument | None:
    """The copy the active agency issued under ``reference`` (for the verification page)."""
    copy = CertifiedCopy.objects.filter(reference=reference).first()
    if copy is None:
        return None
    return HeldDocument(
        reference=copy.reference,
        title=copy.title,
        number=copy.number,
        issued_at=copy.certified_at,
        sha256=copy.sha256,
        open=lambda: copy.file.open("rb"),
    )


def copies_of_dossier(dossier_id: int) -> QuerySet[CertifiedCopy]:
    return CertifiedCopy.objects.filter(dossier_id=dossier_id)


def copies_recent(limit: int = 50) -> QuerySet[CertifiedCopy]:
    return CertifiedCopy.objects.select_related("dossier")[:limit]
