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
