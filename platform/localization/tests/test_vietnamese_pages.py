"""Pages speak Vietnamese by default, English on request, allauth's pages included."""

from __future__ import annotations

import pytest
from django.test import Client

HOST = "xa-an-binh.localhost"


@pytest.mark.django_db
def test_a_page_is_vietnamese_by_default_and_english_on_request(commune) -> None:
    client = Client(HTTP_HOST=HOST)
    home = client.get("/")
    assert home.status_code == 200
    assert '<html lang="vi">' in home.text
    assert "Tìm thủ tục hành chính" in home.text and "Find a procedure" not in home.text

    chosen = client.get("/ngon-ngu/en/", {"next": "/thu-tuc/"})
    assert chosen.status_code == 302 and chosen["Location"] == "/thu-tuc/"
    listing = client.get("/thu-tuc/")
    assert '<html lang="en">' in listing.text
    assert "Administrative procedures" in listing.text and "Tất cả lĩnh vực" not in listing.text
    assert "Sign in" in client.get("/accounts/login/").text

    client.get("/ngon-ngu/vi/")
    assert "Tất cả lĩnh vực" in client.get("/thu-tuc/").text


@pytest.mark.django_db
def test_an_unknown_language_is_not_found(commune) -> None:
    assert Client(HTTP_HOST=HOST).get("/ngon-ngu/xx/").status_code == 404


@pytest.mark.django_db
def test_allauth_login_and_signup_are_vietnamese(commune) -> None:
    client = Client(HTTP_HOST=HOST)
    login = client.get("/accounts/login/").text
    for text in ("Đăng nhập", "Mật khẩu", "Ghi nhớ đăng nhập", "Quên mật khẩu?"):
        assert text in login
    for english in ("Forgot your password?", "Remember Me", "Password"):
        assert english not in login
    signup = client.get("/accounts/signup/").text
    for text in ("Đăng ký", "Mật khẩu (nhập lại)", "Địa chỉ thư điện tử"):
        assert text in signup
    assert "Password (again)" not in signup


@pytest.mark.django_db
def test_allauth_errors_and_messages_are_vietnamese(commune, citizen) -> None:
    client = Client(HTTP_HOST=HOST)
    wrong = client.post(
        "/accounts/login/", {"login": "nguyenvana@example.vn", "password": "sai-mat-khau"}
    )
    assert "Địa chỉ thư điện tử hoặc mật khẩu bạn nhập không đúng." in wrong.text
    reset = client.get("/accounts/password/reset/").text
    assert "Đặt lại mật khẩu" in reset


@pytest.mark.django_db
def test_the_provider_landing_page_is_vietnamese() -> None:
    page = Client(HTTP_HOST="localhost").get("/accounts/login/")
    assert page.status_code == 200 and "Quên mật khẩu?" in page.text
