"""Read-side queries of dossiers and drafts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone

from dossiers.models import (
    Dossier,
    DossierDraft,
    DossierMoved,
    DraftDocument,
    HandOver,
    SupplementRequest,
)

if TYPE_CHECKING:
    from accounts.models import User


def dossiers_of_applicant(user: User) -> QuerySet[Dossier]:
    return Dossier.objects.filter(applicant_id=user.pk).select_related("procedure")


def drafts_of_applicant(user: User) -> QuerySet[DossierDraft]:
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


def dossier_for_desk(code: str) -> Dossier | None:
    """A dossier of the active agency by its code, with its procedure and pinned version."""
    return (
        Dossier.objects.filter(code=code).select_related("procedure", "procedure_version").first()
    )


def supplement_of(dossier: Dossier) -> SupplementRequest | None:
    return SupplementRequest.objects.filter(dossier=dossier).first()


def hand_overs(dossier: Dossier) -> QuerySet[HandOver]:
    """The processing-control sheet (Form 06) of one dossier, oldest first."""
    return HandOver.objects.filter(dossier=dossier).order_by("at", "id")


def dossier_moved_to(code: str) -> str | None:
    """The slug of the agency a dossier of this agency moved to in a split (reorg), if any."""
    return DossierMoved.objects.filter(code=code).values_list("agency_slug", flat=True).first()
