"""Two-factor sign-in (allauth's TOTP) for everyone who does staff work.

Who must use it: a member of an agency holding any staff role (on that agency's staff
pages: ``/quan-tri/``, ``/mot-cua/``, the API key pages — enforced in
``accounts.permissions.agency_role_required``) and the provider's own staff
(``is_staff``; ``/console/`` and ``/admin/`` on the public host — enforced by
``ProviderStaffMFAMiddleware``). Citizens never see it.

What counts as satisfied: the user has a TOTP authenticator **and** this session proved
it. allauth records an ``mfa`` authentication method in the session when the code is
entered at login or re-authentication; a session that has just activated TOTP (the code
was entered on the activation form) is marked by ``SESSION_KEY`` below. Tests that use
``force_login`` set the same key (``tests.fixtures.mfa.mfa_login``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

# Set (to the user's id) when TOTP is activated in this session: the code was just entered.
SESSION_KEY = "motcua_mfa_verified_user"
_CACHE_ATTR = "_motcua_mfa_satisfied"


def user_has_totp(user: Any) -> bool:
    return bool(
        Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()
    )


def session_mfa_verified(request: HttpRequest) -> bool:
    """Whether this session's sign-in included the second factor."""
    user = request.user
    if request.session.get(SESSION_KEY) == str(user.pk):
        return True
    return any(r.get("method") == "mfa" for r in get_authentication_records(request, user))


def mfa_satisfied(request: HttpRequest) -> bool:
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is not None:
        return bool(cached)
    ok = user_has_totp(request.user) and session_mfa_verified(request)
    setattr(request, _CACHE_ATTR, ok)
    return ok


def mfa_redirect(request: HttpRequest) -> HttpResponse:
    """Send the user to set up TOTP, or to enter a code if they have it but this session did not."""
    query = urlencode({"next": request.get_full_path()})
    if user_has_totp(request.user):
        messages.warning(
            request, _("Enter the code from your authenticator app to continue to staff pages.")
        )
        return HttpResponseRedirect(f"{reverse('mfa_reauthenticate')}?{query}")
    messages.warning(
        request,
        _(
            "Staff must use two-factor sign-in. Set up an authenticator app "
            "to continue to staff pages."
        ),
    )
    return HttpResponseRedirect(f"{reverse('mfa_activate_totp')}?{query}")


# -- Signal receivers (connected in AccountsConfig.ready) --------------------------------


def on_authenticator_added(
    sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any
) -> None:
    authenticator = kwargs.get("authenticator")
    if request is None or user is None or authenticator is None:
        return
    if authenticator.type == Authenticator.Type.TOTP:
        request.session[SESSION_KEY] = str(user.pk)


def on_password_reset(
    sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any
) -> None:
    """A password set from a link mailed to the address proves the address: mark it verified.

    Invited staff (and onboarded agency admins) first sign in this way; without it the
    mandatory e-mail verification would send them a second mail before they can sign in.
    """
    if user is None or not user.email:
        return
    address, _created = EmailAddress.objects.get_or_create(
        user=user,
        email__iexact=user.email,
        defaults={
            "email": user.email,
            "primary": not EmailAddress.objects.filter(user=user, primary=True).exists(),
        },
    )
    if not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])
