"""Who may open the provider console: the provider's own staff, signed in at its sign-in page.

``provider_staff_required`` replaces Django admin's ``staff_member_required`` on every console
view: a visitor who is not signed in goes to the console's own sign-in page (not the Django
admin's), a signed-in person who is not provider staff is told so (403), never sent in circles
between sign-in pages. The second factor is ``accounts.middleware``'s business.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

F = TypeVar("F", bound=Callable[..., HttpResponseBase])


def is_provider_staff(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def staff_login_url(next_url: str) -> str:
    return f"{reverse('console-login')}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"


def forbidden(request: HttpRequest) -> HttpResponse:
    """Signed in, but not as provider staff: said plainly (no traceback in the log)."""
    return render(request, "console/forbidden.html", status=403)


def provider_staff_required(view: F) -> F:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return HttpResponseRedirect(staff_login_url(request.get_full_path()))
        if not is_provider_staff(request.user):
            return forbidden(request)
        return view(request, *args, **kwargs)

    return cast(F, wrapper)


def admin_login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The Django admin's login page: the console's sign-in (superusers use /admin/)."""
    if request.user.is_authenticated:
        if not is_provider_staff(request.user):
            return forbidden(request)
        return HttpResponseRedirect(reverse("admin:index"))
    # The sign-in page checks the address it sends people on to (same host only).
    return HttpResponseRedirect(
        staff_login_url(request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index"))
    )
