"""Reading notifications and Form 04 apologies (in the active agency's schema)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.models import Role
from dossiers.models import Apology, ApologyStatus

if TYPE_CHECKING:
    from accounts.models import User

APOLOGY_LIST_LIMIT = 50


def apologies_to_sign(*, user: User) -> list[Apology]:
    """The Form 04 drafts waiting for a leader's signature, the earliest due first (none for
    someone who is not a leader here)."""
    from dossiers.engine import roles_of

    if Role.LEADER not in roles_of(user):
        return []
    return list(
        Apology.objects.filter(status=ApologyStatus.DRAFT)
        .select_related("dossier", "dossier__procedure")
        .order_by("old_due_date", "pk")[:APOLOGY_LIST_LIMIT]
    )
