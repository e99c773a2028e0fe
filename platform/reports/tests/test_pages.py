"""Dashboards, export and transparency pages over real requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import User
from tenants.context import agency_context
from tests.fixtures.mfa import mfa_login

HOST = "xa-an-binh.localhost"


def client_for(user: Any, host: str = HOST) -> Client:
    client = Client(HTTP_HOST=host)
    mfa_login(client, user)
    return client


@pytest.fixture
def provider_staff(db: None) -> Client:
    return client_for(User.objects.create_user("staff@motcua.vn", "x", is_staff=True), "localhost")


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_agency_dashboard_for_admin_leader_viewer_only(commune, staff, submit) -> None:
    with agency_context(commune):
        submit(commune)
    for user in (staff.admin, staff.leader, staff.viewer):
        response = client_for(user).get("/quan-tri/thong-ke/")
        assert response.status_code == 200
        assert "On-time rate" in response.text and "<svg" in response.text
        assert "S-KD-001" in response.text
    assert client_for(staff.officer).get("/quan-tri/thong-ke/").status_code == 403
    assert Client(HTTP_HOST=HOST).get("/quan-tri/thong-ke/").status_code == 302
    assert client_for(staff.officer).get("/quan-tri/thong-ke/xuat.csv").status_code == 403


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_invalid_periods_get_a_clear_message(commune, staff) -> None:
    client = client_for(staff.admin)
    response = client.get("/quan-tri/thong-ke/?start=2026-05-10&end=2026-05-01")
    assert "The end of the period is before its start." in response.text
    response = client.get("/quan-tri/thong-ke/?start=2010-01-01&end=2026-05-01")
    assert "at most five years" in response.text
    response = client.get("/quan-tri/thong-ke/?start=hom-qua")
    assert "Enter a valid date." in response.text
    assert (
        client.get("/quan-tri/thong-ke/xuat.csv?start=2026-05-10&end=2026-05-01").status_code == 400
    )


@pytest.mark.django_db
def test_export_is_streamed_and_holds_only_this_agency(
    commune, other_commune, staff, submit
) -> None:
    with agency_context(commune):
        submit(commune)
    with agency_context(other_commune):
        submit(other_commune)
    today = timezone.localdate().isoformat()
    response = client_for(staff.viewer).get(
        f"/quan-tri/thong-ke/xuat.csv?start={today}&end={today}"
    )
    assert response.status_code == 200
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    assert "xa-an-binh" in body and "received_online" in body
    assert "xa-binh-minh" not in body


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_console_dashboards_league_and_drill_down(
    commune, other_commune, submit, provider_staff
) -> None:
    with agency_context(commune):
        submit(commune)
    with agency_context(other_commune):
        submit(other_commune)
    response = provider_staff.get("/console/thong-ke/")
    assert response.status_code == 200
    assert "Xã An Bình" in response.text and "Xã Bình Minh" in response.text
    response = provider_staff.get("/console/thong-ke/tinh/31/")
    assert response.status_code == 200
    assert "Xã An Bình" in response.text and "Xã Bình Minh" not in response.text
    response = provider_staff.get("/console/thong-ke/co-quan/xa-an-binh/")
    assert response.status_code == 200 and "S-KD-001" in response.text
    assert provider_staff.get("/console/thong-ke/tinh/99/").status_code == 404
    assert provider_staff.get("/console/thong-ke/co-quan/khong-co/").status_code == 404
    bad = provider_staff.get("/console/thong-ke/?start=2026-05-10&end=2026-05-01")
    assert bad.status_code == 400 and "before its start" in bad.text
    anonymous = Client(HTTP_HOST="localhost").get("/console/thong-ke/")
    assert anonymous.status_code == 302


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_transparency_pages_need_no_login_and_show_no_personal_data(
    commune, other_commune, submit, citizen
) -> None:
    # The submissions and the pages in one local day, whatever the run's clock says (the clock
    # matrix's 31 December 23:58 runs past midnight: "this month" and "this year" would change
    # between the submissions and the page).
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    with time_machine.travel(noon, tick=False):
        with agency_context(commune):
            submit(commune)
            submit(commune, received_at=timezone.now() - dt.timedelta(hours=1))
        page = Client(HTTP_HOST=HOST).get("/minh-bach/")
        assert page.status_code == 200
        assert "Xã An Bình" in page.text and "On-time rate" in page.text
        assert citizen.full_name not in page.text and citizen.email not in page.text
        province = Client(HTTP_HOST="localhost").get("/minh-bach/31/")
        assert province.status_code == 200 and citizen.full_name not in province.text
        assert Client(HTTP_HOST="localhost").get("/minh-bach/99/").status_code == 404
        # The other commune's page counts only its own dossiers (none).
        other = Client(HTTP_HOST="xa-binh-minh.localhost").get("/minh-bach/")
        assert other.status_code == 200
        assert ">2<" in page.text.replace(" ", "") and ">2<" not in other.text.replace(" ", "")
