"""An agency's staff: invitations by e-mail, role changes, deactivation. Reads and writes.

Memberships live in the public schema; each change is recorded in the agency's own audit
trail in the same transaction (all schemas share one database). Mail goes out only after
the commit. An agency always keeps at least one active administrator.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import mail
from accounts.models import Membership, Role, User
from accounts.services import membership_grant
from audit.services import audit_record
from tenants.context import agency_context
from tenants.models import Agency


@dataclass(frozen=True)
class Invitation:
    membership: Membership
    created_user: bool  # a new platform account (it has no password until the link is used)
    set_password_url: str  # empty when the person can already sign in


# -- Reads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffRow:
    membership: Membership
    role_labels: list[str]
    has_mfa: bool  # a TOTP authenticator is set up


def staff_list(*, agency: Agency) -> list[StaffRow]:
    """The agency's members, active first, with their role names and two-factor status."""
    totp = Authenticator.objects.filter(user_id=OuterRef("user_id"), type=Authenticator.Type.TOTP)
    members: QuerySet[Membership] = (
        Membership.objects.filter(agency=agency)
        .select_related("user")
        .annotate(has_mfa=Exists(totp))
        .order_by("-is_active", "user__email")
    )
    labels = dict(Role.choices)
    return [
        StaffRow(
            membership=m,
            role_labels=[str(labels.get(r, r)) for r in m.roles],
            has_mfa=bool(getattr(m, "has_mfa", False)),
        )
        for m in members
    ]


def staff_member(*, agency: Agency, membership_id: int) -> Membership:
    """One member of this agency; another agency's membership does not exist here."""
    return Membership.objects.select_related("user").get(pk=membership_id, agency=agency)


# -- Writes ------------------------------------------------------------------------------


def _field_error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise _field_error("email", _("Enter a valid e-mail address."), "invalid_email") from None
    return email


def _clean_roles(roles: Iterable[str]) -> list[str]:
    wanted = sorted(set(roles))
    unknown = set(wanted) - set(Role.values)
    if unknown:
        raise _field_error(
            "roles",
            _("Unknown role(s): %(roles)s.") % {"roles": ", ".join(sorted(unknown))},
            "role",
        )
    if not wanted:
        raise _field_error("roles", _("Choose at least one role."), "required")
    return wanted


def set_password_url(*, user: User, site_url: str) -> str:
    """A link to allauth's set-a-new-password page (its password-reset token) on ``site_url``."""
    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    return site_url.rstrip("/") + path


def _send_invitation(*, agency: Agency, to: str, context: dict[str, Any]) -> None:
    """The invitation, in the agency's words (its notification template ``staff_invitation``)
    and from its name."""
    with agency_context(agency):
        mail.account_mail_send(key=mail.STAFF_INVITATION, to=to, context=context)


def _role_labels(roles: Iterable[str]) -> str:
    labels = dict(Role.choices)
    return ", ".join(str(labels.get(r, r)) for r in roles)


def _lock_active_admins(agency: Agency) -> list[Membership]:
    return list(
        Membership.objects.select_for_update()
        .filter(agency=agency, is_active=True, roles__contains=[Role.ADMIN])
        .order_by("pk")
    )


def staff_invite(
    *,
    agency: Agency,
    email: str,
    roles: Iterable[str],
    actor: User,
    site_url: str,
    full_name: str = "",
) -> Invitation:
    """Invite ``email`` to the agency's staff with ``roles``.

    A new person gets a platform account without a usable password and an e-mail with a
    link to set one (allauth's password-reset token, on the agency's host). Someone who
    already has an account gets the membership and a notice. A current member is refused;
    a deactivated one is brought back with the new roles.
    """
    email = _normalize_email(email)
    wanted = _clean_roles(roles)
    full_name = full_name.strip()[:150]
    with transaction.atomic(), agency_context(agency):
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        created = user is None
        if user is None:
            user = User.objects.create_user(email, None, full_name=full_name)
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
        existing = Membership.objects.filter(user=user, agency=agency).first()
        if existing is not None and existing.is_active:
            raise _field_error(
                "email",
                _("%(email)s is already a member of this agency's staff.") % {"email": email},
                "duplicate",
            )
        membership = membership_grant(user=user, agency=agency, roles=wanted)
        link = "" if user.has_usable_password() else set_password_url(user=user, site_url=site_url)
        audit_record(
            action="staff.invite",
            actor=actor,
            target=email,
            roles=wanted,
            new_account=created,
            membership=membership.pk,
        )
        with translation.override(settings.LANGUAGE_CODE):  # the agency's language, not the admin's
            roles_text = _role_labels(wanted)
        context = {
            "email": email,
            "person_name": full_name or user.full_name or "ông/bà",
            "roles": roles_text,
            # A new person chooses a password; someone with an account signs in.
            "link": link or site_url.rstrip("/") + reverse("account_login"),
        }
        transaction.on_commit(partial(_send_invitation, agency=agency, to=email, context=context))
    return Invitation(membership=membership, created_user=created, set_password_url=link)


def staff_roles_change(
    *, agency: Agency, membership: Membership, roles: Iterable[str], actor: User
) -> Membership:
    """Replace a member's roles. The last active administrator keeps the admin role."""
    wanted = _clean_roles(roles)
    if membership.agency_id != agency.pk:
        raise Membership.DoesNotExist
    with transaction.atomic(), agency_context(agency):
        admins = _lock_active_admins(agency)
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if not membership.is_active:
            raise ValidationError(_("This member has been deactivated."), code="inactive")
        if (
            Role.ADMIN not in wanted
            and Role.ADMIN in membership.roles
            and [m.pk for m in admins] == [membership.pk]
        ):
            raise _field_error(
                "roles", _("The agency must keep at least one administrator."), "last_admin"
            )
        before = list(membership.roles)
        membership.roles = wanted
        membership.save(update_fields=["roles", "updated_at"])
        audit_record(
            action="staff.roles",
            actor=actor,
            target=membership.user.email,
            before=before,
            after=wanted,
            membership=membership.pk,
        )
    return membership


def staff_deactivate(*, agency: Agency, membership: Membership, actor: User) -> Membership:
    """End a membership (the account stays; other agencies are unaffected)."""
    if membership.agency_id != agency.pk:
        raise Membership.DoesNotExist
    with transaction.atomic(), agency_context(agency):
        admins = _lock_active_admins(agency)
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if not membership.is_active:
            return membership
        if [m.pk for m in admins] == [membership.pk]:
            raise ValidationError(
                _("The agency must keep at least one administrator."), code="last_admin"
            )
        membership.is_active = False
        membership.save(update_fields=["is_active", "updated_at"])
        audit_record(
            action="staff.deactivate",
            actor=actor,
            target=membership.user.email,
            membership=membership.pk,
        )
    return membership
