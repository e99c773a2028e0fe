"""Per-agency templates: override, restricted syntax, the admin page, isolation."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import User
from accounts.services import membership_grant
from notifications.models import Notification, NotificationTemplate
from notifications.rendering import render_message
from notifications.services import template_save
from notifications.tests.conftest import HOST, submit
from tenants.context import agency_context
from tests.fixtures.mfa import mfa_login

CONTEXT = {"agency_name": "X", "dossier_code": "AB-1", "applicant_name": "Bà C", "due_date": ""}


@pytest.fixture
def admin_client(commune: Any) -> Client:
    user = User.objects.create_user("qt@anbinh.gov.vn", "x", full_name="Quản Trị")
    membership_grant(user=user, agency=commune, roles=["admin"])
    client = Client(HTTP_HOST=HOST)
    mfa_login(client, user)
    return client


@pytest.mark.django_db
def test_an_agency_override_is_used_only_in_that_agency(
    commune: Any, make_agency: Any, citizen: Any
) -> None:
    other = make_agency("xa-khac", name="Xã Khác")
    with agency_context(commune):
        template_save(
            key="receipt",
            channel="email",
            subject="Biên nhận {{ dossier_code }}",
            body="Chào {{ applicant_name|upper }}, hồ sơ {{ dossier_code }} đã nhận.",
            actor=None,
        )
        dossier = submit(commune, citizen)
        message = Notification.objects.get(dossier=dossier)
        assert message.subject == f"Biên nhận {dossier.code}"
        assert message.body == f"Chào NGUYỄN VĂN A, hồ sơ {dossier.code} đã nhận."
    with agency_context(other):
        assert not NotificationTemplate.objects.exists()
        default = render_message("receipt", "email", CONTEXT)
        assert default.subject.startswith("[X] Tiếp nhận hồ sơ AB-1")


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
@pytest.mark.parametrize(
    "body",
    [
        "Hồ sơ {% if dossier_code %}",  # unclosed
        "{% load static %}{% static 'x' %}",
        "{% debug %}",
        "{% include 'base.html' %}",
        "{{ dossier_code|no_such_filter }}",
    ],
)
def test_bad_or_unsafe_template_syntax_is_refused_and_nothing_saved(
    commune: Any, body: str
) -> None:
    with agency_context(commune):
        with pytest.raises(ValidationError) as exc:
            template_save(key="receipt", channel="sms", subject="", body=body, actor=None)
        assert "The template has an error" in exc.value.message_dict["body"][0]
        assert not NotificationTemplate.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_the_admin_page_previews_saves_and_resets(commune: Any, admin_client: Client) -> None:
    listing = admin_client.get("/quan-tri/thong-bao/")
    assert listing.status_code == 200 and "/quan-tri/thong-bao/apology/sms/" in listing.text
    url = "/quan-tri/thong-bao/receipt/email/"
    page = admin_client.get(url)
    assert page.status_code == 200 and "Tiếp nhận hồ sơ {{ dossier_code }}" in page.text
    form = {"subject": "Hồ sơ {{ dossier_code }}", "body": "Hẹn {{ due_date }}"}
    preview = admin_client.post(url, {**form, "action": "preview"})
    assert preview.status_code == 200 and "Hẹn 08/01/2026" in preview.text
    bad = admin_client.post(url, {**form, "body": "{% for x in %}", "action": "save"})
    assert bad.status_code == 400 and "The template has an error" in bad.text
    with agency_context(commune):
        assert not NotificationTemplate.objects.exists()
    saved = admin_client.post(url, {**form, "action": "save"})
    assert saved.status_code == 302
    with agency_context(commune):
        template = NotificationTemplate.objects.get()
        assert (template.key, template.channel, template.body) == (
            "receipt",
            "email",
            "Hẹn {{ due_date }}",
        )
    assert admin_client.post(url, {"action": "reset"}).status_code == 302
    with agency_context(commune):
        assert not NotificationTemplate.objects.exists()
    assert admin_client.get("/quan-tri/thong-bao/nope/email/").status_code == 404


@pytest.mark.django_db
def test_only_admins_edit_templates(commune: Any, citizen: Any) -> None:
    officer = User.objects.create_user("cv@anbinh.gov.vn", "x")
    membership_grant(user=officer, agency=commune, roles=["officer"])
    client = Client(HTTP_HOST=HOST)
    mfa_login(client, officer)
    assert client.get("/quan-tri/thong-bao/").status_code == 403
    response = client.post("/quan-tri/thong-bao/receipt/sms/", {"body": "x", "action": "save"})
    assert response.status_code == 403
    with agency_context(commune):
        assert not NotificationTemplate.objects.exists()
