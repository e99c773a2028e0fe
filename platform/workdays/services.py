"""Changing an agency's calendar overrides (audited; the cached calendar is refreshed)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from tenants.context import on_commit_in_schema
from workdays.calendar import WorkCalendar, forget_agency_calendar
from workdays.models import CalendarOverride

if TYPE_CHECKING:
    from accounts.models import User

EARLIEST = dt.date(2000, 1, 1)
YEARS_AHEAD = 5


def years_after(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later; 29 February becomes 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def latest_override_date() -> dt.date:
    return years_after(timezone.localdate(), YEARS_AHEAD)


def calendar_override_set(
    *, date: dt.date, is_working_day: bool, reason: str, actor: User | None = None
) -> CalendarOverride:
    """Declare ``date`` a make-up working day or an extra day off for this agency."""
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    latest = latest_override_date()
    if not EARLIEST <= date <= latest:
        errors["date"] = [
            _("Choose a date between %(start)s and %(end)s.")
            % {"start": EARLIEST.strftime("%d/%m/%Y"), "end": latest.strftime("%d/%m/%Y")}
        ]
    elif WorkCalendar().is_working_day(date) == is_working_day:
        errors["date"] = [
            _("%(date)s is already a working day.") % {"date": date.strftime("%d/%m/%Y")}
            if is_working_day
            else _("%(date)s is already a day off.") % {"date": date.strftime("%d/%m/%Y")}
        ]
    if not reason:
        errors["reason"] = [_("Say why this day is different (e.g. the decision that sets it).")]
    elif len(reason) > 200:
        errors["reason"] = [_("Keep the reason under 200 characters.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        override, _created = CalendarOverride.objects.update_or_create(
            date=date, defaults={"is_working_day": is_working_day, "reason": reason}
        )
        audit_record(
            action="calendar.override_set",
            actor=actor,
            target=date.isoformat(),
            working=is_working_day,
            reason=reason,
        )
        on_commit_in_schema(forget_agency_calendar)
    return override


def calendar_override_remove(*, date: dt.date, actor: User | None = None) -> None:
    with transaction.atomic():
        deleted, _rows = CalendarOverride.objects.filter(date=date).delete()
        if not deleted:
            raise ValidationError(
                _("There is no special day on %(date)s.") % {"date": date.strftime("%d/%m/%Y")}
            )
        audit_record(action="calendar.override_removed", actor=actor, target=date.isoformat())
        on_commit_in_schema(forget_agency_calendar)
