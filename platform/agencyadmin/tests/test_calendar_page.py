"""The working calendar page: add and remove make-up days and extra days off."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from audit.models import AuditEntry
from tenants.context import agency_context
from workdays.models import CalendarOverride
from workdays.services import years_after


def test_years_after_survives_29_february() -> None:
    assert years_after(dt.date(2028, 2, 29), 5) == dt.date(2033, 2, 28)
    assert years_after(dt.date(2028, 2, 29), 4) == dt.date(2032, 2, 29)
    assert years_after(dt.date(2026, 11, 23), 5) == dt.date(2031, 11, 23)


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_add_and_remove_special_days(commune, admin_client: Client) -> None:
    saturday = dt.date(2026, 12, 26)
    monday = dt.date(2026, 12, 28)
    response = admin_client.post(
        "/quan-tri/lich-lam-viec/",
        {"date": saturday.isoformat(), "kind": "working", "reason": "Làm bù ngày 2/1/2027"},
    )
    assert response.status_code == 302
    admin_client.post(
        "/quan-tri/lich-lam-viec/",
        {"date": "28/12/2026", "kind": "off", "reason": "Quyết định 12/QĐ-UBND"},
    )
    page = admin_client.get("/quan-tri/lich-lam-viec/")
    assert "Làm bù ngày 2/1/2027" in page.text and "Quyết định 12/QĐ-UBND" in page.text
    with agency_context(commune):
        assert list(CalendarOverride.objects.values_list("date", "is_working_day")) == [
            (saturday, True),
            (monday, False),
        ]
    # Bad input: messages next to the fields, nothing saved.
    for data, message in (
        ({"date": "2026-12-27", "kind": "off", "reason": "x"}, "already a day off"),
        ({"date": "2026-12-29", "kind": "working", "reason": "x"}, "already a working day"),
        ({"date": "2026-12-29", "kind": "off", "reason": "  "}, "This field is required"),
        ({"date": "1999-01-01", "kind": "off", "reason": "x"}, "Choose a date between"),
        ({"date": "31/02/2027", "kind": "off", "reason": "x"}, "Enter a valid date"),
        ({"date": "2027-02-01", "kind": "holiday", "reason": "x"}, "Select a valid choice"),
    ):
        response = admin_client.post("/quan-tri/lich-lam-viec/", data)
        assert response.status_code == 400 and message in response.content.decode(), message
    with agency_context(commune):
        assert CalendarOverride.objects.count() == 2
    response = admin_client.post("/quan-tri/lich-lam-viec/xoa/", {"date": monday.isoformat()})
    assert response.status_code == 302
    missing = admin_client.post(
        "/quan-tri/lich-lam-viec/xoa/", {"date": monday.isoformat()}, follow=True
    )
    assert "There is no special day" in missing.content.decode()
    with agency_context(commune):
        assert list(CalendarOverride.objects.values_list("date", flat=True)) == [saturday]
        assert AuditEntry.objects.filter(action="calendar.override_removed").count() == 1


@pytest.mark.django_db
def test_special_days_belong_to_one_agency(commune, make_agency, admin_client: Client) -> None:
    other = make_agency("xa-khac", name="Xã Khác")
    admin_client.post(
        "/quan-tri/lich-lam-viec/",
        {"date": "2026-12-26", "kind": "working", "reason": "Làm bù"},
    )
    with agency_context(other):
        assert not CalendarOverride.objects.exists()
    with agency_context(commune):
        assert CalendarOverride.objects.count() == 1
