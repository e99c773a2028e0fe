"""Template context of the agency's own pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from portal.branding import branding_stylesheet_version, current_branding


def branding(request: HttpRequest) -> dict[str, Any]:
    """The agency's branding on its own pages (cached per agency)."""
    if getattr(request, "agency", None) is None:
        return {}
    branding = current_branding()
    return {"branding": branding, "branding_version": branding_stylesheet_version(branding)}
