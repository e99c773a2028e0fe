"""Writes to people and their memberships."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Membership, Role, User
from tenants.models import Agency


def membership_grant(*, user: User, agency: Agency, roles: Iterable[str]) -> Membership:
    """Give ``user`` these roles in ``agency`` (replacing earlier ones)."""
    wanted = sorted(set(roles))
    unknown = set(wanted) - set(Role.values)
    if unknown:
        raise ValidationError(
            _("Unknown role(s): %(roles)s."), code="role", params={"roles": ", ".join(unknown)}
        )
    if not wanted:
        raise ValidationError(_("Choose at least one role."), code="required")
    with transaction.atomic():
        membership, _created = Membership.objects.update_or_create(
            user=user, agency=agency, defaults={"roles": wanted, "is_active": True}
        )
    return membership


def profile_update(
    *, user: User, full_name: str, personal_id_number: str, phone: str, address: str
) -> User:
    """A citizen's own details, reused to prefill every agency's forms."""
    user.full_name = full_name.strip()
    user.personal_id_number = personal_id_number.strip()
    user.phone = phone.strip()
    user.address = address.strip()
    user.full_clean(exclude=["password", "email"])
    user.save(update_fields=["full_name", "personal_id_number", "phone", "address"])
    return user
