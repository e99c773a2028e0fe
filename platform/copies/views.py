"""The desk's pages for certified copies (under /mot-cua/chung-thuc/). Thin: parse, call
``copies.services.certified_copy_issue``, redirect."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import agency_role_required, signed_in
from copies import selectors, services
from copies.models import CertifiedCopy
from dossiers import selectors as dossier_selectors
from tenants.http import AgencyRequest

STAFF = ("admin", "receptionist", "officer", "leader", "viewer")


def _base_url(request: AgencyRequest) -> str:
    return request.build_absolute_uri("/")


@agency_role_required(*STAFF)
@require_http_methods(["GET", "POST"])
def copies_page(request: AgencyRequest) -> HttpResponse:
    """Standalone certification: the officer uploads the scan of an original they saw."""
    if request.method == "POST":
        owner = services.copy_owner_find(request.POST.get("citizen", ""))
        try:
            if owner is None:
                raise ValidationError(
                    _(
                        "No citizen account has this e-mail or personal ID number: the copy "
                        "goes to the citizen's document store, so they need an account."
                    )
                )
            copy = services.certified_copy_issue(
                actor=signed_in(request),
                title=request.POST.get("title", ""),
                scan=request.FILES.get("scan"),
                owner=owner,
                base_url=_base_url(request),
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return render(
                request,
                "copies/copies.html",
                {"copies": selectors.copies_recent(), "posted": request.POST},
                status=400,
            )
        messages.success(
            request,
            _("Copy certified (no. %(number)s) and sent to the citizen's document store.")
            % {"number": copy.number},
        )
        return redirect("copies-page")
    return render(request, "copies/copies.html", {"copies": selectors.copies_recent()})


@require_POST
@agency_role_required(*STAFF)
def certify_document(request: AgencyRequest, code: str, document_id: int) -> HttpResponse:
    """Certify one document of a dossier against the original the applicant shows."""
    dossier = dossier_selectors.dossier_for_desk(code)
    if dossier is None:
        raise Http404
    document = dossier.documents.filter(pk=document_id).first()
    if document is None:
        raise Http404
    try:
        copy = services.certified_copy_issue(
            actor=signed_in(request),
            title=request.POST.get("title", "") or document.component_name,
            document=document,
            base_url=_base_url(request),
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("Copy certified (no. %(number)s) and sent to the citizen's document store.")
            % {"number": copy.number},
        )
    return redirect("desk-dossier", code=dossier.code)


@agency_role_required(*STAFF)
def copy_file(request: AgencyRequest, copy_id: int) -> HttpResponse:
    copy = CertifiedCopy.objects.filter(pk=copy_id).first()
    if copy is None:
        raise Http404
    response: HttpResponse = FileResponse(  # type: ignore[assignment]
        copy.file.open("rb"),
        as_attachment=True,
        filename=f"ban-sao-chung-thuc-{copy.reference}.pdf",
        content_type="application/pdf",
    )
    return response
