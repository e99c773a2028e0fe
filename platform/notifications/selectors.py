"""Reading notifications and Form 04 apologies (in the active agency's schema)."""

from __future__ import annotations

from typing import Any

from accounts.models import Role
from dossiers.models import Apology, ApologyStatus

APOLOGY_LIST_LIMIT = 50


def apologies_to_sign(*, user: Any) -> list[Apology]:
    """The Form 04 drafts waiting for a leader's signature, the earliest due first (none for
    someone who is not a leader here)."""
    from desk.engine import roles_of

    if Role.LEADER not in roles_of(user):
        return []
    return list(
        Apology.objects.filter(status=ApologyStatus.DRAFT)
        .select_related("dossier", "dossier__procedure")
        .order_by("old_due_date", "pk")[:APOLOGY_LIST_LIMIT]
    )
