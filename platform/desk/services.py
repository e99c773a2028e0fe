"""The one-stop desk's services: receiving at the desk, and who may take which step.

A dossier's processing (every change of its status, its trail and its events) is the
lifecycle's (``lifecycle``); the desk's views call those functions, which are
named here too so that the desk has one services module to read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Role, User
from audit.services import audit_record
from dossiers import engine
from dossiers.models import Channel, StepAssignment
from lifecycle import (
    desk_refuse,
    dossier_approve,
    dossier_assign,
    dossier_claim,
    dossier_forward,
    dossier_refuse,
    dossier_reject,
    dossier_send_back,
    dossier_stop,
    dossier_withdraw,
    paused_working_days,
    result_attach,
    result_return,
    result_sign,
    supplement_receive,
    supplement_request,
)
from lifecycle.core import denial
from lifecycle.submit import Applicant, SubmitResult, dossier_submit
from procedures.models import AgencyProcedure
from tenants.db import connection
from tenants.models import Agency

__all__ = [
    "desk_receive",
    "desk_refuse",
    "dossier_approve",
    "dossier_assign",
    "dossier_claim",
    "dossier_forward",
    "dossier_refuse",
    "dossier_reject",
    "dossier_send_back",
    "dossier_stop",
    "dossier_withdraw",
    "paused_working_days",
    "result_attach",
    "result_return",
    "result_sign",
    "step_assignments_set",
    "supplement_receive",
    "supplement_request",
]


def desk_receive(
    *,
    agency: Agency,
    actor: User,
    procedure: AgencyProcedure,
    applicant: Applicant,
    form_data: Mapping[str, Any],
    files: Mapping[int, Sequence[UploadedFile]] | None = None,
    received_at: dt.datetime | None = None,
) -> SubmitResult:
    """Receive a dossier in person at the one-stop desk: the same checks, code and deadline
    as online, channel ``desk``, received by (and left with) the receptionist."""
    if getattr(connection.tenant, "pk", None) != agency.pk:
        raise RuntimeError("the agency's schema must be active")
    if Role.RECEPTIONIST not in engine.roles_of(actor):
        raise denial(_("Only the one-stop desk's receptionists receive dossiers."), "role")
    return dossier_submit(
        agency=agency,
        procedure=procedure,
        applicant=applicant,
        form_data=form_data,
        files=files,
        channel=Channel.DESK,
        received_by=actor,
        received_at=received_at,
    )


# -- Configuration -------------------------------------------------------------------------


def step_assignments_set(
    *, actor: User, procedure: AgencyProcedure, step_position: int, users: Sequence[User]
) -> list[StepAssignment]:
    """Which officers may take one step of one procedure (replaces the earlier list; an
    empty list opens the step to everyone with its role)."""
    if not engine.roles_of(actor) & {Role.ADMIN, Role.LEADER}:
        raise denial(_("Your role in this agency does not allow this action."), "role")
    steps = list(procedure.steps.all())
    if not 0 <= step_position < len(steps):
        raise denial(_("This procedure has no such step."), "input")
    step = steps[step_position]
    missing = [str(u) for u in users if step.role not in engine.roles_of(u)]
    if missing:
        raise denial(
            _("%(people)s do not have the role %(role)s this step needs.")
            % {"people": ", ".join(missing), "role": Role(step.role).label},
            "role",
        )
    with transaction.atomic():
        StepAssignment.objects.filter(procedure=procedure, step_position=step_position).delete()
        rows = StepAssignment.objects.bulk_create(
            StepAssignment(procedure=procedure, step_position=step_position, user=u)
            for u in {u.pk: u for u in users}.values()
        )
        audit_record(
            action="desk.step_assignments_set",
            actor=actor,
            target=f"{procedure.code}#{step_position}",
            users=[u.pk for u in users],
        )
    return rows
