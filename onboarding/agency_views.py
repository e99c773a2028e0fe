"""Console pages for one agency: suspend, reactivate, export its exit pack (and offboard).

Thin: each action calls one service in ``onboarding.offboarding`` and redirects back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from onboarding import offboarding
from onboarding.models import ExitPackRun
from tenants.models import Agency, AgencyStatus


@staff_member_required
def console_agency(request: HttpRequest, pk: int) -> HttpResponse:
    agency = get_object_or_404(Agency.objects.prefetch_related("domains"), pk=pk)
    runs = ExitPackRun.objects.filter(agency=agency)[:20]
    running = next((r for r in runs if r.status in ("queued", "running")), None)
    return render(
        request,
        "onboarding/console_agency.html",
        {
            "target": agency,
            "events": agency.events.all()[:50],
            "runs": runs,
            "running": running,
            "servable": agency.status in (AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED),
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


@staff_member_required
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


@staff_member_required
@require_POST
def console_agency_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda agency, actor: offboarding.agency_reactivate(agency=agency, actor_email=actor),
        _("%(name)s is active again."),
    )


@staff_member_required
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


@staff_member_required
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
