"""VNeID sign-in through the real OIDC flow against the fake on loopback (real HTTP)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from accounts.models import User
from vneid.models import Identity

HOST = "xa-an-binh.localhost"


def _start(client: Client, **extra: str) -> dict[str, str]:
    """Press "VNeID" on the sign-in page; returns the authorization request's parameters."""
    response = client.post("/accounts/vneid/login/", extra)
    assert response.status_code == 302, response.content[:500]
    return {k: v[0] for k, v in parse_qs(urlparse(response["Location"]).query).items()}


def _sign_in(client: Client, fake: Any, **extra: str) -> Any:
    """The whole round trip: our redirect, VNeID's authorize endpoint (HTTP), our callback."""
    params = _start(client, **extra)
    answer = requests.get(f"{fake.url}/authorize", params=params, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlparse(answer.headers["Location"])
    assert back.netloc == client.defaults["HTTP_HOST"]
    return client.get(f"{back.path}?{back.query}")


@pytest.mark.django_db
def test_a_citizen_signs_in_with_vneid_and_the_identity_is_recorded(
    commune, vneid, vneid_citizen
) -> None:
    vneid.sign_in_as(vneid_citizen)
    client = Client(HTTP_HOST=HOST)
    params = _start(client)
    assert params["code_challenge_method"] == "S256" and params["code_challenge"]
    assert params["nonce"] and params["state"]
    assert params["redirect_uri"] == f"http://{HOST}/accounts/vneid/callback/"

    response = _sign_in(client, vneid)
    assert response.status_code == 302, response.content[:800]
    user = User.objects.get(email=vneid_citizen.email)
    assert client.session["_auth_user_id"] == str(user.pk)
    assert (user.full_name, user.personal_id_number) == ("Nguyễn Thị Lan", "001190012345")
    identity = Identity.objects.get(user=user)
    assert identity.level == 2 and str(identity.date_of_birth) == "1990-04-12"
    assert identity.address.startswith("Số 5 ngõ 12")
    assert SocialAccount.objects.get(user=user).uid == "vneid-7f3a91"
    assert "/token" in " ".join(vneid.log) and "GET /userinfo" in vneid.log


@pytest.mark.django_db
def test_the_same_app_signs_in_on_another_agencys_host(make_agency, vneid, vneid_citizen):
    make_agency("phuong-hoa-an", name="Phường Hòa An", code="HA")
    vneid.sign_in_as(vneid_citizen)
    client = Client(HTTP_HOST="phuong-hoa-an.localhost")
    assert (
        _start(client)["redirect_uri"] == "http://phuong-hoa-an.localhost/accounts/vneid/callback/"
    )
    assert _sign_in(client, vneid).status_code == 302
    assert User.objects.filter(email=vneid_citizen.email).exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
@pytest.mark.parametrize(
    ("how", "says"),
    [
        ("forged", "signature is not valid"),
        ("expired", "has expired"),
        ("audience", "issued for another service"),
        ("nonce", "does not belong to this sign-in"),
    ],
)
def test_a_bad_id_token_is_refused_in_words_and_nothing_is_created(
    commune, vneid, vneid_citizen, how, says
) -> None:
    vneid.sign_in_as(vneid_citizen)
    vneid.tamper_next(how)
    client = Client(HTTP_HOST=HOST)
    response = _sign_in(client, vneid)
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not User.objects.filter(email=vneid_citizen.email).exists()
    assert not SocialAccount.objects.exists() and not Identity.objects.exists()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_an_e_mail_account_links_vneid_when_signed_in(commune, vneid, vneid_citizen):
    user = User.objects.create_user("lan.old@example.vn", "a-long-password-1")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    vneid.sign_in_as(vneid_citizen)
    response = _sign_in(client, vneid, process="connect")
    assert response.status_code == 302, response.content[:800]
    assert SocialAccount.objects.get(provider="vneid").user == user
    user.refresh_from_db()
    assert user.personal_id_number == "001190012345" and user.vneid_identity.level == 2
    assert not User.objects.filter(email=vneid_citizen.email).exists()  # no second account


@pytest.mark.django_db
def test_vneid_out_of_reach_is_said_plainly_and_changes_nothing(commune, vneid, settings, caplog):
    """VNeID's discovery endpoint does not answer (outage, DNS): a 503 page saying so and how
    to go on, never a 500 or a stack trace in the log; nothing is created."""
    import logging
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    app = settings.SOCIALACCOUNT_PROVIDERS["vneid"]["APPS"][0]
    app["settings"] = {**app["settings"], "server_url": f"http://127.0.0.1:{closed}"}
    users = User.objects.count()
    client = Client(HTTP_HOST=HOST, raise_request_exception=False)
    assert client.get("/accounts/vneid/login/").status_code == 200  # the "continue" page
    response = client.post("/accounts/vneid/login/")
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    page = response.content.decode()
    assert "VNeID" in page and ("cannot be reached" in page or "không kết nối được" in page)
    assert User.objects.count() == users and not SocialAccount.objects.exists()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("how", "says"),
    [
        ("forged", "Chữ ký của mã định danh VNeID không hợp lệ."),
        ("expired", "Mã định danh VNeID đã hết hạn. Vui lòng đăng nhập lại."),
        ("audience", "Mã định danh VNeID được cấp cho một dịch vụ khác."),
    ],
)
def test_a_bad_id_token_is_refused_in_vietnamese_by_default(
    commune, vneid, vneid_citizen, how, says
) -> None:
    vneid.sign_in_as(vneid_citizen)
    vneid.tamper_next(how)
    client = Client(HTTP_HOST=HOST)
    response = _sign_in(client, vneid)
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not User.objects.filter(email=vneid_citizen.email).exists()
