"""Staff pages under /mot-cua/: the dossier register (Form 07) with its spreadsheet export,
and the printable Forms 02, 03, 05 and 06 of one dossier (Form 01 is the portal's receipt).

Thin: the filter form parses the query string, the selectors read, the templates print.
"""

from __future__ import annotations

from typing import cast

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import agency_role_required
from desk import engine, selectors
from desk.models import DossierProcess, Refusal, StopNotice, SupplementRequest
from desk.views import STAFF
from dossiers.models import Apology, Dossier
from register.export import register_export_xlsx
from register.forms import RegisterFilterForm
from register.selectors import register_dossiers
from tenants.http import AgencyRequest

PAGE_SIZE = 50


@agency_role_required(*STAFF)
def register(request: AgencyRequest) -> HttpResponse:
    form = RegisterFilterForm(request.GET or None)
    qs = register_dossiers(form.to_filter())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("trang"))
    query = request.GET.copy()
    query.pop("trang", None)
    return render(
        request,
        "register/register.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@agency_role_required(*STAFF)
def register_export(request: AgencyRequest) -> HttpResponse:
    form = RegisterFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "register/register.html",
            {"form": form, "page": None, "query": ""},
            status=400,
        )
    agency = request.tenant
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    title = _("Dossier register (Form 07) — %(agency)s") % {"agency": agency.name}
    out = register_export_xlsx(register_dossiers(form.to_filter()), title=title)
    # A streamed file; typed as HttpResponse for the role decorator's signature.
    return cast(
        HttpResponse,
        FileResponse(
            out,
            as_attachment=True,
            filename=f"so-theo-doi-{agency.schema_name}-{stamp}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    )


def _dossier(code: str) -> Dossier:
    dossier = selectors.dossier_for_desk(code)
    if dossier is None:
        raise Http404
    return dossier


@agency_role_required(*STAFF)
def printout(request: AgencyRequest, code: str, form: str) -> HttpResponse:
    """One printable form of one dossier; 404 when the dossier has no such form."""
    dossier = _dossier(code)
    context: dict[str, object] = {"dossier": dossier, "spec": dossier.procedure_version.spec}
    if form == "01":
        return redirect("portal-receipt", code=dossier.code)
    if form == "02":
        context["supplement"] = get_object_or_404(SupplementRequest, dossier=dossier)
    elif form == "03":
        context["refusal"] = get_object_or_404(Refusal, dossier=dossier)
    elif form == "04":
        context["apology"] = get_object_or_404(Apology, dossier=dossier)
    elif form == "05":
        context["notice"] = get_object_or_404(StopNotice, dossier=dossier)
    elif form == "06":
        context["process"] = DossierProcess.objects.filter(dossier=dossier).first()
        context["trail"] = selectors.hand_overs(dossier)
        context["steps"] = engine.steps_of(dossier)
    else:
        raise Http404
    return render(request, f"register/form_{form}.html", context)


@agency_role_required(*STAFF)
def refusal_printout(request: AgencyRequest, refusal_id: int) -> HttpResponse:
    """Form 03 for a refusal at reception, which keeps no dossier."""
    refusal = get_object_or_404(Refusal.objects.select_related("procedure"), pk=refusal_id)
    return render(
        request, "register/form_03.html", {"refusal": refusal, "dossier": refusal.dossier}
    )
