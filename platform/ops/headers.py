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


def external_form_targets() -> list[str]:
    """The origins our forms may send the browser on to: the services a person signs in or pays
    at (VNeID, the national payment platform), read from the settings at each request."""
    from urllib.parse import urlsplit

    urls = [str(getattr(settings, "NATIONAL_PAYMENT_URL", "") or "")]
    providers = getattr(settings, "SOCIALACCOUNT_PROVIDERS", {}) or {}
    for app in (providers.get("vneid") or {}).get("APPS") or []:
        urls.append(str((app.get("settings") or {}).get("server_url") or ""))
    origins = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return list(dict.fromkeys(origins))


class ExternalFormTargetsMiddleware:
    """Adds those origins to the Content-Security-Policy's ``form-action``: a form posting to us
    that is answered by a redirect there (the VNeID button, "pay through the national
    platform") is otherwise blocked by the browser, which checks redirects against it.
    Sits inside django-csp's middleware, which reads ``response._csp_update``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        origins = external_form_targets()
        if origins:
            update = dict(getattr(response, "_csp_update", None) or {})
            update["form-action"] = [*update.get("form-action", []), *origins]
            response._csp_update = update  # type: ignore[attr-defined]  # read by django-csp
        return response
