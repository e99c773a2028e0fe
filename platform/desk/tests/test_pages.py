"""The desk's pages: staff only, every action goes through the services."""

from __future__ import annotations

import pytest
from django.test import Client

from desk.models import DossierProcess
from dossiers.models import Dossier, DossierStatus
from tenants.context import agency_context

HOST = "xa-an-binh.localhost"


def client_for(user) -> Client:
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_staff_work_through_the_pages(commune, staff, submit_shop, citizen) -> None:
    with agency_context(commune):
        d = submit_shop()
    assert Client(HTTP_HOST=HOST).get("/mot-cua/").status_code == 302  # sign in first
    assert client_for(citizen).get("/mot-cua/").status_code == 403
    assert client_for(citizen).post(f"/mot-cua/ho-so/{d.code}/claim/").status_code == 403

    desk = client_for(staff.receptionist)
    team = desk.get("/mot-cua/?ds=cua-nhom")
    assert team.status_code == 200 and d.code in team.text
    page = desk.get(f"/mot-cua/ho-so/{d.code}/")
    assert page.status_code == 200 and "Take this dossier" in page.text
    assert desk.post(f"/mot-cua/ho-so/{d.code}/claim/", {"step": "0"}).status_code == 302
    assert d.code in desk.get("/mot-cua/").text  # now in "mine"
    done = desk.post(f"/mot-cua/ho-so/{d.code}/forward/", {"step": "0", "note": "Đủ"}, follow=True)
    assert "Done." in done.text and "Forwarded" in done.text  # the trail shows the hand-over

    # A stale page (step 0) cannot act again; an officer cannot approve; nothing changes.
    stale = desk.post(f"/mot-cua/ho-so/{d.code}/forward/", {"step": "0"}, follow=True)
    assert "moved on" in stale.text
    officer = client_for(staff.officer)
    officer.post(f"/mot-cua/ho-so/{d.code}/claim/", {"step": "1"})
    refused = officer.post(f"/mot-cua/ho-so/{d.code}/approve/", {"step": "1"}, follow=True)
    assert "Only the step" in refused.text
    with agency_context(commune):
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.IN_PROCESSING
        assert DossierProcess.objects.get(dossier=d).step_position == 1
    assert desk.get("/mot-cua/ho-so/KHONG-CO/").status_code == 404
    assert desk.post(f"/mot-cua/ho-so/{d.code}/nuke/").status_code == 404


@pytest.mark.django_db
def test_another_agencys_staff_are_turned_away(commune, make_agency, submit_shop) -> None:
    from .conftest import staff_of

    other = make_agency("xa-binh-an", name="Xã Bình An", code="BA")
    with agency_context(other):
        outsider = staff_of(other, "ba")
    with agency_context(commune):
        d = submit_shop()
    client = client_for(outsider.leader)
    assert client.get("/mot-cua/").status_code == 403
    assert client.post(f"/mot-cua/ho-so/{d.code}/stop/", {"note": "x"}).status_code == 403
    with agency_context(commune):
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.RECEIVED
