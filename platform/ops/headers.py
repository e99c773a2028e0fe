"""The Permissions-Policy header: browser features (camera, location, ...) no page uses.

The other browser security headers come from their usual homes: Content-Security-Policy
from django-csp (``CONTENT_SECURITY_POLICY``), Referrer-Policy, X-Content-Type-Options
and Cross-Origin-Opener-Policy from Django's SecurityMiddleware, X-Frame-Options from
its XFrameOptionsMiddleware (settings/base.py, "Browser security headers").
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def permissions_policy(features: dict[str, list[str]]) -> str:
    """``{"camera": [], "fullscreen": ["self"]}`` → ``camera=(), fullscreen=(self)``."""
    return ", ".join(f"{name}=({' '.join(allowed)})" for name, allowed in features.items())


class PermissionsPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.value = permissions_policy(getattr(settings, "PERMISSIONS_POLICY", {}))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.value:
            response.headers.setdefault("Permissions-Policy", self.value)
        return response
