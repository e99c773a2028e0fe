"""The receptionist's intake page (/mot-cua/tiep-nhan/): receive a dossier in person.

Thin: the portal's dossier form shapes the page; ``desk.services.desk_receive``
checks everything (the same rules, code and deadline as online) and issues the
receipt (Form 01). An applicant who has an account may be linked by its e-mail
address, so they can follow, supplement and collect the result online.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import Role, User
from accounts.permissions import agency_role_required, signed_in
from desk.forms import RefusalForm
from desk.services import desk_receive, desk_refuse
from dossiers.forms import DossierForm
from lifecycle.submit import Applicant
from procedures.models import AgencyProcedure
from tenants.http import AgencyRequest


@agency_role_required(Role.RECEPTIONIST)
def intake_start(request: AgencyRequest) -> HttpResponse:
    code = request.GET.get("thu-tuc", "")
    if code:
        return redirect("desk-intake", code=code)
    procedures = AgencyProcedure.objects.filter(is_published=True).order_by("name")
    return render(request, "desk/intake_start.html", {"procedures": procedures})


@agency_role_required(Role.RECEPTIONIST)
@require_http_methods(["GET", "POST"])
def intake(request: AgencyRequest, code: str) -> HttpResponse:
    procedure = get_object_or_404(
        AgencyProcedure.objects.select_related("published_version"), code=code, is_published=True
    )
    version = procedure.published_version
    assert version is not None
    # Bound on every POST, even an empty one: its problems are shown, never a crash.
    posted = request.method == "POST"
    form = DossierForm(
        version.spec, request.POST if posted else None, request.FILES if posted else None
    )
    email = request.POST.get("applicant_email", "").strip()
    if request.method == "POST":
        form.is_valid()  # shapes the data; the service decides what is acceptable
        account = User.objects.filter(email__iexact=email).first() if email else None
        data = form.applicant_data()
        applicant = Applicant(
            name=data["applicant_name"],
            id_number=data["applicant_id_number"],
            phone=data["applicant_phone"],
            email=email,
            address=data["applicant_address"],
            user=account,
        )
        try:
            result = desk_receive(
                agency=request.tenant,
                actor=signed_in(request),
                procedure=procedure,
                applicant=applicant,
                form_data=form.form_data(),
                files=form.uploads(),
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                form.add_service_errors(
                    {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
                )
            else:
                form.add_service_errors({"__all__": exc.messages})
        else:
            return redirect("portal-receipt", code=result.dossier.code)
        status = 400
    else:
        status = 200
    return render(
        request,
        "desk/intake.html",
        {
            "form": form,
            "procedure": procedure,
            "applicant_email": email,
            "title": _("Receive a dossier at the desk"),
        },
        status=status,
    )


@agency_role_required(Role.RECEPTIONIST)
@require_http_methods(["GET", "POST"])
def intake_refuse(request: AgencyRequest, code: str) -> HttpResponse:
    """Refuse at the counter (Form 03): nothing is received, the reasons are handed over."""
    procedure = get_object_or_404(AgencyProcedure, code=code, is_published=True)
    form = RefusalForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                refusal = desk_refuse(
                    agency=request.tenant,
                    actor=signed_in(request),
                    procedure=procedure,
                    applicant=Applicant(
                        name=data["applicant_name"],
                        id_number=data["applicant_id_number"],
                        phone=data["applicant_phone"],
                    ),
                    reasons=data["reasons"].splitlines(),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("register-refusal-print", refusal_id=refusal.pk)
        status = 400
    return render(
        request,
        "desk/intake_refuse.html",
        {"form": form, "procedure": procedure, "title": _("Refuse to receive (Form 03)")},
        status=status,
    )
