"""The officers' pages under /mot-cua/: worklists, a dossier with its trail, the actions.

Thin: every action parses the form and calls one service; the services check the
status, the step and the actor's role again, whatever the page showed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import Role, User
from accounts.permissions import agency_role_required, agency_roles, signed_in
from audit.services import dossier_view_record
from copies.selectors import copies_of_dossier
from desk import deadlines, selectors, services
from documents.services import available_forms, issued_for_desk
from dossiers import engine
from dossiers import selectors as dossier_selectors
from dossiers.models import (
    Apology,
    Dossier,
    DossierProcess,
    DossierStatus,
    ResultDocument,
    ReturnMethod,
    SupplementRequest,
)
from notifications.selectors import apologies_to_sign
from tenants.http import AgencyRequest
from verification.services import document_checks
from workdays.calendar import agency_calendar

STAFF = (Role.ADMIN, Role.RECEPTIONIST, Role.OFFICER, Role.LEADER, Role.VIEWER)

LISTS: dict[str, tuple[Any, Callable[..., Any]]] = {
    "cua-toi": (gettext_lazy("Mine"), selectors.worklist_mine),
    "cua-nhom": (gettext_lazy("My team's"), selectors.worklist_team),
    "sap-den-han": (gettext_lazy("Due soon"), selectors.worklist_due_soon),
    "qua-han": (gettext_lazy("Overdue"), selectors.worklist_overdue),
}
PAGE_SIZE = 100
# What a worklist row shows (the dossier's form data and the procedure's spec stay behind).
ROW_FIELDS = (
    "step_position",
    "step_name",
    "step_due_date",
    "paused_at",
    "procedure_id",
    "dossier__code",
    "dossier__applicant_name",
    "dossier__due_date",
    "dossier__status",
    "dossier__procedure__name",
)


@agency_role_required(*STAFF)
def worklist(request: AgencyRequest) -> HttpResponse:
    current = request.GET.get("ds", "cua-toi")
    if current not in LISTS:
        current = "cua-toi"
    rows = list(LISTS[current][1](request.user).only(*ROW_FIELDS)[:PAGE_SIZE])
    items = _worklist_rows(rows)
    return render(
        request,
        "desk/worklist.html",
        {
            "tabs": [(key, label) for key, (label, _f) in LISTS.items()],
            "current": current,
            "items": items,
            "labels": engine.DeadlineState.LABELS,
            "apologies": apologies_to_sign(user=signed_in(request)),
        },
    )


def _day(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _worklist_rows(rows: list[DossierProcess]) -> list[dict[str, str]]:
    """The page's rows as ready strings: translated labels once per value, not per row (the
    page is the officers' busiest; see tests/perf/worklist.py)."""
    calendar, today = agency_calendar(), timezone.localdate()
    labels = {k: str(v) for k, v in engine.DeadlineState.LABELS.items()}
    statuses = {k: str(v) for k, v in DossierStatus.choices}
    link = reverse("desk-dossier", args=["CODE"]).removesuffix("CODE/")
    items = []
    for p in rows:
        d = p.dossier
        step_state = engine.step_deadline_state(p, calendar=calendar, today=today)
        items.append(
            {
                "url": f"{link}{d.code}/",
                "code": d.code,
                "procedure": d.procedure.name,
                "applicant": d.applicant_name,
                "step": p.step_name,
                "step_due": _day(p.step_due_date),
                "step_state": step_state,
                "step_label": labels.get(step_state, ""),
                "due": _day(d.due_date),
                "status": d.status,
                "status_label": statuses.get(d.status, d.status),
            }
        )
    return items


def _dossier(code: str) -> Dossier:
    dossier = dossier_selectors.dossier_for_desk(code)
    if dossier is None:
        raise Http404
    return dossier


@agency_role_required(*STAFF)
def dossier_detail(request: AgencyRequest, code: str) -> HttpResponse:
    dossier = _dossier(code)
    process = DossierProcess.objects.get(dossier=dossier)
    dossier_view_record(dossier_code=dossier.code, actor=request.user)
    steps = engine.steps_of(dossier)
    documents = list(dossier.documents.all())
    return render(
        request,
        "desk/dossier.html",
        {
            "dossier": dossier,
            "process": process,
            "steps": list(enumerate(steps)),
            "earlier_steps": list(enumerate(steps))[: process.step_position or 0],
            "trail": dossier_selectors.hand_overs(dossier),
            "documents": documents,
            "document_rows": _document_rows(documents),
            "certified_copies": copies_of_dossier(dossier.pk),
            "results": ResultDocument.objects.filter(dossier=dossier),
            "supplement": SupplementRequest.objects.filter(dossier=dossier).first(),
            "state": engine.DeadlineState.LABELS[engine.dossier_deadline_state(dossier)],
            "step_state": engine.DeadlineState.LABELS[engine.step_deadline_state(process)],
            "roles": agency_roles(request),
            "return_methods": ReturnMethod.choices,
            "is_mine": process.assignee_id == request.user.pk,
            "apology": Apology.objects.filter(dossier=dossier).first(),
            "issued": issued_for_desk(dossier),
            "pdf_forms": available_forms(dossier),
        },
    )


