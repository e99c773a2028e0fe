"""The agency admin's pages. Thin: check the role, parse the form, call one service, render.

Every view requires the ``admin`` role in the agency whose host serves the request
(``agency_role_required``): anonymous visitors go to the login page, anyone else
gets the 403 page. Objects are looked up in the active agency's schema only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from accounts.permissions import agency_role_required, signed_in
from agencyadmin import forms as admin_forms
from catalog.models import CatalogProcedure
from dossiers.codes import (
    agency_code_prefix,
    agency_set_dossier_code_pattern,
    preview_next_code,
    validate_pattern,
)
from portal.branding import branding_update, current_branding
from procedures import services as procedure_services
from procedures.models import AgencyProcedure
from procedures.selectors import catalog_not_adopted, procedures_for_admin
from tenants.http import AgencyRequest
from tenants.models import Agency
from workdays.models import CalendarOverride
from workdays.services import calendar_override_remove, calendar_override_set

admin_required = agency_role_required(Role.ADMIN)


def _agency(request: AgencyRequest) -> Agency:
    if request.agency is None:  # pragma: no cover - the tenant URLconf serves agencies only
        raise Http404
    return request.agency


def _procedure(code: str) -> AgencyProcedure:
    return get_object_or_404(AgencyProcedure, code=code)


def _error_dict(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


# -- Dashboard ------------------------------------------------------------------------

# Where the agency admin fixes each go-live checklist item (onboarding.selectors keys).
CHECKLIST_FIX_URLS = {
    "branding": "agencyadmin-branding",
    "admin": "staff-list",
    "admin_mfa": "mfa_index",
    "staff": "staff-list",
    "procedures": "agencyadmin-procedures",
    "billing": "agency-billing",
}


def _golive_checklist(agency: Agency) -> list[dict[str, Any]]:
    from onboarding.selectors import agency_golive_checklist

    return [
        {"item": item, "fix_url": reverse(CHECKLIST_FIX_URLS[item.key])}
        if item.key in CHECKLIST_FIX_URLS
        else {"item": item, "fix_url": ""}
        for item in agency_golive_checklist(agency=agency)
    ]


@admin_required
@require_GET
def dashboard(request: AgencyRequest) -> HttpResponse:
    rows = procedures_for_admin()
    return render(
        request,
        "agencyadmin/dashboard.html",
        {
            "section": "dashboard",
            "adopted": len(rows),
            "published": sum(1 for r in rows if r.procedure.is_published),
            "updates": sum(1 for r in rows if r.update_number and r.update_in_effect),
            "overrides": CalendarOverride.objects.filter(date__gte=timezone.localdate()).count(),
            "pattern": _agency(request).dossier_code_pattern,
            "checklist": _golive_checklist(_agency(request)),
        },
    )


# -- Procedures -----------------------------------------------------------------------


@admin_required
@require_GET
def procedure_list(request: AgencyRequest) -> HttpResponse:
    return render(
        request,
        "agencyadmin/procedure_list.html",
        {"section": "procedures", "rows": procedures_for_admin()},
    )


@admin_required
@require_http_methods(["GET", "POST"])
def procedure_adopt(request: AgencyRequest) -> HttpResponse:
    agency = _agency(request)
    if request.method == "POST":
        if request.POST.get("all_for_kind"):
            codes = list(catalog_not_adopted(kind=agency.kind).values_list("code", flat=True))
        else:
            codes = [c for c in request.POST.getlist("code") if c][:200]
        found = list(CatalogProcedure.objects.filter(code__in=codes))
        if not found:
            messages.error(request, _("Choose at least one procedure to adopt."))
            return redirect("agencyadmin-adopt")
        for catalog_procedure in found:
            procedure_services.procedure_adopt(
                catalog_procedure=catalog_procedure, actor=signed_in(request)
            )
        messages.success(
            request,
            _("%(n)d procedure(s) adopted. Review their settings, then publish them.")
            % {"n": len(found)},
        )
        if len(found) == 1:
            return redirect("agencyadmin-procedure", code=found[0].code)
        return redirect("agencyadmin-procedures")
    search = request.GET.get("q", "").strip()[:100]
    show_all = request.GET.get("tat-ca") == "1"
    candidates = catalog_not_adopted(kind=agency.kind, search=search, all_kinds=show_all)[:200]
    return render(
        request,
        "agencyadmin/procedure_adopt.html",
        {
            "section": "procedures",
            "candidates": candidates,
            "search": search,
            "show_all": show_all,
            "kind": agency.get_kind_display(),
        },
    )


def _configuration_forms(procedure: AgencyProcedure, data: Any = None) -> tuple[Any, Any, Any, Any]:
    components = list(procedure.components.all())
    settings_form = admin_forms.ProcedureSettingsForm(
        data,
        prefix="settings",
        initial={
            "fee": procedure.fee,
            "processing_days": procedure.processing_days,
            "cutoff_hour": procedure.cutoff_hour,
            "online_submission": procedure.online_submission,
            "online_payment": procedure.online_payment,
            "fee_before_result": procedure.fee_before_result,
            "identity_level_required": procedure.identity_level_required,
        },
    )
    component_formset = admin_forms.ComponentFormSet(
        data,
        prefix="components",
        initial=[
            {
                "name": c.name,
                "required": c.required,
                "max_files": c.max_files,
                "required_by_catalog": c.required_by_catalog,
            }
            for c in components
        ],
    )
    field_formset = admin_forms.ExtraFieldFormSet(
        data,
        prefix="fields",
        initial=[
            {
                "key": f.key,
                "label": f.label,
                "type": f.type,
                "required": f.required,
                "choices": "\n".join(f.choices),
                "pattern": f.pattern,
                "min_value": f.min_value,
                "max_value": f.max_value,
            }
            for f in procedure.fields.filter(from_catalog=False)
        ],
    )
    step_formset = admin_forms.StepFormSet(
        data,
        prefix="steps",
        initial=[
            {"name": s.name, "role": s.role, "days": s.days, "transfer": s.transfer}
            for s in procedure.steps.all()
        ],
    )
    return settings_form, component_formset, field_formset, step_formset


@admin_required
@require_http_methods(["GET", "POST"])
def procedure_configure(request: AgencyRequest, code: str) -> HttpResponse:
    procedure = _procedure(code)
    data = request.POST if request.method == "POST" else None
    settings_form, component_formset, field_formset, step_formset = _configuration_forms(
        procedure, data
    )
    section_errors: dict[str, list[str]] = {}
    if request.method == "POST":
        valid = all(
            [
                settings_form.is_valid(),
                component_formset.is_valid(),
                field_formset.is_valid(),
                step_formset.is_valid(),
            ]
        )
        if valid and component_formset.total_form_count() != procedure.components.count():
            section_errors["components"] = [
                _("The list of dossier components does not match the procedure.")
            ]
            valid = False
        if valid:
            try:
                procedure_services.procedure_configure(
                    procedure=procedure,
                    actor=signed_in(request),
                    components=admin_forms.component_inputs(component_formset),
                    extra_fields=admin_forms.field_inputs(field_formset),
                    steps=admin_forms.step_inputs(step_formset),
                    **settings_form.cleaned_data,
                )
            except ValidationError as exc:
                for key, errors in _error_dict(exc).items():
                    if key in settings_form.fields:
                        for message in errors:
                            settings_form.add_error(key, message)
                    else:
                        section = "general" if key == "__all__" else key
                        section_errors.setdefault(section, []).extend(errors)
            else:
                messages.success(
                    request,
                    _("Settings saved. Publish to show them on the portal."),
                )
                return redirect("agencyadmin-procedure", code=procedure.code)
        messages.error(request, _("Please correct the errors below; nothing was saved."))
    return render(
        request,
        "agencyadmin/procedure_configure.html",
        {
            "section": "procedures",
            "procedure": procedure,
            "settings_form": settings_form,
            "component_formset": component_formset,
            "component_rows": list(
                zip(procedure.components.all(), component_formset.forms, strict=False)
            ),
            "field_formset": field_formset,
            "step_formset": step_formset,
            "section_errors": section_errors,
            "update": procedure_services.procedure_catalog_update(procedure),
            "catalog_fields": list(procedure.fields.filter(from_catalog=True)),
        },
        status=400 if request.method == "POST" else 200,
    )


@admin_required
@require_POST
def procedure_publish(request: AgencyRequest, code: str) -> HttpResponse:
    procedure = _procedure(code)
    try:
        version = procedure_services.procedure_publish(
            procedure=procedure, actor=signed_in(request)
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("“%(name)s” is published (version %(n)d).")
            % {"name": procedure.name, "n": version.number},
        )
    return redirect("agencyadmin-procedure", code=procedure.code)


@admin_required
@require_POST
def procedure_unpublish(request: AgencyRequest, code: str) -> HttpResponse:
    procedure = _procedure(code)
    procedure_services.procedure_unpublish(procedure=procedure, actor=signed_in(request))
    messages.success(
        request, _("“%(name)s” is no longer offered on the portal.") % {"name": procedure.name}
    )
    return redirect("agencyadmin-procedure", code=procedure.code)


@admin_required
@require_http_methods(["GET", "POST"])
def procedure_catalog_update(request: AgencyRequest, code: str) -> HttpResponse:
    procedure = _procedure(code)
    if request.method == "POST":
        try:
            procedure_services.procedure_accept_catalog_version(
                procedure=procedure, actor=signed_in(request)
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("agencyadmin-catalog-update", code=procedure.code)
        messages.success(
            request,
            _(
                "The new catalog version is accepted. Review the settings and publish: "
                "dossiers already received keep the version they were submitted under."
            ),
        )
        return redirect("agencyadmin-procedure", code=procedure.code)
    return render(
        request,
        "agencyadmin/catalog_update.html",
        {
            "section": "procedures",
            "procedure": procedure,
            "update": procedure_services.procedure_catalog_update(procedure),
        },
    )


# -- Branding -------------------------------------------------------------------------


@admin_required
@require_http_methods(["GET", "POST"])
def branding(request: AgencyRequest) -> HttpResponse:
    current = current_branding()
    initial = {key: getattr(current, key) for key in admin_forms.BrandingForm.TEXT_FIELDS}
    if request.method == "POST":
        form = admin_forms.BrandingForm(request.POST, request.FILES, initial=initial)
        if form.is_valid():
            try:
                branding_update(
                    actor=signed_in(request),
                    logo=form.cleaned_data.get("logo") or None,
                    remove_logo=bool(form.cleaned_data.get("remove_logo")),
                    **form.values(),
                )
            except ValidationError as exc:
                for key, errors in _error_dict(exc).items():
                    for message in errors:
                        form.add_error(key if key in form.fields else None, message)
            else:
                messages.success(request, _("The portal's appearance is saved."))
                return redirect("agencyadmin-branding")
        messages.error(request, _("Please correct the errors below; nothing was saved."))
        status = 400
    else:
        form = admin_forms.BrandingForm(initial=initial)
        status = 200
    return render(
        request,
        "agencyadmin/branding.html",
        {"section": "branding", "form": form, "current": current},
        status=status,
    )


# -- Working calendar -----------------------------------------------------------------


@admin_required
@require_http_methods(["GET", "POST"])
def calendar(request: AgencyRequest) -> HttpResponse:
    form = admin_forms.CalendarOverrideForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                override = calendar_override_set(
                    date=form.cleaned_data["date"],
                    is_working_day=form.cleaned_data["kind"] == "working",
                    reason=form.cleaned_data["reason"],
                    actor=signed_in(request),
                )
            except ValidationError as exc:
                for key, errors in _error_dict(exc).items():
                    for message in errors:
                        form.add_error(key if key in form.fields else None, message)
            else:
                messages.success(
                    request,
                    _("%(date)s is saved.") % {"date": override.date.strftime("%d/%m/%Y")},
                )
                return redirect("agencyadmin-calendar")
        status = 400
    show_past = request.GET.get("da-qua") == "1"
    overrides = CalendarOverride.objects.all()
    if not show_past:
        overrides = overrides.filter(date__gte=timezone.localdate())
    return render(
        request,
        "agencyadmin/calendar.html",
        {
            "section": "calendar",
            "form": form,
            "overrides": overrides[:500],
            "show_past": show_past,
        },
        status=status,
    )


@admin_required
@require_POST
def calendar_remove(request: AgencyRequest) -> HttpResponse:
    form = admin_forms.CalendarRemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a day to remove."))
        return redirect("agencyadmin-calendar")
    try:
        calendar_override_remove(date=form.cleaned_data["date"], actor=signed_in(request))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("%(date)s follows the national calendar again.")
            % {"date": form.cleaned_data["date"].strftime("%d/%m/%Y")},
        )
    return redirect("agencyadmin-calendar")


# -- Dossier code ---------------------------------------------------------------------


def _preview(agency: Agency, pattern: str) -> tuple[str, list[str]]:
    """The next code under ``pattern`` (nothing consumed), or why the pattern is refused."""
    try:
        validate_pattern(pattern)
    except ValidationError as exc:
        return "", exc.messages
    return (
        preview_next_code(
            pattern=pattern, agency_code=agency_code_prefix(agency), on=timezone.localdate()
        ),
        [],
    )


@admin_required
@require_http_methods(["GET", "POST"])
def dossier_code(request: AgencyRequest) -> HttpResponse:
    agency = _agency(request)
    status = 200
    if request.method == "POST":
        form = admin_forms.DossierCodePatternForm(request.POST)
        if form.is_valid():
            pattern = form.cleaned_data["dossier_code_pattern"]
            if request.POST.get("action") == "preview":
                code, errors = _preview(agency, pattern)
                for message in errors:
                    form.add_error("dossier_code_pattern", message)
                return render(
                    request,
                    "agencyadmin/dossier_code.html",
                    {"section": "dossier_code", "form": form, "preview": code, "agency": agency},
                    status=200 if not errors else 400,
                )
            try:
                agency = agency_set_dossier_code_pattern(
                    agency=agency, pattern=pattern, actor=signed_in(request)
                )
            except ValidationError as exc:
                for key, errors in _error_dict(exc).items():
                    for message in errors:
                        form.add_error(key if key in form.fields else None, message)
            else:
                messages.success(
                    request, _("The dossier code pattern is saved; it applies to the next dossier.")
                )
                return redirect("agencyadmin-dossier-code")
        status = 400
    else:
        form = admin_forms.DossierCodePatternForm(
            initial={"dossier_code_pattern": agency.dossier_code_pattern}
        )
    code, _errors = _preview(agency, agency.dossier_code_pattern)
    return render(
        request,
        "agencyadmin/dossier_code.html",
        {"section": "dossier_code", "form": form, "preview": code, "agency": agency},
        status=status,
    )


@admin_required
@require_GET
def dossier_code_preview(request: AgencyRequest) -> JsonResponse:
    pattern = request.GET.get("pattern", "")[:60]
    code, errors = _preview(_agency(request), pattern)
    return JsonResponse({"code": code, "errors": errors}, status=200 if not errors else 400)


# -- Fees: channels, bank account, reconciliation -------------------------------------


@admin_required
@require_http_methods(["GET", "POST"])
def fee_settings_page(request: AgencyRequest) -> HttpResponse:
    from lifecycle.fees import fee_settings, fee_settings_update, national_platform_configured

    current = fee_settings()
    initial = {
        "channels": current.channels,
        "bank_bin": current.bank_bin,
        "bank_account": current.bank_account,
        "bank_account_name": current.bank_account_name,
    }
    status = 200
    if request.method == "POST":
        form = admin_forms.FeeSettingsForm(request.POST, initial=initial)
        if form.is_valid():
            try:
                fee_settings_update(actor=signed_in(request), **form.cleaned_data)
            except ValidationError as exc:
                for key, errors in _error_dict(exc).items():
                    for message in errors:
                        form.add_error(key if key in form.fields else None, message)
            else:
                messages.success(request, _("How citizens pay fees is saved."))
                return redirect("agencyadmin-fees")
        messages.error(request, _("Please correct the errors below; nothing was saved."))
        status = 400
    else:
        form = admin_forms.FeeSettingsForm(initial=initial)
    return render(
        request,
        "agencyadmin/fees.html",
        {
            "section": "fees",
            "form": form,
            "national_configured": national_platform_configured(),
        },
        status=status,
    )


@admin_required
@require_http_methods(["GET", "POST"])
def fee_reconciliation(request: AgencyRequest) -> HttpResponse:
    """Import the bank statement or the national platform's file; the lines waiting for staff."""
    from dossiers.models import FeeLineStatus, FeeReconciliationLine
    from lifecycle import fees

    upload = admin_forms.FeeFileForm()
    fetch = admin_forms.FeeFetchForm(initial={"day": timezone.localdate()})
    status = 200
    if request.method == "POST":
        report = None
        try:
            if "fetch" in request.POST:
                fetch = admin_forms.FeeFetchForm(request.POST)
                if fetch.is_valid():
                    report = fees.fee_national_reconcile_fetch(
                        day=fetch.cleaned_data["day"], actor=signed_in(request)
                    )
            else:
                upload = admin_forms.FeeFileForm(request.POST, request.FILES)
                if upload.is_valid():
                    handle = upload.cleaned_data["file"]
                    data = handle.read(6 * 1024 * 1024)
                    importer = (
                        fees.fee_statement_import
                        if upload.cleaned_data["kind"] == "statement"
                        else fees.fee_national_reconcile
                    )
                    report = importer(data=data, filename=handle.name, actor=signed_in(request))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        if report is not None:
            messages.success(
                request,
                _(
                    "Imported: %(applied)s fee(s) marked paid, %(matched)s already recorded,"
                    " %(queued)s waiting for staff, %(known)s line(s) seen before."
                )
                % {
                    "applied": report.applied,
                    "matched": report.matched,
                    "queued": report.queued,
                    "known": report.already_known,
                },
            )
            return redirect("agencyadmin-fee-reconciliation")
        status = 400
    return render(
        request,
        "agencyadmin/fee_reconciliation.html",
        {
            "section": "fees",
            "upload": upload,
            "fetch": fetch,
            "queued": FeeReconciliationLine.objects.filter(status=FeeLineStatus.QUEUED)
            .select_related("dossier")
            .order_by("created_at"),
            "recent": FeeReconciliationLine.objects.exclude(
                status=FeeLineStatus.QUEUED
            ).select_related("dossier")[:50],
        },
        status=status,
    )


@admin_required
@require_POST
def fee_line_dismiss(request: AgencyRequest, line_id: int) -> HttpResponse:
    from dossiers.models import FeeReconciliationLine
    from lifecycle.fees import fee_line_dismiss as dismiss

    line = get_object_or_404(FeeReconciliationLine, pk=line_id)
    form = admin_forms.FeeLineDismissForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Say why the line is set aside."))
        dismiss(line=line, note=form.cleaned_data["note"], actor=signed_in(request))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The line is set aside."))
    return redirect("agencyadmin-fee-reconciliation")
