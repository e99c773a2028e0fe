"""The daily deadline job (Form 04 drafts, officers' reminders) and the leader's signature."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client

from desk import services
from desk.deadlines import apology_sign, deadline_scan
from desk.tests.conftest import staff_of
from dossiers.models import Apology, Dossier, DossierEvent
from notifications.models import Notification
from notifications.tests.conftest import HOST, submit
from tenants.context import agency_context
from tests.fixtures.mfa import mfa_login

MONDAY = dt.date(2026, 3, 2)
TUESDAY = dt.date(2026, 3, 3)
NEW_DUE = dt.date(2026, 3, 10)  # Tuesday + 5 working days


def due_on(dossier: Dossier, day: dt.date) -> Dossier:
    Dossier.objects.filter(pk=dossier.pk).update(due_date=day)
    dossier.refresh_from_db()
    return dossier


def held_by_officer(dossier: Dossier, staff: Any) -> None:
    services.dossier_claim(dossier=dossier, actor=staff.receptionist)
    services.dossier_forward(dossier=dossier, actor=staff.receptionist)
    services.dossier_claim(dossier=dossier, actor=staff.officer)


@pytest.mark.django_db
def test_the_job_prepares_apologies_and_reminders_once_a_day(
    commune: Any, citizen: Any, staff: Any
) -> None:
    with agency_context(commune):
        soon = due_on(submit(commune, citizen), TUESDAY)
        held_by_officer(soon, staff)
        today = due_on(submit(commune, citizen), MONDAY)
        later = due_on(submit(commune, citizen), dt.date(2026, 3, 5))
        paused = due_on(submit(commune, citizen), TUESDAY)
        held_by_officer(paused, staff)
        services.supplement_request(dossier=paused, actor=staff.officer, items=["Bản sao"])
        overdue = due_on(submit(commune, citizen), dt.date(2026, 2, 27))

    report = deadline_scan(today=MONDAY)
    assert (report.apologies, report.reminders) == (2, 1)
    with agency_context(commune):
        drafts = {a.dossier_id: a for a in Apology.objects.all()}
        assert set(drafts) == {soon.pk, today.pk}
        assert drafts[soon.pk].status == "draft"
        assert (drafts[soon.pk].old_due_date, drafts[soon.pk].new_due_date) == (TUESDAY, NEW_DUE)
        assert later.pk not in drafts and paused.pk not in drafts and overdue.pk not in drafts
        reminder = Notification.objects.get(template_key="due_soon")
        assert reminder.recipient == staff.officer.email and reminder.dossier_id is None
        assert soon.code in reminder.body and today.code not in reminder.body
        assert "1 hồ sơ sắp đến hạn" in reminder.subject

    again = deadline_scan(today=MONDAY)
    assert (again.apologies, again.reminders) == (0, 0)
    with agency_context(commune):
        assert (
            Apology.objects.count() == 2
            and Notification.objects.filter(template_key="due_soon").count() == 1
        )
    # The next day the officer is reminded again of the draft nobody signed yet.
    assert deadline_scan(today=TUESDAY).reminders == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_a_leader_signs_the_apology_and_the_due_date_moves(
    commune: Any, citizen: Any, staff: Any
) -> None:
    with agency_context(commune):
        dossier = due_on(submit(commune, citizen), TUESDAY)
    deadline_scan(today=MONDAY)
    with agency_context(commune):
        with pytest.raises(ValidationError, match="Only a leader"):
            apology_sign(dossier=dossier, actor=staff.officer)
        assert Apology.objects.get().status == "draft"
        apology = apology_sign(dossier=dossier, actor=staff.leader, reason="Chờ xác minh")
        dossier.refresh_from_db()
        assert dossier.due_date == NEW_DUE and apology.status == "signed"
        assert apology.signed_by_id == staff.leader.pk and apology.reason == "Chờ xác minh"
        message = Notification.objects.get(template_key="apology", channel="email")
        assert "03/03/2026" in message.body and "10/03/2026" in message.body
        assert "Chờ xác minh" in message.body
        assert DossierEvent.objects.filter(dossier=dossier, action="apology").count() == 1
        with pytest.raises(ValidationError, match="no apology waiting"):
            apology_sign(dossier=dossier, actor=staff.leader)
        from notifications.services import notification_deliver

        notification_deliver(notification_id=message.pk)
        assert Apology.objects.get().status == "sent"
    # A new due date well ahead: tomorrow's job leaves the dossier alone.
    assert deadline_scan(today=TUESDAY).apologies == 0


@pytest.mark.django_db
def test_the_leader_signs_from_the_desk_page(commune: Any, citizen: Any, staff: Any) -> None:
    with agency_context(commune):
        dossier = due_on(submit(commune, citizen), TUESDAY)
    call_command("deadline_scan", "--date", MONDAY.isoformat())
    client = Client(HTTP_HOST=HOST)
    mfa_login(client, staff.leader)
    page = client.get(f"/mot-cua/ho-so/{dossier.code}/")
    assert page.status_code == 200 and "apology-sign" in page.text
    response = client.post(f"/mot-cua/ho-so/{dossier.code}/apology-sign/", {"note": "Lý do"})
    assert response.status_code == 302
    with agency_context(commune):
        assert Apology.objects.get().status == "signed"


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_agencies_are_isolated(
    commune: Any, make_agency: Any, citizen: Any, staff: Any, national_catalog: None
) -> None:
    from procedures.services import procedures_adopt_for_kind

    other = make_agency("xa-khac", name="Xã Khác", code="XK")
    with agency_context(other):
        procedures_adopt_for_kind(agency=other, publish=True)
        theirs = due_on(submit(other, citizen), TUESDAY)
        their_staff = staff_of(other, "xk")
    with agency_context(commune):
        ours = due_on(submit(commune, citizen), dt.date(2026, 3, 20))
    report = deadline_scan(today=MONDAY)
    assert report.per_agency[other.schema_name].apologies == 1
    assert report.per_agency[commune.schema_name].apologies == 0
    with agency_context(commune):
        assert not Apology.objects.exists()
        # Our leader cannot sign the other agency's apology, even by its id.
        with pytest.raises(ValidationError):
            apology_sign(dossier=theirs, actor=staff.leader)
    with agency_context(other):
        assert Dossier.objects.get(pk=theirs.pk).due_date == TUESDAY
        with pytest.raises(ValidationError, match="Only a leader"):
            apology_sign(dossier=theirs, actor=staff.leader)
        apology_sign(dossier=theirs, actor=their_staff.leader)
    with agency_context(commune):
        assert Dossier.objects.get(pk=ours.pk).due_date == dt.date(2026, 3, 20)
