"""The parts of the workflow engine that only read: steps, roles, deadlines.

Steps come from the dossier's pinned procedure version (data, not code). The
*decision step* is the last leader step (else the last officer step, else the
last step): forwarding stops there and the dossier is approved or rejected.
Steps after it hand the result back; a procedure without one gets a return
step for the desk. The lifecycle (``lifecycle``) opens a dossier's process when
it receives it, so every dossier has its process from the first moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, Role
from catalog.spec import Step
from dossiers.models import Dossier, DossierProcess, DossierStatus, Outcome, StepAssignment
from tenants.db import connection
from workdays.calendar import WorkCalendar, agency_calendar

if TYPE_CHECKING:
    from accounts.models import User

DEFAULT_STEPS = (
    Step(name="Tiếp nhận", role=Role.RECEPTIONIST, days=0),
    Step(name="Xử lý", role=Role.OFFICER, days=0),
    Step(name="Phê duyệt", role=Role.LEADER, days=0),
)
RETURN_STEP = Step(name="Trả kết quả", role=Role.RECEPTIONIST, days=0)
DUE_SOON_DAYS = 2


def steps_of(dossier: Dossier) -> tuple[Step, ...]:
    return tuple(dossier.procedure_version.spec.steps) or DEFAULT_STEPS


def decision_position(steps: Sequence[Step]) -> int:
    for role in (Role.LEADER, Role.OFFICER):
        positions = [i for i, s in enumerate(steps) if s.role == role]
        if positions:
            return positions[-1]
    return len(steps) - 1


def return_step(steps: Sequence[Step]) -> tuple[int, Step]:
    """The step results are handed back at: the first after the decision, or a desk step."""
    after = decision_position(steps) + 1
    if after < len(steps):
        return after, steps[after]
    return len(steps), RETURN_STEP


def step_at(steps: Sequence[Step], position: int) -> Step:
    if position == len(steps):
        return RETURN_STEP
    return steps[position]


def first_working_day(calendar: WorkCalendar, day: dt.date) -> dt.date:
    return day if calendar.is_working_day(day) else calendar.next_working_day(day)


def step_due(calendar: WorkCalendar, start: dt.datetime, days: int) -> dt.date:
    """A step's due date: its budget in working days, counted from the day it starts."""
    day = first_working_day(calendar, timezone.localtime(start).date())
    return calendar.add_working_days(day, days)


def enter_step(
    process: DossierProcess,
    steps: Sequence[Step],
    position: int,
    *,
    at: dt.datetime,
    assignee: Any = None,
    calendar: WorkCalendar | None = None,
) -> Step:
    """Put the process on ``position`` (unsaved). Returns the step."""
    step = step_at(steps, position)
    process.step_position = position
    process.step_name = step.name
    process.step_role = step.role
    process.assignee = assignee
    process.step_started_at = at
    process.step_due_date = step_due(calendar or agency_calendar(), at, step.days)
    return step


# -- Who may act ---------------------------------------------------------------------------


def roles_of(user: User | None) -> frozenset[str]:
    """The user's active roles in the agency whose schema is active."""
    agency = connection.tenant
    if user is None or not getattr(user, "pk", None) or getattr(agency, "pk", None) is None:
        return frozenset()
    membership = (
        Membership.objects.filter(user_id=user.pk, agency_id=agency.pk, is_active=True)
        .only("roles")
        .first()
    )
    return frozenset(membership.roles) if membership is not None else frozenset()


def may_take_step(user: User, *, procedure_id: int, position: int, role: str) -> bool:
    """Holds the step's role and, if officers are assigned to the step, is one of them."""
    if role not in roles_of(user):
        return False
    assigned = StepAssignment.objects.filter(procedure_id=procedure_id, step_position=position)
    return not assigned.exists() or assigned.filter(user_id=user.pk).exists()


# -- Deadlines -----------------------------------------------------------------------------


class DeadlineState:
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    PAUSED = "paused"
    DONE = "done"

    LABELS = {
        ON_TIME: _("On time"),
        DUE_SOON: _("Due soon"),
        OVERDUE: _("Overdue"),
        PAUSED: _("Clock paused"),
        DONE: _("Completed"),
    }


def deadline_state(
    due: dt.date | None,
    *,
    today: dt.date | None = None,
    soon_days: int = DUE_SOON_DAYS,
    calendar: WorkCalendar | None = None,
) -> str:
    """On time / due soon (at most ``soon_days`` working days left) / overdue."""
    if due is None:
        return DeadlineState.DONE
    today = today or timezone.localdate()
    if today > due:
        return DeadlineState.OVERDUE
    left = (calendar or agency_calendar()).working_days_between(today, due)
    return DeadlineState.DUE_SOON if left <= soon_days else DeadlineState.ON_TIME


def dossier_deadline_state(
    dossier: Dossier,
    *,
    today: dt.date | None = None,
    soon_days: int = DUE_SOON_DAYS,
    calendar: WorkCalendar | None = None,
) -> str:
    if dossier.status == DossierStatus.SUPPLEMENT_REQUESTED:
        return DeadlineState.PAUSED
    if not dossier.is_open:
        return DeadlineState.DONE
    return deadline_state(dossier.due_date, today=today, soon_days=soon_days, calendar=calendar)


def step_deadline_state(
    process: DossierProcess,
    *,
    today: dt.date | None = None,
    soon_days: int = DUE_SOON_DAYS,
    calendar: WorkCalendar | None = None,
) -> str:
    if process.paused_at is not None:
        return DeadlineState.PAUSED
    if process.step_position is None:
        return DeadlineState.DONE
    return deadline_state(
        process.step_due_date, today=today, soon_days=soon_days, calendar=calendar
    )


def classify_outcome(completed: dt.datetime, due: dt.date) -> str:
    """Early / on time / late, by the local day the result was completed."""
    day = timezone.localtime(completed).date()
    if day < due:
        return Outcome.EARLY
    if day == due:
        return Outcome.ON_TIME
    return Outcome.LATE
