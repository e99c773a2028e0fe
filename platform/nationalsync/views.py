"""The console's reconciliation page (``/console/dong-bo/``, provider staff). Thin."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.provider_staff import provider_staff_required
from nationalsync.selectors import failed_rows, reconciliation
from nationalsync.services import SyncFailed, portal_acknowledged_keys


@provider_staff_required
@require_GET
def console_reconciliation(request: HttpRequest) -> HttpResponse:
    error = ""
    keys = None
    if request.GET.get("verify"):
        try:
            keys = portal_acknowledged_keys()
        except SyncFailed as exc:
            error = str(exc)
    context = {
        "rows": reconciliation(portal_keys=keys),
        "verified": keys is not None,
        "error": error,
        "failed": failed_rows(),
    }
    return render(request, "nationalsync/reconciliation.html", context)
