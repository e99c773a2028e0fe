"""Health endpoint, served on every host (public and agency)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from ops.health import run_checks
from tenants.db import connection


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    results = run_checks()
    ok = all(r.ok for r in results)
    return JsonResponse(
        {
            "status": "ok" if ok else "error",
            "schema": connection.schema_name,
            "checks": {
                r.name: {
                    "ok": r.ok,
                    "ms": round(r.millis, 2),
                    **({"error": r.error} if r.error else {}),
                }
                for r in results
            },
        },
        status=200 if ok else 503,
    )


def ping(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers (no dependency checked; /health/ does that)."""
    return HttpResponse("ok", content_type="text/plain")


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
