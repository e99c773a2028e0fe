"""Worklists and the hand-over trail, read in the active agency's schema.

Every worklist is one query (the dossier and its procedure joined in), ordered
by the step's due date, served by the partial indexes on ``DossierProcess``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Role
from dossiers import engine
from dossiers.models import (
    DossierProcess,
    DossierStatus,
    StepAssignment,
)
from workdays.calendar import WorkCalendar, agency_calendar

if TYPE_CHECKING:
    from accounts.models import User

ACTIVE = (DossierStatus.RECEIVED, DossierStatus.IN_PROCESSING, DossierStatus.RESULT_READY)
OVERSEERS = {Role.LEADER, Role.ADMIN, Role.VIEWER}


def _open() -> QuerySet[DossierProcess]:
    return (
        DossierProcess.objects.filter(step_position__isnull=False)
        .select_related("dossier", "dossier__procedure")
        .order_by("step_due_date", "dossier_id")
    )


def _eligible(user: User, roles: frozenset[str]) -> Q:
    """Steps whose role the user holds and that are open to them (no assignments configured
    for the step, or the user is among those assigned)."""
    configured = StepAssignment.objects.filter(
        procedure_id=OuterRef("procedure_id"), step_position=OuterRef("step_position")
    )
    return Q(step_role__in=sorted(roles)) & (
        ~Exists(configured) | Exists(configured.filter(user_id=user.pk))
    )


def worklist_mine(user: User) -> QuerySet[DossierProcess]:
    """The dossiers this user holds now (paused ones included, marked by their status)."""
    return _open().filter(assignee_id=user.pk)


def worklist_team(user: User) -> QuerySet[DossierProcess]:
    """Dossiers waiting at steps this user may take: nobody's yet, or a colleague's."""
    roles = engine.roles_of(user)
    if not roles:
        return DossierProcess.objects.none()
    return _open().filter(_eligible(user, roles)).exclude(assignee_id=user.pk)


def _scope(user: User) -> QuerySet[DossierProcess]:
    """Leaders, administrators and viewers watch the whole agency; others their own work
    and their team's."""
    roles = engine.roles_of(user)
    if roles & OVERSEERS:
        return _open()
    if not roles:
        return DossierProcess.objects.none()
    return _open().filter(Q(assignee_id=user.pk) | _eligible(user, roles))


def worklist_due_soon(
    user: User,
    *,
    days: int = engine.DUE_SOON_DAYS,
    today: dt.date | None = None,
    calendar: WorkCalendar | None = None,
) -> QuerySet[DossierProcess]:
    """Running dossiers whose step or overall deadline is within ``days`` working days."""
    today = today or timezone.localdate()
    calendar = calendar or agency_calendar()
    limit = calendar.add_working_days(engine.first_working_day(calendar, today), days)
    not_late = Q(step_due_date__gte=today) & Q(dossier__due_date__gte=today)
    soon = Q(step_due_date__lte=limit) | Q(dossier__due_date__lte=limit)
    return _scope(user).filter(dossier__status__in=ACTIVE).filter(not_late & soon)


def worklist_overdue(user: User, *, today: dt.date | None = None) -> QuerySet[DossierProcess]:
    """Running dossiers past their step's or their overall due date (paused ones are not
    counting)."""
    today = today or timezone.localdate()
    late = Q(step_due_date__lt=today) | Q(dossier__due_date__lt=today)
    return _scope(user).filter(dossier__status__in=ACTIVE).filter(late)
