"""The development inbox: what the platform sends is kept and listed per agency, locally only."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from core.mail import sender_address
from ops.devinbox import SmsProvider, inbox_messages
from tenants.context import agency_context

HOST = "xa-an-binh.localhost"


@pytest.fixture
def inbox(settings, tmp_path):
    settings.DEBUG = True
    settings.DEV_INBOX_DIR = tmp_path / "dev-inbox"
    settings.EMAIL_BACKEND = "ops.devinbox.EmailBackend"
    return settings.DEV_INBOX_DIR


@pytest.mark.django_db
def test_mail_and_sms_are_kept_and_listed_per_agency(inbox, commune, agency_b) -> None:
    with agency_context(commune):
        mail.EmailMessage(
            "[Xã An Bình] Tiếp nhận hồ sơ", "Kính gửi ông/bà", sender_address(), ["a@example.vn"]
        ).send()
        SmsProvider().send(to="0912345678", text="Xa An Binh: da tiep nhan", idempotency_key="k1")
    with agency_context(agency_b):
        mail.EmailMessage("Thư của Phường B", "Nội dung", sender_address(), ["b@example.vn"]).send()
    mail.EmailMessage("Thư của nhà cung cấp", "…", sender_address(), ["c@example.vn"]).send()

    kept = inbox_messages()
    assert [(m.schema, m.kind) for m in kept][::-1] == [
        (commune.schema_name, "email"),
        (commune.schema_name, "sms"),
        (agency_b.schema_name, "email"),
        ("public", "email"),
    ]
    assert kept[-1].sender_name == "Xã An Bình" and kept[-1].to == ["a@example.vn"]

    # The provider's host: every agency, with a filter per agency.
    everything = Client(HTTP_HOST="localhost").get("/dev/hop-thu/")
    assert everything.status_code == 200
    for text in ("[Xã An Bình] Tiếp nhận hồ sơ", "Thư của Phường B", "Thư của nhà cung cấp"):
        assert text in everything.text
    only_b = Client(HTTP_HOST="localhost").get("/dev/hop-thu/", {"co-quan": agency_b.schema_name})
    assert "Thư của Phường B" in only_b.text and "Tiếp nhận hồ sơ" not in only_b.text
    # An agency's host: its own messages only.
    own = Client(HTTP_HOST=HOST).get("/dev/hop-thu/")
    assert "Tiếp nhận hồ sơ" in own.text and "Xa An Binh: da tiep nhan" in own.text
    assert "Thư của Phường B" not in own.text
    # One message, whole.
    message = kept[-1]
    page = Client(HTTP_HOST=HOST).get(f"/dev/hop-thu/{message.schema}/{message.id}/")
    assert page.status_code == 200 and "Kính gửi ông/bà" in page.text
    other = kept[1]  # Phường B's, asked for on Xã An Bình's host
    assert Client(HTTP_HOST=HOST).get(f"/dev/hop-thu/{other.schema}/{other.id}/").status_code == 404
    assert Client(HTTP_HOST="localhost").get("/dev/hop-thu/public/../x/").status_code == 404


@pytest.mark.django_db
def test_the_inbox_does_not_exist_outside_development(settings, tmp_path, commune) -> None:
    settings.DEV_INBOX_DIR = tmp_path
    settings.DEBUG = False  # production-like: the folder alone does not open it
    assert Client(HTTP_HOST="localhost").get("/dev/hop-thu/").status_code == 404
    settings.DEBUG = True
    settings.DEV_INBOX_DIR = None
    assert Client(HTTP_HOST=HOST).get("/dev/hop-thu/").status_code == 404


def test_production_settings_keep_no_inbox() -> None:
    """The production settings module neither sets the folder nor the backend."""
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "config/settings/production.py").read_text()
    assert "DEV_INBOX" not in source and "devinbox" not in source
