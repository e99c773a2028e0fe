"""Only the agency's own admins reach /quan-tri/: checked server-side on every page."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from accounts.services import membership_grant
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.fixtures.mfa import mfa_login

GET_PAGES = [
    "/quan-tri/",
    "/quan-tri/thu-tuc/",
    "/quan-tri/thu-tuc/them/",
    "/quan-tri/thu-tuc/S-HT-001/",
    "/quan-tri/thu-tuc/S-HT-001/cap-nhat/",
    "/quan-tri/giao-dien/",
    "/quan-tri/lich-lam-viec/",
    "/quan-tri/ma-ho-so/",
    "/quan-tri/ma-ho-so/xem-truoc/?pattern=%7Bseq%7D",
]
POST_PAGES = [
    "/quan-tri/thu-tuc/them/",
    "/quan-tri/thu-tuc/S-HT-001/",
    "/quan-tri/thu-tuc/S-HT-001/cong-bo/",
    "/quan-tri/thu-tuc/S-HT-001/ngung-cong-bo/",
    "/quan-tri/thu-tuc/S-HT-001/cap-nhat/",
    "/quan-tri/giao-dien/",
    "/quan-tri/lich-lam-viec/",
    "/quan-tri/lich-lam-viec/xoa/",
    "/quan-tri/ma-ho-so/",
]


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login_page(commune) -> None:
    client = Client(HTTP_HOST="xa-an-binh.localhost")
    for path in GET_PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), path
    for path in POST_PAGES:
        assert client.post(path, {}).status_code == 302, path


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_citizens_and_other_roles_get_a_clean_403(commune, citizen) -> None:
    officer = User.objects.create_user("canbo@anbinh.gov.vn", "mat-khau-can-bo-1")
    membership_grant(user=officer, agency=commune, roles=["officer", "receptionist"])
    for user in (citizen, officer):
        client = Client(HTTP_HOST="xa-an-binh.localhost")
        client.force_login(user)
        for path in GET_PAGES:
            response = client.get(path)
            assert response.status_code == 403, path
            assert "Access denied" in response.text and "<html" in response.text
        for path in POST_PAGES:
            assert client.post(path, {"code": "S-TP-001"}).status_code == 403, path
    with agency_context(commune):
        assert AgencyProcedure.objects.get(code="S-HT-001").is_published
        assert not AgencyProcedure.objects.filter(code="S-TP-001").exists()


@pytest.mark.django_db
def test_the_admin_reaches_every_page(admin_client) -> None:
    for path in GET_PAGES:
        assert admin_client.get(path).status_code == 200, path


@pytest.mark.django_db
def test_an_admin_of_one_agency_cannot_act_on_another(commune, make_agency, admin_user) -> None:
    other = make_agency("xa-binh-an", name="Xã Bình An")
    with agency_context(other):
        from procedures.services import procedures_adopt_for_kind

        procedures_adopt_for_kind(agency=other, publish=True)
    client = Client(HTTP_HOST="xa-binh-an.localhost")
    client.force_login(admin_user)  # admin of xa-an-binh only
    assert client.get("/quan-tri/").status_code == 403
    assert client.post("/quan-tri/thu-tuc/S-HT-001/ngung-cong-bo/").status_code == 403
    assert (
        client.post(
            "/quan-tri/giao-dien/", {"display_name": "Bị chiếm", "primary_color": "#000000"}
        ).status_code
        == 403
    )
    with agency_context(other):
        assert AgencyProcedure.objects.get(code="S-HT-001").is_published
    # A session carried to another agency's host does not count there either.
    own = Client(HTTP_HOST="xa-an-binh.localhost")
    mfa_login(own, admin_user)
    assert own.get("/quan-tri/").status_code == 200
    cookie = own.cookies["sessionid"].value
    carried = Client(HTTP_HOST="xa-binh-an.localhost")
    carried.cookies["sessionid"] = cookie
    assert carried.get("/quan-tri/").status_code in (302, 403)
