"""Recording what VNeID asserts about a person, and what the portal reads from it.

Claims (the fake in tests/fakes/vneid.py speaks the same): ``sub``; ``name``; ``personal_id``
(the 12-digit number of the citizen identity card, CCCD); ``birthdate`` (YYYY-MM-DD, OIDC);
``address`` (OIDC address object, ``formatted``); ``identity_level`` (1 or 2; level 2 is verified
in person, its name, number, birth date and address are the population register's).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vneid.models import Identity

if TYPE_CHECKING:
    from accounts.models import User

PERSONAL_ID = re.compile(r"^\d{12}$")


def identity_claims(data: dict[str, Any]) -> dict[str, Any]:
    """The identity fields from the userinfo (preferred) and the ID token, checked."""
    userinfo, token = data.get("userinfo") or {}, data.get("id_token") or {}
    merged = {**token, **userinfo}
    number = str(merged.get("personal_id") or "")
    level = merged.get("identity_level")
    if not PERSONAL_ID.match(number) or level not in (1, 2) or not merged.get("name"):
        raise ValidationError(_("VNeID did not send a complete identity."), code="vneid")
    address = merged.get("address") or {}
    birth = merged.get("birthdate") or ""
    try:
        born = dt.date.fromisoformat(birth) if birth else None
    except ValueError:
        born = None
    return {
        "subject": str(token.get("sub") or merged["sub"]),
        "full_name": str(merged["name"])[:150],
        "personal_id_number": number,
        "date_of_birth": born,
        "address": str(address.get("formatted", "") if isinstance(address, dict) else address)[
            :300
        ],
        "level": int(level),
    }


@transaction.atomic
def identity_record(*, user: User, data: dict[str, Any]) -> Identity:
    """Keep the identity VNeID asserted for ``user`` and copy it onto the account's profile."""
    claims = identity_claims(data)
    identity, _created = Identity.objects.update_or_create(
        user=user, defaults={**claims, "verified_at": timezone.now()}
    )
    user.full_name = claims["full_name"]
    user.personal_id_number = claims["personal_id_number"]
    user.address = claims["address"]
    user.save(update_fields=["full_name", "personal_id_number", "address"])
    return identity


def identity_of(user: User | None) -> Identity | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Identity.objects.filter(user=user).first()


# The applicant fields a VNeID identity fills and locks (portal form name → identity field).
LOCKED_APPLICANT_FIELDS = {
    "applicant_name": "full_name",
    "applicant_id_number": "personal_id_number",
    "applicant_address": "address",
}


def identity_applicant_values(identity: Identity) -> dict[str, str]:
    return {form: str(getattr(identity, attr)) for form, attr in LOCKED_APPLICANT_FIELDS.items()}


def agency_staff_vneid_set(*, agency: Any, required: bool) -> None:
    """Require (or not) the agency's staff to sign in with VNeID; routing sees it at once."""
    from tenants.routing import invalidate_agency

    agency.staff_vneid_required = required
    agency.save(update_fields=["staff_vneid_required", "updated_at"])
    transaction.on_commit(lambda: invalidate_agency(agency))
