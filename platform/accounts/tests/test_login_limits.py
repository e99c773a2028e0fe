"""Failed sign-ins and second-factor codes are counted once for the whole platform.

One account is one person on every agency's host and on the public site, so a guess on
one host counts against the same budget as a guess on any other: a locked account stays
locked everywhere, a guessing client is refused everywhere, and a TOTP code used on one
host cannot be used again on another.
"""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from accounts.models import User
from tests.fixtures.mfa import totp_code, totp_enable

HOST_A = "phuong-a.localhost"
HOST_B = "phuong-b.localhost"
PUBLIC = "localhost"
PASSWORD = "mat-khau-rat-dai-2026"


def person(email: str) -> User:
    user = User.objects.create_user(email, PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def sign_in(host: str, email: str, password: str, *, ip: str) -> tuple[Client, Any]:
    client = Client(HTTP_HOST=host, REMOTE_ADDR=ip)
    return client, client.post("/accounts/login/", {"login": email, "password": password})


def error_codes(response: Any) -> set[str]:
    form = response.context["form"] if response.context else None
    if form is None:
        return set()
    return {error.code for errors in form.errors.as_data().values() for error in errors}


def refused(response: Any) -> bool:
    return response.status_code == 200 and "too_many_login_attempts" in error_codes(response)


@pytest.mark.django_db
def test_an_account_locked_on_one_host_is_locked_on_every_host(
    agency_a: Any, agency_b: Any
) -> None:
    victim = person("nan-nhan@example.vn")
    other = person("nguoi-khac@example.vn")
    for i in range(5):  # allauth's per-account budget: 5 failures in 5 minutes
        _client, response = sign_in(HOST_A, victim.email, f"sai-{i}", ip="10.1.0.1")
        assert response.status_code == 200 and not refused(response), i
    _client, response = sign_in(HOST_A, victim.email, "sai-5", ip="10.1.0.1")
    assert refused(response)

    # The right password, from another address, on another agency's host and on the public
    # host: still locked (today each host counted its own 5).
    for host in (HOST_B, PUBLIC):
        client, response = sign_in(host, victim.email, PASSWORD, ip="10.2.0.2")
        assert refused(response), host
        assert "_auth_user_id" not in client.session

    # Another account is not affected, even from the guessing address.
    client, response = sign_in(HOST_B, other.email, PASSWORD, ip="10.1.0.1")
    assert response.status_code == 302, error_codes(response)
    assert client.session["_auth_user_id"] == str(other.pk)


@pytest.mark.django_db
def test_a_guessing_client_is_refused_on_every_host(agency_a: Any, agency_b: Any) -> None:
    somebody = person("ai-do@example.vn")
    hosts = [HOST_A, HOST_B, PUBLIC]
    for i in range(10):  # allauth's per-client budget: 10 failures a minute
        _client, response = sign_in(hosts[i % 3], f"doan-{i}@example.vn", "sai", ip="10.3.0.3")
        assert not refused(response), i
    _client, response = sign_in(HOST_B, somebody.email, PASSWORD, ip="10.3.0.3")
    assert refused(response)
    # The account itself is fine from anywhere else.
    client, response = sign_in(HOST_B, somebody.email, PASSWORD, ip="10.4.0.4")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(somebody.pk)


def password_then_code(host: str, user: User, code: str, *, ip: str) -> tuple[Client, Any]:
    client, response = sign_in(host, user.email, PASSWORD, ip=ip)
    assert response.status_code == 302 and "/accounts/2fa/authenticate/" in response["Location"]
    return client, client.post("/accounts/2fa/authenticate/", {"code": code})


@pytest.mark.django_db
def test_totp_guesses_are_counted_across_hosts(agency_a: Any, agency_b: Any) -> None:
    officer = person("can-bo@example.vn")
    secret = totp_enable(officer)
    wrong = str((int(totp_code(secret)) + 1) % 1_000_000).zfill(6)
    client, _response = sign_in(HOST_A, officer.email, PASSWORD, ip="10.5.0.5")
    for i in range(5):
        response = client.post("/accounts/2fa/authenticate/", {"code": wrong})
        assert response.status_code == 200 and not refused(response), i
    assert refused(client.post("/accounts/2fa/authenticate/", {"code": wrong}))

    # On another agency's host, from another address, with the right code: still locked.
    client, response = password_then_code(HOST_B, officer, totp_code(secret), ip="10.6.0.6")
    assert refused(response)
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_totp_code_used_on_one_host_cannot_be_replayed_on_another(
    agency_a: Any, agency_b: Any
) -> None:
    officer = person("can-bo-2@example.vn")
    secret = totp_enable(officer)
    code = totp_code(secret)
    client, response = password_then_code(HOST_A, officer, code, ip="10.7.0.7")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(officer.pk)
    client, response = password_then_code(HOST_B, officer, code, ip="10.7.0.7")
    assert response.status_code == 200 and "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_django_admin_login_is_no_way_around_the_limit(agency_a: Any) -> None:
    staff = person("nhan-vien@motcua.vn")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    for i in range(6):
        sign_in(HOST_A, staff.email, f"sai-{i}", ip="10.8.0.8")
    admin = Client(HTTP_HOST=PUBLIC, REMOTE_ADDR="10.9.0.9")
    response = admin.post(
        "/admin/login/?next=/admin/", {"username": staff.email, "password": PASSWORD}
    )
    assert "_auth_user_id" not in admin.session  # no password is checked outside allauth
    # It sends staff to their sign-in page: allauth's, with allauth's limits.
    assert response.status_code == 302
    assert response["Location"].startswith("/console/dang-nhap/")
    console = admin.post("/console/dang-nhap/", {"login": staff.email, "password": PASSWORD})
    assert "_auth_user_id" not in admin.session
    assert console.status_code in (200, 429)
