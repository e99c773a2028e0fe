"""Template context: the agency whose host serves the request (None on the public site)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def agency(request: HttpRequest) -> dict[str, Any]:
    return {
        "agency": getattr(request, "agency", None),
        "platform_name": settings.PLATFORM_NAME,
    }


def branding(request: HttpRequest) -> dict[str, Any]:
    """The agency's branding on its own pages (cached per agency)."""
    if getattr(request, "agency", None) is None:
        return {}
    from portal.branding import branding_stylesheet_version, current_branding

    branding = current_branding()
    return {"branding": branding, "branding_version": branding_stylesheet_version(branding)}
