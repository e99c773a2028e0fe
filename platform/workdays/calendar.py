"""The working-day calendar deadlines are counted in.

A day is a working day unless it is a Saturday or Sunday or a Vietnamese public
holiday — unless the agency overrides it. Holidays come from the ``holidays``
package (country "VN"): the solar holidays, the lunar Tết days and Hùng Kings'
day, and the substituted days off the government announces (e.g. 31/8/2026
"Day off (substituted from 22/08/2026)"). Make-up working Saturdays are not in
that package; each agency records them, and any extra day off, as overrides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.core.cache import cache

CACHE_KEY = "workdays:overrides:v1"
CACHE_SECONDS = 3600


@lru_cache(maxsize=64)
def _national_holidays(year: int) -> dict[dt.date, str]:
    return dict(holidays.country_holidays("VN", years=year).items())


@dataclass(frozen=True)
class WorkCalendar:
    """Working days for one agency: national holidays and weekends, then its overrides."""

    working_overrides: frozenset[dt.date] = frozenset()
    off_overrides: frozenset[dt.date] = frozenset()
    reasons: dict[dt.date, str] = field(default_factory=dict, hash=False, compare=False)
    timezone: str = "Asia/Ho_Chi_Minh"

    def holiday_name(self, day: dt.date) -> str | None:
        if day in self.off_overrides:
            return self.reasons.get(day, "")
        return _national_holidays(day.year).get(day)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.working_overrides:
            return True
        if day in self.off_overrides:
            return False
        return day.weekday() < 5 and day not in _national_holidays(day.year)

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        candidate = day + dt.timedelta(days=1)
        while not self.is_working_day(candidate):
            candidate += dt.timedelta(days=1)
        return candidate

    def add_working_days(self, day: dt.date, days: int) -> dt.date:
        """The working day ``days`` working days after ``day`` (itself a working day)."""
        if days < 0:
            raise ValueError("days must not be negative")
        if not self.is_working_day(day):
            raise ValueError(f"{day} is not a working day")
        for _ in range(days):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def counting_start(self, received_at: dt.datetime, cutoff_hour: int) -> dt.date:
        """The working day a deadline counts from: the day of receipt if it is a working day
        and the dossier came before the cut-off hour, else the next working day."""
        local = received_at.astimezone(ZoneInfo(self.timezone))
        day = local.date()
        if self.is_working_day(day) and local.hour < cutoff_hour:
            return day
        return self.next_working_day(day)

    def due_date(self, received_at: dt.datetime, days: int, cutoff_hour: int) -> dt.date:
        return self.add_working_days(self.counting_start(received_at, cutoff_hour), days)

    def working_days(self, start: dt.date, count: int) -> Iterable[dt.date]:
        day = start if self.is_working_day(start) else self.next_working_day(start)
        for _ in range(count):
            yield day
            day = self.next_working_day(day)


def agency_calendar() -> WorkCalendar:
    """The calendar of the agency whose schema is active (overrides cached per agency:
    the default cache's keys carry the schema)."""
    cached = cache.get(CACHE_KEY)
    if cached is None:
        from workdays.models import CalendarOverride

        rows = list(CalendarOverride.objects.values_list("date", "is_working_day", "reason"))
        cached = rows
        cache.set(CACHE_KEY, rows, CACHE_SECONDS)
    return WorkCalendar(
        working_overrides=frozenset(d for d, working, _r in cached if working),
        off_overrides=frozenset(d for d, working, _r in cached if not working),
        reasons={d: r for d, _w, r in cached},
        timezone=settings.TIME_ZONE,
    )


def forget_agency_calendar() -> None:
    cache.delete(CACHE_KEY)
