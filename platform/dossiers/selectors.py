"""Read-side queries of dossiers and drafts."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from dossiers.models import Dossier, DossierDraft, DraftDocument


def dossiers_of_applicant(user: Any) -> QuerySet[Dossier]:
    return Dossier.objects.filter(applicant_id=user.pk).select_related("procedure")


def drafts_of_applicant(user: Any) -> QuerySet[DossierDraft]:
    return DossierDraft.objects.filter(
        applicant_id=user.pk, expires_at__gt=timezone.now()
    ).select_related("procedure")


def draft_documents_by_component(draft: DossierDraft | None) -> dict[int, list[DraftDocument]]:
    grouped: dict[int, list[DraftDocument]] = {}
    if draft is None:
        return grouped
    for doc in draft.documents.all():
        grouped.setdefault(doc.component_position, []).append(doc)
    return grouped


def dossier_moved_to(code: str) -> str | None:
    """The slug of the agency a dossier of this agency moved to in a split (reorg), if any."""
    from dossiers.models import DossierMoved

    return DossierMoved.objects.filter(code=code).values_list("agency_slug", flat=True).first()
