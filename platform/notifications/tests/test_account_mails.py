"""The platform's own mails — allauth's included — are the agency's: in Vietnamese, from and
signed with its name, in the words of its notification templates (its own if it wrote them)."""

from __future__ import annotations

import re
from email.utils import parseaddr

import pytest
from django.core import mail
from django.test import Client

from core.mail import sender_address
from tenants.context import agency_context

HOST = "xa-an-binh.localhost"


def sign_up(client: Client, email: str, *, language: str = "") -> None:
    if language:
        client.cookies["django_language"] = language
    response = client.post(
        "/accounts/signup/",
        {
            "email": email,
            "password1": "mat-khau-rat-dai-2026",
            "password2": "mat-khau-rat-dai-2026",
        },
    )
    assert response.status_code == 302, response.content[:400]


@pytest.mark.django_db
def test_the_sign_up_mail_is_the_agencys_in_vietnamese(commune) -> None:
    # Even someone reading the site in English gets the agency's Vietnamese mail.
    sign_up(Client(HTTP_HOST=HOST), "nguoimoi@example.vn", language="en")
    (message,) = mail.outbox
    assert message.to == ["nguoimoi@example.vn"]
    assert parseaddr(message.from_email)[0] == "Xã An Bình"
    assert "Xã An Bình" in message.subject and "Xác nhận" in message.subject
    body = str(message.body)
    assert body.startswith("Kính gửi")
    assert body.rstrip().endswith("Xã An Bình")  # signed with the agency's name
    assert "localhost" not in body.split("http", 1)[0]  # no hostname for a greeting
    assert "Hello from" not in body and "Thank you for using" not in body
    assert re.search(rf"http://{re.escape(HOST)}/accounts/confirm-email/\S+", body)


@pytest.mark.django_db
def test_an_agency_that_wrote_its_own_wording_has_it_used(commune, citizen) -> None:
    from notifications.services import template_save

    with agency_context(commune):
        template_save(
            key="account_confirm",
            channel="email",
            subject="{{ agency_name }}: kích hoạt tài khoản",
            body="Chào {{ email }}, bấm {{ link }} để kích hoạt. — {{ agency_name }}, Tổ một cửa",
            actor=citizen,
        )
    sign_up(Client(HTTP_HOST=HOST), "ban-moi@example.vn")
    (message,) = mail.outbox
    assert message.subject == "Xã An Bình: kích hoạt tài khoản"
    assert str(message.body).startswith("Chào ban-moi@example.vn, bấm http://")
    assert "Tổ một cửa" in str(message.body)


@pytest.mark.django_db
def test_a_password_reset_on_the_provider_host_is_signed_by_the_platform(citizen) -> None:
    Client(HTTP_HOST="localhost").post("/accounts/password/reset/", {"email": citizen.email})
    (message,) = mail.outbox
    assert parseaddr(message.from_email)[0] == "MotCua Cloud"
    assert "Đặt lại mật khẩu" in message.subject
    body = str(message.body)
    assert "Nguyễn Văn A" in body and body.rstrip().endswith("MotCua Cloud")
    assert "http://localhost/accounts/password/reset/key/" in body


@pytest.mark.django_db
def test_a_reset_asked_for_an_unknown_address_gets_the_agencys_mail(commune) -> None:
    Client(HTTP_HOST=HOST).post("/accounts/password/reset/", {"email": "ai-do@example.vn"})
    (message,) = mail.outbox
    assert "chưa có tài khoản" in str(message.body)
    assert parseaddr(message.from_email)[0] == "Xã An Bình"


@pytest.mark.django_db
def test_notifications_come_from_the_agencys_name(commune) -> None:
    with agency_context(commune):
        assert parseaddr(sender_address())[0] == "Xã An Bình"
    assert parseaddr(sender_address())[0] == "MotCua Cloud"


@pytest.mark.django_db
def test_an_agency_name_with_a_comma_stays_one_sender(commune) -> None:
    import email
    from email import policy

    from django.core.mail import EmailMessage

    commune.name = 'Sở Văn hóa, Thể thao và Du lịch "mẫu"'
    with agency_context(commune):
        sent = EmailMessage("s", "b", from_email=sender_address(), to=["a@example.vn"]).message()
    parsed = email.message_from_bytes(sent.as_bytes(), policy=policy.default)
    (sender,) = parsed["From"].addresses
    assert sender.display_name == 'Sở Văn hóa, Thể thao và Du lịch "mẫu"'
    assert sender.addr_spec == "no-reply@motcua.vn"


def test_the_account_mails_accounts_names_are_the_templates_notifications_writes() -> None:
    from accounts import mail
    from notifications.models import ACCOUNT_KEYS

    assert list(mail.KEYS) == [str(key) for key in ACCOUNT_KEYS]
    with pytest.raises(ValueError, match="not an account mail"):
        mail.account_mail_send(key="receipt", to="a@example.vn", context={})
