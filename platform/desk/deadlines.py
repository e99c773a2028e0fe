"""The daily deadline job and Form 04 (apology and new appointment).

``deadline_scan`` runs over every active agency (``for_each_agency``). In each it finds the
open dossiers due within ``DEADLINE_SOON_WORKING_DAYS`` working days (clock running: a dossier
waiting for a supplement is not counted) and:
- prepares a draft ``Apology`` with a new appointment date for each one that has none yet,
  so the leader can sign it **before** the deadline passes;
- queues one due-soon reminder per officer holding such dossiers (still without a signed
  apology), once per officer and day.
One statement per agency finds the dossiers and inserts the drafts (``INSERT … SELECT …
ON CONFLICT DO NOTHING``), so a repeated run the same day changes nothing.

A leader signs a draft with ``dossiers.lifecycle.apology_sign`` (the lifecycle's ``extend``,
named here too): the dossier's due date moves to the new date and the applicant is notified,
in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from desk import engine
from desk.models import DossierProcess
from dossiers.lifecycle import apology_sign
from dossiers.models import Apology, ApologyStatus, Dossier, DossierStatus
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
    dossier_t = Dossier._meta.db_table
    process_t = DossierProcess._meta.db_table
    apology_t = Apology._meta.db_table
    user_t = f'"public"."{User._meta.db_table}"'
    sql = f"""
        WITH due AS (
            SELECT d.id, d.code, d.due_date, p.assignee_id, a.status AS apology_status
            FROM {dossier_t} d
            LEFT JOIN {process_t} p ON p.dossier_id = d.id
            LEFT JOIN {apology_t} a ON a.dossier_id = d.id
            WHERE d.status = ANY(%(running)s) AND d.due_date >= %(first)s
              AND d.due_date <= %(last)s AND (a.status IS NULL OR a.status = %(draft)s)
        ), ins AS (
            INSERT INTO {apology_t}
                (dossier_id, reason, old_due_date, new_due_date, status, prepared_at)
            SELECT due.id, %(reason)s, due.due_date, m.new_due, %(draft)s, %(now)s
            FROM due JOIN unnest(%(due_days)s::date[], %(new_days)s::date[]) AS m(due, new_due)
              ON m.due = due.due_date
            WHERE due.apology_status IS NULL
            ON CONFLICT (dossier_id) DO NOTHING
            RETURNING 1
        )
        SELECT NULL::integer, NULL, NULL, NULL, NULL,
               (SELECT count(*) FROM ins), (SELECT count(*) FROM due)
        UNION ALL
        SELECT due.assignee_id, due.code, due.due_date, u.email, u.full_name, NULL, NULL
        FROM due JOIN {user_t} u ON u.id = due.assignee_id AND u.is_active
    """  # noqa: S608 - table names come from our models
    params: dict[str, Any] = {
        "running": list(RUNNING),
        "first": due_days[0],
        "last": due_days[-1],
        "draft": ApologyStatus.DRAFT,
        "reason": default_reason(),
        "due_days": due_days,
        "new_days": new_days,
        "now": timezone.now(),
    }
    result = AgencyScan()
    held: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    people: dict[int, tuple[str, str]] = {}
    with transaction.atomic():
        with db_connection.cursor() as cursor:
            cursor.execute(sql, params)
            for user_id, code, due, email, name, inserted, found in cursor.fetchall():
                if user_id is None:
                    result.apologies, result.due_soon = int(inserted), int(found)
                    continue
                held[user_id].append((due, code))
                people[user_id] = (email, name)
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
