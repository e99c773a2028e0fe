"""Who may take each step of a procedure (/mot-cua/phan-cong/<code>/): admins and leaders.

Thin: the page lists, per step, the members holding the step's role; the service
``desk.services.step_assignments_set`` checks roles and writes the audit trail.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import Membership, Role
from accounts.permissions import agency_role_required, signed_in
from desk.services import step_assignments_set
from dossiers.models import StepAssignment
from procedures.models import AgencyProcedure
from tenants.http import AgencyRequest


@agency_role_required(Role.ADMIN, Role.LEADER)
@require_http_methods(["GET", "POST"])
def step_assignments(request: AgencyRequest, code: str) -> HttpResponse:
    procedure = get_object_or_404(AgencyProcedure, code=code)
    steps = list(procedure.steps.all())
    members = list(
        Membership.objects.filter(agency_id=request.tenant.pk, is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    if request.method == "POST":
        try:
            with transaction.atomic():  # every step or none
                for position, _step in enumerate(steps):
                    chosen = {
                        int(v) for v in request.POST.getlist(f"step_{position}") if v.isdigit()
                    }
                    step_assignments_set(
                        actor=signed_in(request),
                        procedure=procedure,
                        step_position=position,
                        users=[m.user for m in members if m.user_id in chosen],
                    )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The assignments were saved."))
            return redirect("desk-assignments", code=procedure.code)
    assigned: dict[int, set[int]] = {}
    for row in StepAssignment.objects.filter(procedure=procedure):
        assigned.setdefault(row.step_position, set()).add(row.user_id)
    rows = [
        {
            "position": position,
            "step": step,
            "candidates": [
                (m.user, m.user_id in assigned.get(position, set()))
                for m in members
                if step.role in m.roles
            ],
        }
        for position, step in enumerate(steps)
    ]
    return render(request, "desk/assignments.html", {"procedure": procedure, "rows": rows})
