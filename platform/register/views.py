"""Staff pages under /mot-cua/: the dossier register (Form 07) with its spreadsheet export,
and the printable Forms 02, 03, 05 and 06 of one dossier (Form 01 is the portal's receipt);
the same forms, the register and the issued results as PDF (documents.services).

Thin: the filter form parses the query string, the selectors read, the templates print.
"""

from __future__ import annotations

import logging
import tempfile
from typing import Any, cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import agency_role_required
from desk.views import STAFF
from documents import services as documents
from documents import sheets
from documents.pdf import register_pdf
from documents.signing import SigningError
from dossiers import engine
from dossiers import selectors as dossier_selectors
from dossiers.models import Apology, Dossier, DossierProcess, Refusal, StopNotice, SupplementRequest
from register.export import register_export_xlsx
from register.forms import RegisterFilterForm
from register.selectors import register_dossiers, register_rows
from tenants.http import AgencyRequest

logger = logging.getLogger(__name__)

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


@agency_role_required(*STAFF)
def register_pdf_export(request: AgencyRequest) -> HttpResponse:
    """Form 07 as landscape A4 pages, drawn row by row from the database cursor into a spooled
    file (memory up to 1 MiB, then disk), then streamed."""
    form = RegisterFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "register/register.html",
            {"form": form, "page": None, "query": ""},
            status=400,
        )
    agency = request.tenant
    out = tempfile.SpooledTemporaryFile(max_size=2**20)  # noqa: SIM115 (closed by the response)
    register_pdf(
        sheets.register_lines(
            register_rows(register_dossiers(form.to_filter())).iterator(chunk_size=2000)
        ),
        out,
        agency=agency.name,
        title=_("DOSSIER REGISTER"),
        subtitle=_("Form 07"),
        headers=sheets.register_headers(),
        widths_mm=sheets.REGISTER_WIDTHS,
        texts=sheets.texts(),
    )
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return cast(
        HttpResponse,
        FileResponse(
            out,
            as_attachment=True,
            filename=f"so-theo-doi-{agency.schema_name}-{stamp}.pdf",
            content_type="application/pdf",
        ),
    )


def _issued_response(row: Any) -> HttpResponse:
    response = FileResponse(
        documents.issued_open(row),
        content_type="application/pdf",
        filename=row.download_name,
    )
    response["Cache-Control"] = "private, no-store"
    return cast(HttpResponse, response)


@agency_role_required(*STAFF)
def form_pdf(request: AgencyRequest, code: str, form: str) -> HttpResponse:
    """Forms 02–06 of one dossier as issued (sealed by the agency); 404 when it has none."""
    dossier = _dossier(code)
    try:
        row = documents.form_issue(agency=request.tenant, dossier=dossier, form=form)
    except LookupError:
        raise Http404 from None
    except SigningError:
        logger.exception("form %s of %s could not be signed", form, dossier.code)
        messages.error(request, _("The document could not be signed just now; try again later."))
        return redirect("register-print", code=dossier.code, form=form)
    return _issued_response(row)


@agency_role_required(*STAFF)
def result_pdf(request: AgencyRequest, code: str, result_id: int) -> HttpResponse:
    """An issued result as signed (the leader's signature and the agency's seal)."""
    row = documents.issued_result_for(_dossier(code), result_id)
    if row is None:
        raise Http404
    return _issued_response(row)


def _dossier(code: str) -> Dossier:
    dossier = dossier_selectors.dossier_for_desk(code)
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
        context["trail"] = dossier_selectors.hand_overs(dossier)
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
