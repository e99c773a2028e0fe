"""Writes to people and their memberships."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import AccountEvent, Membership, Role, User
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


# What provider staff may change on someone's account in the admin. The e-mail address is the
# sign-in identity (verified by its owner) and the password is the owner's: neither is here.
STAFF_EDITABLE_FIELDS = ("full_name", "phone", "is_active", "is_staff", "is_superuser")


def user_update_by_staff(*, user_id: int, changes: dict[str, Any], actor: User) -> User:
    """Apply provider staff's changes to an account and record them (``AccountEvent``)."""
    unknown = set(changes) - set(STAFF_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed here: %(fields)s."),
            code="field",
            params={"fields": ", ".join(sorted(unknown))},
        )
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        changed = {
            field: {"from": getattr(user, field), "to": value}
            for field, value in changes.items()
            if getattr(user, field) != value
        }
        if not changed:
            return user
        for field, change in changed.items():
            setattr(user, field, change["to"])
        user.full_clean(exclude=["password", "email"])
        user.save(update_fields=list(changed))
        AccountEvent.objects.create(
            user=user,
            event="changed_by_staff",
            detail={"fields": changed},
            actor_email=getattr(actor, "email", "") or "",
        )
    return user
