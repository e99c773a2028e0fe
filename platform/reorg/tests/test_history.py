"""Item 4: statistics before the date stay the old unit's, from the date they are C's; the
national portal is told once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone

from nationalsync.models import PortalOutbox
from reorg import services
from reports.models import DailyAgencyStat, MonthlyAgencyStat

pytestmark = pytest.mark.django_db


def test_statistics_split_at_the_date_and_the_portal_is_told(world: Any) -> None:
    today = timezone.localdate()
    before = today - dt.timedelta(days=40)
    # An older figure of A (before the date) beside today's (from the fixtures' dossiers).
    row = DailyAgencyStat.objects.filter(agency=world.a).first()
    assert row is not None
    DailyAgencyStat.objects.create(
        agency=world.a, province_code="31", day=before, procedure_code=row.procedure_code,
        sector=row.sector, metric=row.metric, n=4, total=0,
    )  # fmt: skip
    MonthlyAgencyStat.objects.create(
        agency=world.a, province_code="31", month=before.replace(day=1),
        procedure_code=row.procedure_code, sector=row.sector, metric=row.metric, n=4, total=0,
    )  # fmt: skip
    a_today = DailyAgencyStat.objects.filter(agency=world.a, day=today).aggregate(n=Sum("n"))["n"]
    c_today = DailyAgencyStat.objects.filter(agency=world.c, day=today).aggregate(n=Sum("n"))["n"]
    outsider = list(DailyAgencyStat.objects.filter(agency=world.outsider).values())
    effective = today - dt.timedelta(days=1)
    merge = services.merge_create(sources=[world.a], target=world.c, effective_on=effective)
    services.merge_run(merge)

    # before the date: still the old unit's
    assert DailyAgencyStat.objects.get(agency=world.a, day=before).n == 4
    assert MonthlyAgencyStat.objects.get(agency=world.a, month=before.replace(day=1)).n == 4
    # from the date: C's, counted once
    assert not DailyAgencyStat.objects.filter(agency=world.a, day__gte=effective).exists()
    assert (
        DailyAgencyStat.objects.filter(agency=world.c, day=today).aggregate(n=Sum("n"))["n"]
        == a_today + c_today
    )
    for agency in (world.a, world.c):  # the months still add up to the days
        for m in MonthlyAgencyStat.objects.filter(
            agency=agency, month__gte=effective.replace(day=1)
        ):
            days = DailyAgencyStat.objects.filter(
                agency=agency, day__year=m.month.year, day__month=m.month.month,
                procedure_code=m.procedure_code, sector=m.sector, metric=m.metric,
            ).aggregate(n=Sum("n"))["n"]  # fmt: skip
            assert m.n == days
    assert list(DailyAgencyStat.objects.filter(agency=world.outsider).values()) == outsider
    told = PortalOutbox.objects.get(key__startswith=f"merge:{merge.pk}:")
    assert told.payload["action"] == "agency_merged"
    assert told.payload["into"] == "xa-hoa-binh"
    assert told.payload["effective_on"] == effective.isoformat()
