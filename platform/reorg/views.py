"""Provider console: plan a merge or a split (dry run), start it, follow its progress and its
audit."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.provider_staff import provider_staff_required
from reorg import selectors, services, splits, tasks
from reorg.forms import MergeForm, SplitForm
from reorg.models import Merge, MergeStatus, Split
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
            "new_target": form.new_target(),
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


def progress_of(merge: Merge | Split) -> dict[str, object]:
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


@provider_staff_required
@require_http_methods(["GET", "POST"])
def console_splits(request: HttpRequest) -> HttpResponse:
    form = SplitForm(request.POST or None)
    plan = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        args = {
            "source": data["source"],
            "target": data["target"],
            "procedures": data["procedures"],
            "staff": data["staff"],
            "effective_on": data["effective_on"],
            "choices": data["choices"],
            "new_target": form.new_target(),
        }
        try:
            if "start" in request.POST:
                split = splits.split_create(**args, actor_email=request.user.email)  # type: ignore[union-attr]
                transaction.on_commit(lambda: tasks.split_run.delay(split.pk))
                messages.success(request, _("The split has started."))
                return redirect("console-split", pk=split.pk)
            plan = splits.split_plan(**args)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
    return render(
        request,
        "reorg/console_splits.html",
        {"form": form, "plan": plan, "splits": selectors.splits()},
    )


@provider_staff_required
@require_http_methods(["GET", "POST"])
def console_split(request: HttpRequest, pk: int) -> HttpResponse:
    split = get_object_or_404(Split.objects.select_related("source", "target"), pk=pk)
    if request.method == "POST":
        if "verify" in request.POST and split.status == MergeStatus.FINISHED:
            splits.split_verify(split)
            messages.success(request, _("Verified again."))
        elif "resume" in request.POST and split.status != MergeStatus.FINISHED:
            transaction.on_commit(lambda: tasks.split_run.delay(split.pk))
            messages.success(request, _("The split has been started again."))
        return redirect("console-split", pk=split.pk)
    return render(
        request,
        "reorg/console_split.html",
        {
            "split": split,
            "steps": split.steps.all(),
            "events": AgencyEvent.objects.filter(agency__in=[split.source, split.target])
            .filter(event__startswith="split")
            .select_related("agency")
            .order_by("-created_at")[:50],
            "verification": split.verification.get("tables", {}),
            "progress": progress_of(split),
        },
    )


@provider_staff_required
@require_GET
def console_split_progress(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(progress_of(get_object_or_404(Split, pk=pk)))
