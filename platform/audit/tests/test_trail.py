"""Reading the trail: the agency admin's page (its own agency only), the provider's page,
filters, pages, the streamed export; and the trail records who opened a dossier."""

from __future__ import annotations

import csv
import datetime as dt
import io
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AccountEvent, User
from accounts.services import membership_grant, user_update_by_staff
from audit.labels import DOCUMENT_VIEWED, VIEWED
from audit.models import AuditEntry
from audit.services import audit_record
from dossiers.models import Dossier
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tenants.models import Agency
from tests.files import pdf
from tests.fixtures.mfa import mfa_login
from trails.pages import EXPORT_BATCH, PAGE_SIZE

TRAIL = "/quan-tri/nhat-ky/"
EXPORT = "/quan-tri/nhat-ky/xuat.csv"
SHOP_FORM = {
    "business_name": "Tạp hoá Minh An",
    "business_address": "Thôn 2, Xã An Bình",
    "capital": "50000000",
    "trade": "Bán lẻ hàng tạp hoá",
}


def host(agency: Agency) -> str:
    return f"{agency.slug}.localhost"


def person(agency: Agency, email: str, *roles: str, name: str = "") -> User:
    user = User.objects.create_user(email, "mat-khau-rat-dai-1", full_name=name)
    membership_grant(user=user, agency=agency, roles=roles)
    return user


def signed_in(agency: Agency, user: User) -> Client:
    client = Client(HTTP_HOST=host(agency))
    mfa_login(client, user)
    return client


@pytest.fixture
def people(commune: Agency) -> SimpleNamespace:
    return SimpleNamespace(
        admin=person(commune, "quantri@anbinh.gov.vn", "admin", name="Lê Văn Quản"),
        officer=person(commune, "chuyenvien@anbinh.gov.vn", "officer", name="Trần Thị Chuyên"),
        receptionist=person(commune, "tiepnhan@anbinh.gov.vn", "receptionist"),
    )


def submit(agency: Agency, citizen: User) -> Dossier:
    with agency_context(agency):
        return dossier_submit(
            agency=agency,
            procedure=AgencyProcedure.objects.get(code="S-KD-001"),
            applicant=Applicant.from_user(citizen),
            form_data=SHOP_FORM,
            files={0: [pdf("to-khai.pdf")], 1: [pdf("giay-to.pdf")]},
        ).dossier


def entries(agency: Agency, **filters: Any) -> list[AuditEntry]:
    with agency_context(agency):
        return list(AuditEntry.objects.filter(**filters))


def table(response: Any) -> str:
    """The trail's rows only (the filter's list of actions names every action too)."""
    text = response.content.decode()
    return text[text.index("<tbody>") : text.index("</tbody>")]


def csv_rows(response: Any) -> list[list[str]]:
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


# -- Who opened a dossier ------------------------------------------------------------------


