"""Console pages for one agency: what it uses and owes, its health; suspend, reactivate, export
its exit pack (and offboard), download a pack and restore it as a new agency.

Thin: each action calls one service in ``onboarding.offboarding`` and redirects back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.provider_staff import provider_staff_required
from billing.selectors import (
    agency_invoice_shares,
    agency_usage_month,
    current_subscription,
    received_per_day,
)
from onboarding import offboarding
from onboarding.models import ExitPackRun
from onboarding.selectors import agency_health
from tenants.models import Agency, AgencyStatus


@provider_staff_required
def console_agency(request: HttpRequest, pk: int) -> HttpResponse:
    """One agency as the provider sees it: usage this month, invoices, health, exit packs."""
    agency = get_object_or_404(Agency.objects.prefetch_related("domains"), pk=pk)
    runs = list(ExitPackRun.objects.filter(agency=agency)[:20])
    running = next((r for r in runs if r.status in ("queued", "running")), None)
    usage = agency_usage_month(agency=agency, today=timezone.localdate())
    return render(
        request,
        "onboarding/console_agency.html",
        {
            "target": agency,
            "events": agency.events.all()[:50],
            "runs": runs,
            "running": running,
            "servable": agency.status in (AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED),
            "usage": usage,
            "received_per_day": received_per_day(usage),
            "subscription": current_subscription(agency=agency),
            "invoices": agency_invoice_shares(agency=agency, limit=60),
            "health": agency_health(agency=agency),
            "restore_slug": f"{agency.slug}-khoi-phuc"[:63],
        },
    )


def _act(
    request: HttpRequest, pk: int, action: Callable[[Agency, str], Any], done: str
) -> HttpResponse:
    agency = get_object_or_404(Agency, pk=pk)
    try:
        action(agency, request.user.email)  # type: ignore[union-attr]
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, done % {"name": agency.name})
    return redirect("console-agency", pk=pk)


@provider_staff_required
@require_POST
def console_agency_suspend(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "").strip()
    return _act(
        request,
        pk,
        lambda agency, actor: offboarding.agency_suspend(
            agency=agency, actor_email=actor, reason=reason
        ),
        _("%(name)s is suspended: citizens can still track their dossiers and fetch results."),
    )


@provider_staff_required
@require_POST
def console_agency_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda agency, actor: offboarding.agency_reactivate(agency=agency, actor_email=actor),
        _("%(name)s is active again."),
    )


@provider_staff_required
@require_POST
def console_agency_exit_pack(request: HttpRequest, pk: int) -> HttpResponse:
    offboard = bool(request.POST.get("offboard"))
    return _act(
        request,
        pk,
        lambda agency, actor: offboarding.exit_pack_run_request(
            agency=agency, offboard=offboard, actor_email=actor
        ),
        _("The exit pack of %(name)s is being written."),
    )


@provider_staff_required
def console_exit_pack_progress(request: HttpRequest, pk: int) -> JsonResponse:
    run = get_object_or_404(ExitPackRun, pk=pk)
    return JsonResponse(
        {
            "id": run.pk,
            "state": run.status,
            "state_label": run.status,
            "step": run.step,
            "percent": 100 if run.status == "finished" else run.percent,
            "error": run.error,
            "sha256": run.sha256,
            "finished": run.status in ("finished", "failed"),
        }
    )


@provider_staff_required
def console_exit_pack_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    run = get_object_or_404(ExitPackRun.objects.select_related("agency"), pk=pk)
    try:
        stream, filename = offboarding.exit_pack_download(
            run=run,
            actor_email=request.user.email,  # type: ignore[union-attr]
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("console-agency", pk=run.agency_id)
    return FileResponse(
        stream, as_attachment=True, filename=filename, content_type="application/zip"
    )


@provider_staff_required
@require_POST
def console_exit_pack_restore(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ExitPackRun.objects.select_related("agency"), pk=pk)
    slug = request.POST.get("slug", "").strip().lower()
    name = request.POST.get("name", "").strip()
    if not slug:
        messages.error(request, _("Give the restored agency a slug (its hostname)."))
        return redirect("console-agency", pk=run.agency_id)
    try:
        agency = offboarding.exit_pack_restore(
            run=run,
            slug=slug,
            name=name,
            actor_email=request.user.email,  # type: ignore[union-attr]
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("console-agency", pk=run.agency_id)
    messages.success(
        request,
        _("%(name)s was restored from the exit pack as a new agency.") % {"name": agency.name},
    )
    return redirect("console-agency", pk=agency.pk)
