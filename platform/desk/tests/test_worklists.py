"""Worklists: mine, my team's, due soon, overdue; one query however many dossiers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from desk import selectors, services
from dossiers.models import Dossier, DossierProcess
from tenants.context import agency_context


def codes(qs) -> list[str]:
    return [p.dossier.code for p in qs]


@pytest.mark.django_db
def test_mine_team_due_soon_and_overdue(commune, staff, submit_shop) -> None:
    with agency_context(commune):
        fresh, held, late, paused = (submit_shop() for _ in range(4))
        for d in (held, late, paused):
            services.dossier_claim(dossier=d, actor=staff.receptionist)
            services.dossier_forward(dossier=d, actor=staff.receptionist, to=staff.officer)
        services.supplement_request(dossier=paused, actor=staff.officer, items=["Bản sao CCCD"])
        today = dt.date(2026, 11, 30)  # a Monday
        DossierProcess.objects.filter(dossier=held).update(step_due_date=dt.date(2026, 12, 1))
        Dossier.objects.filter(pk=held.pk).update(due_date=dt.date(2026, 12, 10))
        DossierProcess.objects.filter(dossier=late).update(step_due_date=dt.date(2026, 11, 27))
        Dossier.objects.filter(pk=late.pk).update(due_date=dt.date(2026, 12, 10))
        DossierProcess.objects.filter(dossier=fresh).update(step_due_date=dt.date(2026, 12, 20))
        Dossier.objects.filter(pk=fresh.pk).update(due_date=dt.date(2026, 12, 20))
        DossierProcess.objects.filter(dossier=paused).update(step_due_date=dt.date(2026, 11, 2))

        assert codes(selectors.worklist_mine(staff.officer)) == [
            paused.code,
            late.code,
            held.code,
        ]
        assert codes(selectors.worklist_team(staff.receptionist)) == [fresh.code]
        assert codes(selectors.worklist_team(staff.officer2)) == [paused.code, late.code, held.code]
        assert codes(selectors.worklist_team(staff.leader)) == []
        assert codes(selectors.worklist_due_soon(staff.officer, today=today)) == [held.code]
        assert codes(selectors.worklist_overdue(staff.officer, today=today)) == [late.code]
        # Leaders oversee the whole agency; receptionists see only their own steps.
        assert codes(selectors.worklist_overdue(staff.leader, today=today)) == [late.code]
        assert codes(selectors.worklist_overdue(staff.receptionist, today=today)) == []
        assert codes(selectors.worklist_due_soon(staff.leader, today=today, days=20)) == [
            held.code,
            fresh.code,
        ]


@pytest.mark.django_db
def test_worklist_queries_do_not_grow_with_the_number_of_dossiers(
    commune, staff, submit_shop
) -> None:
    def measure() -> int:
        with CaptureQueriesContext(connection) as ctx:
            for qs in (
                selectors.worklist_mine(staff.officer),
                selectors.worklist_team(staff.officer),
                selectors.worklist_due_soon(staff.officer),
                selectors.worklist_overdue(staff.leader),
            ):
                for p in qs:
                    assert p.dossier.code and p.dossier.procedure.name and p.dossier.due_date
        return len(ctx.captured_queries)

    with agency_context(commune):

        def add(n: int) -> None:
            for _ in range(n):
                d = submit_shop()
                services.dossier_claim(dossier=d, actor=staff.receptionist)
                services.dossier_forward(dossier=d, actor=staff.receptionist, to=staff.officer)

        add(2)
        small = measure()
        add(10)
        assert measure() == small
        assert selectors.worklist_mine(staff.officer).count() == 12
