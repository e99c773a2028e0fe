"""The desk's pages: staff only, every action goes through the services."""

from __future__ import annotations

import pytest
from django.test import Client

from dossiers.models import Dossier, DossierProcess, DossierStatus
from tenants.context import agency_context
from tests.fixtures.mfa import mfa_login

HOST = "xa-an-binh.localhost"


def client_for(user) -> Client:
    client = Client(HTTP_HOST=HOST)
    mfa_login(client, user)
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


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_the_citizen_sees_the_request_and_supplements_online(
    commune, staff, submit_shop, citizen
) -> None:
    from desk import services
    from tests.files import pdf

    with agency_context(commune):
        d = submit_shop()
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        services.supplement_request(
            dossier=d, actor=staff.receptionist, items=["Bản sao CCCD có chứng thực"]
        )
    me = client_for(citizen)
    page = me.get(f"/ho-so-cua-toi/{d.code}/")
    assert "Bản sao CCCD có chứng thực" in page.text and "Send the supplement" in page.text
    assert "Waiting for supplement" in page.text  # the history names the status
    empty = me.post(f"/ho-so-cua-toi/{d.code}/bo-sung/", {}, follow=True)
    assert "Attach the missing documents" in empty.text
    sent = me.post(f"/ho-so-cua-toi/{d.code}/bo-sung/", {"c_1": pdf("cccd.pdf")}, follow=True)
    assert "processing has resumed" in sent.text and "cccd.pdf" in sent.text
    with agency_context(commune):
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.RECEIVED
    # Someone else's dossier is not theirs to supplement.
    other = client_for(staff.officer)
    assert other.post(f"/ho-so-cua-toi/{d.code}/bo-sung/", {"note": "x"}).status_code == 302


@pytest.mark.django_db
def test_the_worklist_page_makes_the_same_queries_for_2_or_12_dossiers(
    commune, staff, submit_shop
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from desk import services

    client = client_for(staff.leader)

    def add(n: int) -> None:
        with agency_context(commune):
            for _ in range(n):
                d = submit_shop()
                services.dossier_claim(dossier=d, actor=staff.receptionist)
                services.dossier_forward(dossier=d, actor=staff.receptionist, to=staff.officer)
                DossierProcess.objects.filter(dossier=d).update(step_due_date="2020-01-01")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/mot-cua/?ds=qua-han")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    add(2)
    client.get("/mot-cua/?ds=qua-han")  # back on the agency's schema, caches warm
    small = queries()
    add(10)
    page = client.get("/mot-cua/?ds=qua-han")
    assert page.text.count("/mot-cua/ho-so/") == 12
    assert queries() == small
