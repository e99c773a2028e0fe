"""The daily deadline job and Form 04 (apology and new appointment).

``deadline_scan`` runs over every active agency (``for_each_agency``). In each it finds the
open dossiers due within ``DEADLINE_SOON_WORKING_DAYS`` working days (clock running: a dossier
waiting for a supplement is not counted) and:
- prepares a draft ``Apology`` with a new appointment date for each one that has none yet,
  so the leader can sign it **before** the deadline passes;
- queues one due-soon reminder per officer holding such dossiers (still without a signed
  apology), once per officer and day.
The lifecycle prepares the drafts (``lifecycle.extend.apology_drafts_prepare``: one statement
per agency finds the dossiers and inserts them, ``INSERT … SELECT … ON CONFLICT DO NOTHING``),
so a repeated run the same day changes nothing; this job sends the reminders.

A leader signs a draft with ``lifecycle.apology_sign`` (the lifecycle's ``extend``,
named here too): the dossier's due date moves to the new date and the applicant is notified,
in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers import engine
from dossiers.models import DossierStatus
from lifecycle import apology_sign
from lifecycle.extend import apology_drafts_prepare
from notifications.services import day_text, notify_officer_due_soon
from tenants.context import for_each_agency
from tenants.models import Agency
from workdays.calendar import WorkCalendar, agency_calendar

logger = logging.getLogger(__name__)

__all__ = ["AgencyScan", "ScanReport", "apology_sign", "deadline_scan", "deadline_scan_agency"]

#: Open with the clock running (a supplement request pauses it; its due date will move).
RUNNING = (DossierStatus.RECEIVED, DossierStatus.IN_PROCESSING, DossierStatus.TRANSFERRED)


@dataclass
class AgencyScan:
    apologies: int = 0
    reminders: int = 0
    due_soon: int = 0


@dataclass
class ScanReport:
    agencies: int = 0
    apologies: int = 0
    reminders: int = 0
    per_agency: dict[str, AgencyScan] = field(default_factory=dict)


def window(calendar: WorkCalendar, today: dt.date, days: int) -> list[dt.date]:
    """The working days a dossier may be due on to count as "due soon": from today up to
    ``days`` working days ahead."""
    first = engine.first_working_day(calendar, today)
    return list(calendar.working_days(first, days + 1))


def default_reason() -> str:
    return _("The dossier cannot be settled by the appointed date.")


def deadline_scan_agency(
    agency: Agency, *, today: dt.date | None = None, days: int | None = None
) -> AgencyScan:
    """The job for the active agency (its schema must be active)."""
    today = today or timezone.localdate()
    days = settings.DEADLINE_SOON_WORKING_DAYS if days is None else days
    calendar = agency_calendar()
    due_days = window(calendar, today, days)
    extension = settings.DEADLINE_APOLOGY_EXTENSION_DAYS
    new_days = [calendar.add_working_days(d, extension) for d in due_days]
    prepared = apology_drafts_prepare(
        running=RUNNING, due_days=due_days, new_days=new_days, reason=default_reason()
    )
    result = AgencyScan(apologies=prepared.prepared, due_soon=prepared.due)
    held: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    people: dict[int, tuple[str, str]] = {}
    for user_id, code, due, email, name in prepared.held:
        held[user_id].append((due, code))
        people[user_id] = (email, name)
    with transaction.atomic():
        for user_id, rows in held.items():
            email, name = people[user_id]
            lines = [f"{code} ({day_text(due)})" for due, code in sorted(rows)]
            if notify_officer_due_soon(
                user_id=user_id, email=email, name=name, lines=lines, day=today
            ):
                result.reminders += 1
    return result


def deadline_scan(*, today: dt.date | None = None, days: int | None = None) -> ScanReport:
    """The daily job over all active agencies (see the module docstring)."""
    report = ScanReport()
    for schema, scan in for_each_agency(
        lambda agency: deadline_scan_agency(agency, today=today, days=days)
    ).items():
        report.agencies += 1
        report.apologies += scan.apologies
        report.reminders += scan.reminders
        report.per_agency[schema] = scan
    return report
