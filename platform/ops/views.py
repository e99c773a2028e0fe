"""Health endpoint, served on every host (public and agency)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django_tenants.utils import get_public_schema_name

from ops.health import run_checks
from tenants.db import connection


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    results = run_checks(provider=connection.schema_name == get_public_schema_name())
    down = any(not r.ok and r.critical for r in results)
    degraded = any(not r.ok for r in results)
    return JsonResponse(
        {
            "status": "error" if down else "degraded" if degraded else "ok",
            "schema": connection.schema_name,
            "checks": {
                r.name: {
                    "ok": r.ok,
                    "ms": round(r.millis, 2),
                    **({"error": r.error} if r.error else {}),
                    **({"critical": False} if not r.critical else {}),
                    **r.detail,
                }
                for r in results
            },
        },
        status=503 if down else 200,
    )


def ping(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers (no dependency checked; /health/ does that)."""
    return HttpResponse("ok", content_type="text/plain")


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
