"""Onboarding pages: the public application form and the provider console (staff only).

Thin: parse the form, call one service, render. Live progress is a small JSON endpoint polled
by static/js/progress.js; without JavaScript the pages refresh themselves.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.provider_staff import provider_staff_required
from onboarding import bulk, selectors, services
from onboarding.forms import (
    ApplicationFilterForm,
    ApplicationForm,
    ApproveForm,
    ProvinceOnboardForm,
    RejectForm,
)
from onboarding.models import RUNNING_STATES, Application, ProvinceRun
from tenants.units import DATA_DIR, provinces


def _submit(request: HttpRequest, form: ApplicationForm) -> Application | None:
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        return services.application_submit(
            kind=data["kind"],
            admin_unit_code=data["admin_unit_code"],
            name=data["name"],
            parent=data["parent"],
            contact_name=data["contact_name"],
            contact_phone=data["contact_phone"],
            admin_email=data["admin_email"],
            requested_plan=data["requested_plan"],
            actor_email=getattr(request.user, "email", "") or "",
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return None


def apply(request: HttpRequest) -> HttpResponse:
    """Public: an agency applies to join."""
    form = ApplicationForm(request.POST or None)
    if request.method == "POST" and (application := _submit(request, form)) is not None:
        return render(request, "onboarding/applied.html", {"application": application})
    return render(request, "onboarding/apply.html", {"form": form, "console": False})


@provider_staff_required
def console_application_new(request: HttpRequest) -> HttpResponse:
    form = ApplicationForm(request.POST or None)
    if request.method == "POST" and (application := _submit(request, form)) is not None:
        messages.success(request, _("Application recorded."))
        return redirect("console-application", pk=application.pk)
    return render(request, "onboarding/apply.html", {"form": form, "console": True})


@provider_staff_required
def console_applications(request: HttpRequest) -> HttpResponse:
    form = ApplicationFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = form.cleaned_data
    applications = list(
        selectors.application_list(
            province_code=filters.get("province") or None,
            kind=filters.get("kind") or None,
            state=filters.get("state") or None,
            search=(filters.get("q") or "").strip(),
        )[:500]
    )
    return render(
        request,
        "onboarding/console_applications.html",
        {
            "form": form,
            "applications": applications,
            "stuck_ids": {a.pk for a in applications if selectors.application_stuck(a)},
            "province_names": provinces(),
        },
    )


@provider_staff_required
def console_application(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(
        Application.objects.select_related("agency", "billing_account", "requested_plan"), pk=pk
    )
    checklist = (
        selectors.agency_golive_checklist(agency=application.agency)
        if application.agency is not None
        else []
    )
    return render(
        request,
        "onboarding/console_application.html",
        {
            "application": application,
            "progress": selectors.application_progress(application),
            "steps": services.STEPS,
            "events": application.events.all()[:100],
            "checklist": checklist,
            "approve_form": ApproveForm(),
            "reject_form": RejectForm(),
            "province_name": provinces().get(application.province_code, ""),
            "running": application.state in RUNNING_STATES,
            "stuck": selectors.application_stuck(application),
        },
    )


@provider_staff_required
def console_application_progress(request: HttpRequest, pk: int) -> JsonResponse:
    application = get_object_or_404(Application, pk=pk)
    return JsonResponse(selectors.application_progress(application))


def _act(request: HttpRequest, pk: int, action: Any) -> HttpResponse:
    application = get_object_or_404(Application, pk=pk)
    try:
        action(application, request.user.email)  # type: ignore[union-attr]
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("console-application", pk=pk)


@provider_staff_required
@require_POST
def console_application_approve(request: HttpRequest, pk: int) -> HttpResponse:
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid billing account."))
        return redirect("console-application", pk=pk)
    return _act(
        request,
        pk,
        lambda app, actor: services.application_approve(
            application=app, billing_account=form.cleaned_data["billing_account"], actor_email=actor
        ),
    )


@provider_staff_required
@require_POST
def console_application_reject(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _act(
        request,
        pk,
        lambda app, actor: services.application_reject(
            application=app, reason=reason, actor_email=actor
        ),
    )


@provider_staff_required
@require_POST
def console_application_retry(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda app, actor: services.application_retry(application=app, actor_email=actor),
    )


@provider_staff_required
def console_province_onboard(request: HttpRequest) -> HttpResponse:
    form = ProvinceOnboardForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["departments"]
        raw = upload.read() if upload else (DATA_DIR / "departments.sample.json").read_bytes()
        try:
            departments = bulk.departments_parse(raw)
            run = bulk.province_run_create(
                province_code=form.cleaned_data["province"],
                departments=departments,
                billing_account=form.cleaned_data["billing_account"],
                actor_email=request.user.email,  # type: ignore[union-attr]
            )
        except ValidationError as exc:
            form.add_error("departments", exc.messages)
        else:
            return redirect("console-province-run", pk=run.pk)
    return render(
        request,
        "onboarding/console_province.html",
        {"form": form, "runs": ProvinceRun.objects.all()[:20]},
    )


@provider_staff_required
def console_province_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ProvinceRun, pk=pk)
    return render(
        request,
        "onboarding/console_province_run.html",
        {"run": run, "province_name": provinces().get(run.province_code, "")},
    )


@provider_staff_required
def console_province_run_progress(request: HttpRequest, pk: int) -> JsonResponse:
    run = get_object_or_404(ProvinceRun, pk=pk)
    return JsonResponse(
        {
            "id": run.pk,
            "state": run.status,
            "state_label": run.status,
            "percent": run.percent,
            "done": run.done,
            "total": run.total,
            "failed": run.failed,
            "error": run.error,
            "finished": run.status in ("finished", "failed"),
        }
    )


@provider_staff_required
def console_coverage(request: HttpRequest) -> HttpResponse:
    coverage = selectors.coverage_by_province()
    return render(
        request,
        "onboarding/console_coverage.html",
        {
            "coverage": coverage,
            "chart": [(c.name, c.percent) for c in coverage],
        },
    )
