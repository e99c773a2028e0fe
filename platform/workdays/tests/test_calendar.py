"""Working days: weekends, Tết and the other holidays, cut-off hours, agency overrides."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from tenants.context import agency_context
from workdays.calendar import WorkCalendar, agency_calendar
from workdays.services import calendar_override_remove, calendar_override_set

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NATIONAL = WorkCalendar()
D = dt.date


def at(y: int, m: int, d: int, h: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=VN)


@pytest.mark.parametrize(
    "day",
    [
        D(2026, 2, 16),
        D(2026, 2, 17),
        D(2026, 2, 20),  # Tết Bính Ngọ 2026
        D(2027, 2, 5),
        D(2027, 2, 8),
        D(2027, 2, 10),  # Tết Đinh Mùi 2027
        D(2026, 4, 30),
        D(2026, 5, 1),
        D(2026, 9, 1),
        D(2026, 9, 2),
        D(2026, 8, 31),  # the government's substituted day off
        D(2026, 11, 24),  # Vietnam Culture Day, a day off from 2026
        D(2026, 11, 28),
        D(2026, 11, 29),
    ],  # a weekend
)
def test_days_off(day: dt.date) -> None:
    assert not NATIONAL.is_working_day(day)


def test_tet_is_named() -> None:
    assert "Lunar New Year" in (NATIONAL.holiday_name(D(2026, 2, 17)) or "")


def test_a_deadline_jumps_over_tet() -> None:
    # received Friday 13/2/2026 morning, 5 working days: Tết week (16–20/2) does not count
    assert NATIONAL.due_date(at(2026, 2, 13), 5, 16) == D(2026, 2, 27)


@pytest.mark.parametrize(
    ("received", "days", "cutoff", "start", "due"),
    [
        (at(2026, 11, 23, 9), 0, 15, D(2026, 11, 23), D(2026, 11, 23)),  # before the cut-off
        (at(2026, 11, 30, 15, 1), 0, 15, D(2026, 12, 1), D(2026, 12, 1)),  # after it
        (at(2026, 11, 23, 15, 1), 0, 15, D(2026, 11, 25), D(2026, 11, 25)),  # 24/11: Culture Day
        (at(2026, 11, 27, 16, 30), 3, 16, D(2026, 11, 30), D(2026, 12, 3)),  # Friday evening
        (at(2026, 11, 29, 10), 1, 17, D(2026, 11, 30), D(2026, 12, 1)),  # on a Sunday
        (at(2026, 4, 29, 9), 2, 17, D(2026, 4, 29), D(2026, 5, 5)),  # over 30/4, 1/5, weekend
    ],
)
def test_counting_start_and_due_date(received, days, cutoff, start, due) -> None:
    assert NATIONAL.counting_start(received, cutoff) == start
    assert NATIONAL.due_date(received, days, cutoff) == due


def test_utc_times_are_read_in_vietnam_time() -> None:
    received = dt.datetime(2026, 11, 30, 8, 30, tzinfo=dt.UTC)  # 15:30 in Hà Nội
    assert NATIONAL.counting_start(received, 15) == D(2026, 12, 1)


def test_between_agrees_with_add() -> None:
    start = D(2026, 1, 2)
    for n in range(0, 60):
        end = NATIONAL.add_working_days(start, n)
        assert NATIONAL.working_days_between(start, end) == n
        assert NATIONAL.working_days_between(end, start) == -n


def test_add_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        NATIONAL.add_working_days(D(2026, 11, 29), 1)  # a Sunday
    with pytest.raises(ValueError):
        NATIONAL.add_working_days(D(2026, 11, 30), -1)


@pytest.mark.django_db
def test_overrides_belong_to_one_agency(
    agency_a, agency_b, django_capture_on_commit_callbacks
) -> None:
    make_up_saturday, extra_off = D(2026, 12, 5), D(2026, 12, 7)
    with agency_context(agency_a), django_capture_on_commit_callbacks(execute=True):
        calendar_override_set(date=make_up_saturday, is_working_day=True, reason="Làm bù")
        calendar_override_set(date=extra_off, is_working_day=False, reason="Nghỉ bù")
    with agency_context(agency_a):
        cal = agency_calendar()
        assert cal.is_working_day(make_up_saturday) and not cal.is_working_day(extra_off)
        assert cal.holiday_name(extra_off) == "Nghỉ bù"
        # Friday 4/12 after the cut-off: Saturday 5/12 is worked, Monday 7/12 is off
        assert cal.due_date(at(2026, 12, 4, 18), 1, 17) == D(2026, 12, 8)
    with agency_context(agency_b):
        cal = agency_calendar()
        assert not cal.is_working_day(make_up_saturday) and cal.is_working_day(extra_off)


@pytest.mark.django_db
def test_the_cached_calendar_follows_changes(
    agency_a, django_capture_on_commit_callbacks, django_assert_num_queries
) -> None:
    day = D(2026, 12, 9)
    with agency_context(agency_a):
        assert agency_calendar().is_working_day(day)
        with django_assert_num_queries(0):
            agency_calendar()  # warm: no query
        with django_capture_on_commit_callbacks(execute=True):
            calendar_override_set(date=day, is_working_day=False, reason="Nghỉ")
        assert not agency_calendar().is_working_day(day)
        with django_capture_on_commit_callbacks(execute=True):
            calendar_override_remove(date=day)
        assert agency_calendar().is_working_day(day)


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
def test_pointless_or_bad_overrides_are_refused(agency_a) -> None:
    with agency_context(agency_a):
        with pytest.raises(ValidationError, match="already a day off"):
            calendar_override_set(date=D(2026, 11, 29), is_working_day=False, reason="x")
        with pytest.raises(ValidationError, match="already a working day"):
            calendar_override_set(date=D(2026, 11, 30), is_working_day=True, reason="x")
        with pytest.raises(ValidationError, match="Say why"):
            calendar_override_set(date=D(2026, 11, 28), is_working_day=True, reason=" ")
        with pytest.raises(ValidationError, match="Choose a date"):
            calendar_override_set(date=D(1999, 1, 2), is_working_day=True, reason="x")
        with pytest.raises(ValidationError):
            calendar_override_remove(date=D(2026, 11, 30))
