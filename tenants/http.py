"""The request as our views see it: the routing middleware sets the agency on it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

if TYPE_CHECKING:
    from tenants.models import Agency


class AgencyRequest(HttpRequest):
    """An HttpRequest after AgencyRoutingMiddleware: ``agency`` is None on the public site."""

    agency: Agency | None
    tenant: Any
    urlconf: str
