"""``{% dossier_results dossier user as info %}``: what the applicant's dossier page shows
about results, the rating and withdrawal (without changing the portal's view)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import template

from dossiers.models import DossierStatus
from results.services import rating_of, results_for_applicant

if TYPE_CHECKING:
    from accounts.models import User

register = template.Library()


@register.simple_tag
def dossier_results(dossier: Any, user: User) -> dict[str, Any]:
    own = dossier.applicant_id is not None and dossier.applicant_id == getattr(user, "pk", None)
    if not own:
        return {"own": False}
    rating = rating_of(dossier)
    return {
        "own": True,
        "results": results_for_applicant(dossier=dossier, user=user),
        "rating": rating,
        "may_rate": rating is None and dossier.status == DossierStatus.RETURNED,
        "may_withdraw": dossier.is_open,
        "scores": range(1, 6),
    }
