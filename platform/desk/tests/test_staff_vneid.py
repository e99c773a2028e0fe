"""An agency that requires it: staff reach the desk only after a VNeID sign-in (real OIDC flow
against the fake VNeID on loopback)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from tests.fixtures.mfa import mfa_login, totp_code, totp_enable
from vneid.services import agency_staff_vneid_set

HOST = "xa-an-binh.localhost"


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_staff_need_a_vneid_sign_in_where_the_agency_requires_it(
    commune, staff, citizen, vneid, vneid_citizen, django_capture_on_commit_callbacks
) -> None:
    desk = Client(HTTP_HOST=HOST)
    mfa_login(desk, staff.receptionist)
    final = desk.get("/mot-cua/")
    assert final.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        agency_staff_vneid_set(agency=commune, required=True)

    refused = desk.get("/mot-cua/")
    assert refused.status_code == 403
    assert "requires its staff to sign in with VNeID" in refused.content.decode()
    assert desk.get("/quan-tri/").status_code == 403

    citizen_client = Client(HTTP_HOST=HOST)
    citizen_client.force_login(citizen)
    assert citizen_client.get("/ho-so-cua-toi/").status_code == 200  # citizens: not concerned

    EmailAddress.objects.create(
        user=staff.receptionist, email=staff.receptionist.email, verified=True, primary=True
    )
    SocialAccount.objects.create(user=staff.receptionist, provider="vneid", uid=vneid_citizen.sub)
    vneid.sign_in_as(vneid_citizen)
    start = desk.post("/accounts/vneid/login/", {"next": "/mot-cua/"})
    params = {k: v[0] for k, v in parse_qs(urlparse(start["Location"]).query).items()}
    answer = requests.get(f"{vneid.url}/authorize", params=params, allow_redirects=False, timeout=5)
    back = urlparse(answer.headers["Location"])
    stage = desk.get(f"{back.path}?{back.query}")
    # VNeID is the first factor; the agency's staff still give their second (TOTP).
    assert stage.status_code == 302 and "/2fa/authenticate/" in stage["Location"]
    code = totp_code(totp_enable(staff.receptionist))
    done = desk.post(stage["Location"], {"code": code})
    assert done.status_code == 302, done.content[:500]
    final = desk.get("/mot-cua/")
    assert final.status_code == 200
