"""Provider staff need two-factor sign-in for the console and Django admin (public host)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from accounts.mfa import mfa_redirect, mfa_satisfied

PROVIDER_STAFF_PREFIXES = ("/console/", "/admin/")


class ProviderStaffMFAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "is_staff", False)
            and getattr(request, "agency", None) is None
            and request.path.startswith(PROVIDER_STAFF_PREFIXES)
            and not mfa_satisfied(request)
        ):
            return mfa_redirect(request)
        return self.get_response(request)