def _document_rows(documents: list[Any]) -> list[dict[str, Any]]:
    """Each document with its signature check (PDFs that carry a signature get a badge) and
    whether the citizen attached it from their document store."""
    checks = document_checks(documents)
    rows = []
    for d in documents:
        check = checks.get(d.pk)
        rows.append(
            {
                "document": d,
                "check": check if check is not None and check.signed else None,
                "from_store": d.from_store_document is not None,
            }
        )
    return rows


@agency_role_required(*STAFF)
def dossier_document(request: AgencyRequest, code: str, document_id: int) -> HttpResponse:
    """One of the dossier's documents, opened by an officer (recorded in the trail)."""
    dossier = _dossier(code)
    document = dossier.documents.filter(pk=document_id).first()
    if document is None:
        raise Http404
    dossier_view_record(dossier_code=dossier.code, actor=request.user, document=document)
    inline = document.content_type == "application/pdf" or document.content_type.startswith(
        "image/"
    )
    response: HttpResponse = FileResponse(  # type: ignore[assignment]
        document.file.open("rb"),
        as_attachment=not inline,
        filename=document.original_name,
        content_type=document.content_type,
    )
    # The site's policy plus a sandbox: a citizen's file never runs anything.
    response._csp_update = {"sandbox": [True]}  # type: ignore[attr-defined]  # read by django-csp
    return response


def _step(request: AgencyRequest) -> int | None:
    value = request.POST.get("step", "")
    return int(value) if value.isdigit() else None


def _user(request: AgencyRequest, field: str) -> Any:
    value = request.POST.get(field, "")
    if not value.isdigit():
        return None
    return User.objects.filter(pk=int(value), is_active=True).first()


ACTIONS: dict[str, Callable[[AgencyRequest, Dossier], Any]] = {
    "claim": lambda r, d: services.dossier_claim(
        dossier=d, actor=signed_in(r), expected_step=_step(r)
    ),
    "assign": lambda r, d: services.dossier_assign(
        dossier=d, actor=signed_in(r), to=_required_user(r), expected_step=_step(r)
    ),
    "forward": lambda r, d: services.dossier_forward(
        dossier=d, actor=signed_in(r), note=r.POST.get("note", ""), expected_step=_step(r)
    ),
    "send-back": lambda r, d: services.dossier_send_back(
        dossier=d,
        actor=signed_in(r),
        to_step=int(r.POST.get("to_step") or -1),
        note=r.POST.get("note", ""),
        expected_step=_step(r),
    ),
    "supplement": lambda r, d: services.supplement_request(
        dossier=d,
        actor=signed_in(r),
        items=r.POST.get("items", "").splitlines(),
        note=r.POST.get("note", ""),
        expected_step=_step(r),
    ),
    "supplemented": lambda r, d: services.supplement_receive(
        dossier=d,
        actor=signed_in(r),
        files={int(k.split("_")[1]): r.FILES.getlist(k) for k in r.FILES if k.startswith("c_")},
        note=r.POST.get("note", ""),
    ),
    "attach": lambda r, d: services.result_attach(
        dossier=d,
        actor=signed_in(r),
        file=_required_file(r),
        number=r.POST.get("number", ""),
        expected_step=_step(r),
    ),
    "sign-result": lambda r, d: services.result_sign(
        dossier=d, actor=signed_in(r), expected_step=_step(r)
    ),
    "approve": lambda r, d: services.dossier_approve(
        dossier=d, actor=signed_in(r), note=r.POST.get("note", ""), expected_step=_step(r)
    ),
    "reject": lambda r, d: services.dossier_reject(
        dossier=d, actor=signed_in(r), reason=r.POST.get("note", ""), expected_step=_step(r)
    ),
    "return": lambda r, d: services.result_return(
        dossier=d, actor=signed_in(r), method=r.POST.get("method", ""), expected_step=_step(r)
    ),
    "refuse": lambda r, d: services.dossier_refuse(
        dossier=d,
        actor=signed_in(r),
        reasons=r.POST.get("reasons", "").splitlines(),
        expected_step=_step(r),
    ),
    "stop": lambda r, d: services.dossier_stop(
        dossier=d, actor=signed_in(r), reason=r.POST.get("note", "")
    ),
    "withdraw": lambda r, d: services.dossier_withdraw(
        dossier=d, actor=signed_in(r), reason=r.POST.get("note", "")
    ),
    "apology-sign": lambda r, d: deadlines.apology_sign(
        dossier=d, actor=signed_in(r), reason=r.POST.get("note", "")
    ),
}


def _required_user(request: AgencyRequest) -> Any:
    user = _user(request, "to")
    if user is None:
        raise ValidationError(_("Choose the officer."))
    return user


def _required_file(request: AgencyRequest) -> Any:
    upload = request.FILES.get("file")
    if upload is None:
        raise ValidationError(_("Choose the result file."))
    return upload


@require_POST
@agency_role_required(*STAFF)
def dossier_action(request: AgencyRequest, code: str, action: str) -> HttpResponse:
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404
    dossier = _dossier(code)
    try:
        handler(request, dossier)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Done."))
        if action == "refuse":  # the refusal is handed to the applicant: print it now
            return redirect("register-print", code=dossier.code, form="03")
    return redirect("desk-dossier", code=dossier.code)
