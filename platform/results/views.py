"""The applicant's pages for results: download, rate, withdraw, and the document store.

Thin: each view finds the applicant's own dossier and calls one service.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import signed_in
from desk.services import dossier_withdraw
from docstore.services import documents_of, stored_document_for, stored_document_open
from dossiers.models import Dossier
from results.services import rating_submit, result_download
from tenants.http import AgencyRequest


def _mine(request: AgencyRequest, code: str) -> Dossier:
    """The signed-in applicant's own dossier; anyone else's is unknown here."""
    dossier = (
        Dossier.objects.select_related("procedure")
        .filter(code=code, applicant_id=request.user.pk)
        .first()
    )
    if dossier is None:
        raise Http404
    return dossier


def _flash(request: AgencyRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@login_required
def download(request: AgencyRequest, code: str, result_id: int) -> HttpResponseBase:
    dossier = _mine(request, code)
    try:
        file, stream = result_download(
            dossier=dossier, user=signed_in(request), result_id=result_id
        )
    except ValidationError as exc:
        _flash(request, exc)
        return redirect("portal-my-dossier", code=dossier.code)
    return FileResponse(
        stream, as_attachment=True, filename=file.name, content_type=file.content_type
    )


@login_required
@require_POST
def rate(request: AgencyRequest, code: str) -> HttpResponse:
    dossier = _mine(request, code)
    try:
        rating_submit(
            dossier=dossier,
            user=signed_in(request),
            score=request.POST.get("score"),
            comment=request.POST.get("comment", ""),
        )
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("Thank you for rating our service."))
    return redirect("portal-my-dossier", code=dossier.code)


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request: AgencyRequest, code: str) -> HttpResponse:
    """Withdraw the applicant's own open dossier, after a confirmation page."""
    dossier = _mine(request, code)
    if request.method == "POST":
        try:
            dossier_withdraw(
                dossier=dossier, actor=signed_in(request), reason=request.POST.get("reason", "")
            )
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("Your dossier was withdrawn."))
        return redirect("portal-my-dossier", code=dossier.code)
    return render(request, "results/withdraw_confirm.html", {"dossier": dossier})


@login_required
def document_store(request: AgencyRequest) -> HttpResponse:
    return render(request, "results/document_store.html", {"documents": documents_of(request.user)})


@login_required
def stored_document(request: AgencyRequest, document_id: int) -> HttpResponseBase:
    document = stored_document_for(owner=request.user, document_id=document_id)
    if document is None:
        raise Http404
    try:
        stream = stored_document_open(document=document)
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        stream,
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
