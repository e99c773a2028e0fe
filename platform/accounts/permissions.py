"""Who may do what in the agency whose host serves the request. Checked server-side, always."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.mfa import mfa_redirect, mfa_satisfied
from accounts.models import Membership, Role, User

F = TypeVar("F", bound=Callable[..., HttpResponse])

_CACHE_ATTR = "_agency_roles"


def signed_in(request: HttpRequest) -> User:
    """The signed-in user of a view that requires one (as the services' ``actor: User``)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def agency_roles(request: HttpRequest) -> frozenset[str]:
    """The signed-in user's roles in the request's agency (empty on the public site)."""
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is not None:
        return cast(frozenset[str], cached)
    agency = getattr(request, "agency", None)
    user = request.user
    roles: frozenset[str] = frozenset()
    if agency is not None and user.is_authenticated:
        membership = (
            Membership.objects.filter(user_id=user.pk, agency_id=agency.pk, is_active=True)
            .only("roles")
            .first()
        )
        if membership is not None:
            roles = frozenset(membership.roles)
    setattr(request, _CACHE_ATTR, roles)
    return roles


def has_role(request: HttpRequest, *roles: str) -> bool:
    return bool(agency_roles(request) & set(roles))


def agency_role_required(*roles: str) -> Callable[[F], F]:
    """Allow the view only to members of this agency holding one of ``roles``, signed in
    with two-factor authentication (without it: redirected to set it up or enter a code)."""
    allowed = set(roles) or {r.value for r in Role}

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not agency_roles(request) & allowed:
                raise PermissionDenied
            # Every staff role works with two-factor sign-in (accounts.mfa).
            if not mfa_satisfied(request):
                return mfa_redirect(request)
            return view(request, *args, **kwargs)

        return cast(F, wrapper)

    return decorator
