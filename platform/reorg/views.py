"""Provider console: plan a merge (dry run), start it, follow its progress and its audit."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.provider_staff import provider_staff_required
from reorg import selectors, services, tasks
from reorg.forms import MergeForm
from reorg.models import Merge, MergeStatus
from tenants.models import AgencyEvent


@provider_staff_required
@require_http_methods(["GET", "POST"])
def console_merges(request: HttpRequest) -> HttpResponse:
    form = MergeForm(request.POST or None)
    plan = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        args = {
            "sources": list(data["sources"]),
            "target": data["target"],
            "effective_on": data["effective_on"],
            "choices": data["choices"],
        }
        try:
            if "start" in request.POST:
                merge = services.merge_create(**args, actor_email=request.user.email)  # type: ignore[union-attr]
                transaction.on_commit(lambda: tasks.merge_run.delay(merge.pk))
                messages.success(request, _("The merge has started."))
                return redirect("console-merge", pk=merge.pk)
            plan = services.merge_plan(**args)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
    return render(
        request,
        "reorg/console_merges.html",
        {"form": form, "plan": plan, "merges": selectors.merges()},
    )


@provider_staff_required
@require_http_methods(["GET", "POST"])
def console_merge(request: HttpRequest, pk: int) -> HttpResponse:
    merge = get_object_or_404(Merge.objects.select_related("target"), pk=pk)
    if request.method == "POST":
        if "verify" in request.POST and merge.status == MergeStatus.FINISHED:
            services.merge_verify(merge)
            messages.success(request, _("Verified again."))
        elif "resume" in request.POST and merge.status != MergeStatus.FINISHED:
            transaction.on_commit(lambda: tasks.merge_run.delay(merge.pk))
            messages.success(request, _("The merge has been started again."))
        return redirect("console-merge", pk=merge.pk)
    sources = [s.agency for s in merge.sources.select_related("agency")]
    return render(
        request,
        "reorg/console_merge.html",
        {
            "merge": merge,
            "sources": sources,
            "steps": merge.steps.all(),
            "events": AgencyEvent.objects.filter(agency__in=[merge.target, *sources])
            .filter(event__startswith="merge")
            .select_related("agency")
            .order_by("-created_at")[:50],
            "verification": merge.verification.get("sources", {}),
            "progress": progress_of(merge),
        },
    )


def progress_of(merge: Merge) -> dict[str, object]:
    return {
        "id": merge.pk,
        "state": merge.status,
        "state_label": str(merge.get_status_display()),
        "step": merge.step,
        "percent": merge.percent,
        "error": merge.error,
        "finished": merge.status in (MergeStatus.FINISHED, MergeStatus.FAILED),
    }


@provider_staff_required
@require_GET
def console_merge_progress(request: HttpRequest, pk: int) -> JsonResponse:
    merge = get_object_or_404(Merge, pk=pk)
    return JsonResponse(progress_of(merge))