def test_opening_a_dossier_or_a_document_is_recorded_once_per_visit(
    commune: Agency, citizen: User, people: SimpleNamespace
) -> None:
    dossier = submit(commune, citizen)
    officer = signed_in(commune, people.officer)
    page = f"/mot-cua/ho-so/{dossier.code}/"
    assert officer.get(page).status_code == 200
    assert officer.get(page).status_code == 200  # back from the worklist: the same visit
    with agency_context(commune):
        document = dossier.documents.order_by("pk").first()
    assert document is not None
    response = officer.get(f"{page}tai-lieu/{document.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    policy = response["Content-Security-Policy"]
    assert "sandbox" in policy.split("; ") and "default-src 'self'" in policy
    officer.get(f"{page}tai-lieu/{document.pk}/")

    views = entries(commune, action=VIEWED)
    assert [(e.actor_id, e.target) for e in views] == [(people.officer.pk, dossier.code)]
    opened = entries(commune, action=DOCUMENT_VIEWED)
    assert [(e.actor_id, e.target, e.detail["document"]) for e in opened] == [
        (people.officer.pk, dossier.code, "to-khai.pdf")
    ]
    # Someone else opening it is another visit.
    assert signed_in(commune, people.receptionist).get(page).status_code == 200
    assert len(entries(commune, action=VIEWED)) == 2


def test_a_document_of_another_dossier_is_not_served(
    commune: Agency, citizen: User, people: SimpleNamespace
) -> None:
    first, second = submit(commune, citizen), submit(commune, citizen)
    with agency_context(commune):
        other = second.documents.first()
    assert other is not None
    officer = signed_in(commune, people.officer)
    assert officer.get(f"/mot-cua/ho-so/{first.code}/tai-lieu/{other.pk}/").status_code == 404
    assert entries(commune, action=DOCUMENT_VIEWED) == []


# -- The agency admin's page ----------------------------------------------------------------


@pytest.fixture
def trail(commune: Agency, citizen: User, people: SimpleNamespace) -> SimpleNamespace:
    """A dossier submitted (its history), opened by the officer, and a calendar change."""
    dossier = submit(commune, citizen)
    signed_in(commune, people.officer).get(f"/mot-cua/ho-so/{dossier.code}/")
    with agency_context(commune):
        audit_record(
            action="calendar.override_set", actor=people.admin, target="2027-01-02", off=True
        )
    return SimpleNamespace(dossier=dossier)


@pytest.mark.usefixtures("english")
def test_the_agency_admin_reads_the_trail_and_filters_it(
    commune: Agency, people: SimpleNamespace, trail: SimpleNamespace
) -> None:
    admin = signed_in(commune, people.admin)
    page = admin.get(TRAIL)
    assert page.status_code == 200
    assert "Audit trail" in page.text
    text = table(page)
    assert "Opened the dossier" in text and "Dossier received" in text
    assert "Changed the working calendar" in text and "2027-01-02" in text
    assert "Trần Thị Chuyên &lt;chuyenvien@anbinh.gov.vn&gt;" in text
    assert trail.dossier.code in text

    by_person = table(admin.get(TRAIL, {"nguoi": "chuyenvien@"}))
    assert "Opened the dossier" in by_person and "Changed the working calendar" not in by_person
    by_name = table(admin.get(TRAIL, {"nguoi": "Lê Văn"}))
    assert "Changed the working calendar" in by_name and "Opened the dossier" not in by_name

    by_object = table(admin.get(TRAIL, {"doi_tuong": trail.dossier.code}))
    assert "Dossier received" in by_object and "Opened the dossier" in by_object
    assert "Changed the working calendar" not in by_object

    by_action = table(admin.get(TRAIL, {"hanh_dong": "dossier.received"}))
    assert "Dossier received" in by_action and "Opened the dossier" not in by_action
    views_only = table(admin.get(TRAIL, {"hanh_dong": VIEWED}))
    assert "Opened the dossier" in views_only and "Dossier received" not in views_only

    today = timezone.localdate()
    inside = table(admin.get(TRAIL, {"tu": today.isoformat(), "den": today.isoformat()}))
    assert "Opened the dossier" in inside and "Changed the working calendar" in inside
    yesterday = today - dt.timedelta(days=1)
    before = table(admin.get(TRAIL, {"tu": (yesterday - dt.timedelta(days=30)).isoformat(),
                                     "den": yesterday.isoformat()}))  # fmt: skip
    assert "Nothing in the trail matches." in before


@pytest.mark.usefixtures("english")
def test_a_bad_filter_gets_a_clear_message_not_an_error(
    commune: Agency, people: SimpleNamespace
) -> None:
    admin = signed_in(commune, people.admin)
    today = timezone.localdate()
    backwards = admin.get(
        TRAIL, {"tu": today.isoformat(), "den": (today - dt.timedelta(days=1)).isoformat()}
    )
    assert backwards.status_code == 400
    assert "The start of the period is after its end." in backwards.text
    garbage = admin.get(TRAIL, {"tu": "31/02/2027"})
    assert garbage.status_code == 400 and "Enter a valid date." in garbage.text
    assert admin.get(EXPORT, {"tu": "hôm qua"}).status_code == 400
    assert admin.get(TRAIL, {"trang": "khong-phai-so"}).status_code == 200
    assert admin.get(TRAIL, {"nguoi": "x" * 500}).status_code == 400


def test_the_trail_is_paginated(commune: Agency, people: SimpleNamespace) -> None:
    with agency_context(commune):
        AuditEntry.objects.bulk_create(
            AuditEntry(actor_id=people.admin.pk, action="procedure.configured", target=f"TT-{i:03}")
            for i in range(PAGE_SIZE * 2 + 7)
        )
    admin = signed_in(commune, people.admin)
    first = admin.get(TRAIL, {"hanh_dong": "procedure.configured"})
    assert first.text.count("<tr>") - 1 == PAGE_SIZE  # rows, less the header
    last = admin.get(TRAIL, {"hanh_dong": "procedure.configured", "trang": "3"})
    assert last.text.count("<tr>") - 1 == 7
    assert "trang=2" in last.text and "hanh_dong=procedure.configured" in last.text
    beyond = admin.get(TRAIL, {"hanh_dong": "procedure.configured", "trang": "99"})
    assert beyond.text.count("<tr>") - 1 == 7  # the last page


def test_the_export_streams_every_matching_entry(
    commune: Agency, people: SimpleNamespace, trail: SimpleNamespace
) -> None:
    many = EXPORT_BATCH + 250  # more than one batch
    with agency_context(commune):
        AuditEntry.objects.bulk_create(
            AuditEntry(actor_id=people.admin.pk, action="procedure.configured", target=f"TT-{i}")
            for i in range(many)
        )
    admin = signed_in(commune, people.admin)
    response = admin.get(EXPORT, {"hanh_dong": "procedure.configured"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="nhat-ky-xa-an-binh-')
    rows = csv_rows(response)
    assert len(rows) == many + 1  # and the header
    assert {row[3] for row in rows[1:]} == {"procedure.configured"}
    assert rows[1][1] == "Lê Văn Quản <quantri@anbinh.gov.vn>"

    everything = csv_rows(admin.get(EXPORT))
    codes = {row[3] for row in everything[1:]}
    assert {VIEWED, "dossier.received", "calendar.override_set"} <= codes
    assert any(trail.dossier.code == row[4] for row in everything[1:])


def test_an_agency_admin_reads_only_their_own_agencys_trail(
    commune: Agency, make_agency: Any, people: SimpleNamespace
) -> None:
    other = make_agency("xa-ben-kia", name="Xã Bên Kia")
    with agency_context(commune):
        audit_record(action="branding.updated", actor=people.admin, target="o-day-an-binh")
    with agency_context(other):
        audit_record(action="branding.updated", target="o-ben-kia")
    admin = signed_in(commune, people.admin)
    own = table(admin.get(TRAIL))
    assert "o-day-an-binh" in own and "o-ben-kia" not in own
    assert "o-ben-kia" not in "".join(",".join(row) for row in csv_rows(admin.get(EXPORT)))
    # On the other agency's host the same person is nobody's admin.
    there = Client(HTTP_HOST=host(other))
    mfa_login(there, people.admin)
    assert there.get(TRAIL).status_code == 403
    assert there.get(EXPORT).status_code == 403


def test_only_the_agency_admin_reads_the_trail(commune: Agency, people: SimpleNamespace) -> None:
    for user in (people.officer, people.receptionist):
        client = signed_in(commune, user)
        assert client.get(TRAIL).status_code == 403
        assert client.get(EXPORT).status_code == 403
    anonymous = Client(HTTP_HOST=host(commune)).get(TRAIL)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


# -- The provider's page ---------------------------------------------------------------------


@pytest.mark.usefixtures("english")
def test_provider_staff_read_the_provider_trail_and_filter_it(
    make_agency: Any, citizen: User
) -> None:
    staff_user = User.objects.create_user("vanhanh@motcua.vn", "x", is_staff=True)
    agency = make_agency("xa-moi-den", name="Xã Mới Đến", actor_email="vanhanh@motcua.vn")
    user_update_by_staff(user_id=citizen.pk, changes={"phone": "0987654321"}, actor=staff_user)
    assert AccountEvent.objects.filter(user=citizen).exists()
    staff = Client(HTTP_HOST="localhost")
    mfa_login(staff, staff_user)
    page = staff.get("/console/nhat-ky/")
    assert page.status_code == 200
    assert "Provider audit trail" in page.text
    rows = table(page)
    assert agency.slug in rows and citizen.email in rows
    assert "changed_by_staff" in rows and "provisioned" in rows

    accounts_only = table(staff.get("/console/nhat-ky/", {"loai": "account"}))
    assert citizen.email in accounts_only and "provisioned" not in accounts_only
    created = table(staff.get("/console/nhat-ky/", {"hanh_dong": "created"}))
    assert agency.slug in created and "changed_by_staff" not in created
    by_person = table(staff.get("/console/nhat-ky/", {"nguoi": "vanhanh@"}))
    assert "created" in by_person and "provisioned" not in by_person  # provisioning: no actor
    by_object = table(staff.get("/console/nhat-ky/", {"doi_tuong": "xa-moi"}))
    assert "provisioned" in by_object and citizen.email not in by_object

    exported = csv_rows(staff.get("/console/nhat-ky/xuat.csv", {"loai": "agency"}))
    assert exported[0][0] == "Time" and len(exported) >= 3
    assert {row[5] for row in exported[1:]} == {"Agency"}


def test_the_provider_trail_is_for_provider_staff_only(db: None, citizen: User) -> None:
    client = Client(HTTP_HOST="localhost")
    client.force_login(citizen)
    # A signed-in citizen is told the console is not theirs; nobody signed in is sent to the
    # staff's sign-in page.
    assert client.get("/console/nhat-ky/").status_code == 403
    assert client.get("/console/nhat-ky/xuat.csv").status_code == 403
    assert Client(HTTP_HOST="localhost").get("/console/nhat-ky/").status_code == 302
