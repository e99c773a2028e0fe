"""Two-factor sign-in is required for every staff area, and only there."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.test import Client

from accounts.models import User
from accounts.services import membership_grant
from tests.fixtures.mfa import mfa_login, totp_code, totp_enable

HOST = "xa-an-binh.localhost"
STAFF_PAGES = {
    "admin": ["/quan-tri/", "/quan-tri/nhan-su/", "/quan-tri/khoa-api/", "/quan-tri/thanh-toan/"],
    "officer": ["/mot-cua/"],
    "receptionist": ["/mot-cua/"],
    "leader": ["/mot-cua/"],
    "viewer": ["/mot-cua/"],
}
PROVIDER_PAGES = ["/console/agencies/", "/console/onboarding/", "/console/billing/", "/admin/"]


def member(agency: Any, role: str) -> User:
    user = User.objects.create_user(f"{role}@anbinh.gov.vn", "mat-khau-can-bo-2026")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    membership_grant(user=user, agency=agency, roles=[role])
    return user


@pytest.mark.django_db
def test_staff_without_an_authenticator_are_sent_to_set_one_up(commune: Any) -> None:
    for role, paths in STAFF_PAGES.items():
        client = Client(HTTP_HOST=HOST)
        client.force_login(member(commune, role))
        for path in paths:
            response = client.get(path)
            assert response.status_code == 302, (role, path)
            assert response["Location"].startswith("/accounts/2fa/totp/activate/?next="), path


@pytest.mark.django_db
def test_staff_with_an_authenticator_must_have_entered_a_code_in_this_session(
    commune: Any,
) -> None:
    user = member(commune, "officer")
    totp_enable(user)
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)  # a session that never saw the second factor
    response = client.get("/mot-cua/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/reauthenticate/?next=")


@pytest.mark.django_db
def test_staff_signed_in_with_mfa_reach_their_pages(commune: Any) -> None:
    for role, paths in STAFF_PAGES.items():
        client = mfa_login(Client(HTTP_HOST=HOST), member(commune, role))
        for path in paths:
            assert client.get(path).status_code == 200, (role, path)


@pytest.mark.django_db
def test_citizens_are_unaffected(commune: Any, citizen: User) -> None:
    client = Client(HTTP_HOST=HOST)
    client.force_login(citizen)
    assert client.get("/ho-so-cua-toi/").status_code == 200
    assert client.get("/tai-khoan/").status_code == 200
    # Not staff: a plain 403 on staff pages, never an invitation to set up MFA.
    assert client.get("/mot-cua/").status_code == 403
    assert client.get("/quan-tri/").status_code == 403
    assert not Authenticator.objects.filter(user=citizen).exists()


@pytest.mark.django_db
def test_a_member_of_another_agency_is_refused_before_any_mfa_step(
    commune: Any, make_agency: Any
) -> None:
    other = make_agency("xa-binh-an", name="Xã Bình An")
    user = member(other, "admin")
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    assert client.get("/quan-tri/").status_code == 403
    assert client.get("/mot-cua/").status_code == 403


@pytest.mark.django_db
def test_provider_staff_need_mfa_for_the_console_and_admin(citizen: User) -> None:
    provider = User.objects.create_user("nhanvien@motcua.vn", "x", is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(provider)
    for path in PROVIDER_PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/2fa/totp/activate/"), path
    mfa_login(client, provider)
    for path in PROVIDER_PAGES:
        assert client.get(path).status_code == 200, path
    # A signed-in citizen on the public site: the console is simply not theirs.
    visitor = Client(HTTP_HOST="localhost")
    visitor.force_login(citizen)
    assert visitor.get("/").status_code == 200
    refused = visitor.get("/console/agencies/")
    assert refused.status_code == 403
    assert (
        "provider" in refused.content.decode().lower() or "nhà cung cấp" in refused.content.decode()
    )
    # Not signed in: the console's own sign-in page, not the Django admin's.
    anonymous = Client(HTTP_HOST="localhost").get("/console/agencies/")
    assert anonymous["Location"].startswith("/console/dang-nhap/?next=")


@pytest.mark.django_db(transaction=True)  # allauth's activation signal fires on commit
def test_password_sign_in_then_totp_activation_opens_the_desk(commune: Any) -> None:
    """The real flow: password, redirected to set up TOTP, a correct code, then the desk."""
    user = member(commune, "officer")
    client = Client(HTTP_HOST=HOST)
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": "mat-khau-can-bo-2026"}
    )
    assert response.status_code == 302, response
    response = client.get("/mot-cua/")
    assert response["Location"].startswith("/accounts/2fa/totp/activate/")
    assert client.get(response["Location"]).status_code == 200
    secret = client.session["mfa.totp.secret"]
    wrong = client.post("/accounts/2fa/totp/activate/", {"code": "000000"})
    assert wrong.status_code == 200 and not Authenticator.objects.filter(user=user).exists()
    response = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert client.get("/mot-cua/").status_code == 200
