"""The agency admin's staff page, /quan-tri/nhan-su/. Thin: role check, form, one service."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import staff
from accounts.models import Membership, Role
from accounts.permissions import agency_role_required, signed_in
from accounts.staff_forms import StaffInviteForm, StaffRolesForm
from tenants.http import AgencyRequest
from tenants.models import Agency

admin_required = agency_role_required(Role.ADMIN)


def _agency(request: AgencyRequest) -> Agency:
    if request.agency is None:  # pragma: no cover - the tenant URLconf serves agencies only
        raise Http404
    return request.agency


def _member(request: AgencyRequest, membership_id: int) -> Membership:
    try:
        return staff.staff_member(agency=_agency(request), membership_id=membership_id)
    except Membership.DoesNotExist:
        raise Http404 from None


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    for key, items in errors.items():
        for message in items:
            form.add_error(key if key in form.fields else None, message)


@admin_required
@require_http_methods(["GET", "POST"])
def staff_page(request: AgencyRequest) -> HttpResponse:
    agency = _agency(request)
    form = StaffInviteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                invitation = staff.staff_invite(
                    agency=agency,
                    email=form.cleaned_data["email"],
                    full_name=form.cleaned_data["full_name"],
                    roles=form.cleaned_data["roles"],
                    actor=signed_in(request),
                    site_url=request.build_absolute_uri("/"),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                email = invitation.membership.user.email
                if invitation.set_password_url:
                    text = _("An invitation was sent to %(email)s.")
                else:
                    text = _("%(email)s already has an account: added to the staff and notified.")
                messages.success(request, text % {"email": email})
                return redirect("staff-list")
        status = 400
    return render(
        request,
        "accounts/staff_list.html",
        {"section": "staff", "form": form, "members": staff.staff_list(agency=agency)},
        status=status,
    )


@admin_required
@require_http_methods(["GET", "POST"])
def staff_member_page(request: AgencyRequest, membership_id: int) -> HttpResponse:
    agency = _agency(request)
    membership = _member(request, membership_id)
    form = StaffRolesForm(request.POST or None, initial={"roles": membership.roles})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                staff.staff_roles_change(
                    agency=agency,
                    membership=membership,
                    roles=form.cleaned_data["roles"],
                    actor=signed_in(request),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request, _("Roles of %(email)s saved.") % {"email": membership.user.email}
                )
                return redirect("staff-list")
        status = 400
    return render(
        request,
        "accounts/staff_member.html",
        {"section": "staff", "form": form, "member": membership},
        status=status,
    )


@admin_required
@require_POST
def staff_deactivate_view(request: AgencyRequest, membership_id: int) -> HttpResponse:
    agency = _agency(request)
    membership = _member(request, membership_id)
    try:
        staff.staff_deactivate(agency=agency, membership=membership, actor=signed_in(request))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("%(email)s no longer works for this agency.") % {"email": membership.user.email},
        )
    return redirect("staff-list")
