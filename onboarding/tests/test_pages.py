"""Onboarding pages: the public form, staff-only console pages, actions and live progress."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from onboarding import services
from onboarding.models import Application, ApplicationState
from onboarding.tests.conftest import apply_commune
from tests.fixtures.mfa import mfa_login

S = ApplicationState


@pytest.fixture
def staff(db: None) -> Client:
    user = User.objects.create_user("staff@motcua.vn", "x", is_staff=True)
    client = Client(HTTP_HOST="localhost")
    mfa_login(client, user)
    return client


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_the_public_form_validates_and_records_an_application(hp_communes: list[Any]) -> None:
    client = Client(HTTP_HOST="localhost")
    assert client.get("/dang-ky/").status_code == 200
    form = {
        "kind": "commune",
        "admin_unit_code": "99999",
        "contact_name": "Trần Thị C",
        "contact_phone": "0913000000",
        "admin_email": "c@example.vn",
    }
    page = client.post("/dang-ky/", form)
    assert page.status_code == 200
    assert "is not an official commune or ward code" in page.content.decode()
    assert not Application.objects.exists()
    page = client.post("/dang-ky/", {**form, "admin_unit_code": hp_communes[0].code})
    assert "has been received" in page.content.decode()
    assert Application.objects.get().name == hp_communes[0].name


@pytest.mark.django_db
def test_console_pages_are_for_provider_staff_only(
    hp_communes: list[Any], django_user_model: Any
) -> None:
    application = apply_commune(hp_communes[0])
    anonymous = Client(HTTP_HOST="localhost")
    officer = Client(HTTP_HOST="localhost")
    officer.force_login(django_user_model.objects.create_user("officer@example.vn", "x"))
    for client, refused in ((anonymous, 302), (officer, 403)):  # sign-in page; not theirs
        for path in (
            "/console/onboarding/",
            f"/console/onboarding/{application.pk}/",
            f"/console/onboarding/{application.pk}/progress.json",
            "/console/coverage/",
            "/console/onboarding/province/",
        ):
            assert client.get(path).status_code == refused, path
        client.post(f"/console/onboarding/{application.pk}/approve/", {})
    application.refresh_from_db()
    assert application.state == S.SUBMITTED


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_staff_list_approve_reject_and_follow_progress(
    staff: Client, hp_communes: list[Any], payer: Any, national_catalog: None
) -> None:
    first = apply_commune(hp_communes[0])
    second = apply_commune(hp_communes[1])
    page = staff.get("/console/onboarding/", {"province": "31", "q": hp_communes[1].code})
    text = page.content.decode()
    assert hp_communes[1].name in text and hp_communes[0].name not in text

    staff.post(f"/console/onboarding/{second.pk}/reject/", {"reason": ""})
    second.refresh_from_db()
    assert second.state == S.SUBMITTED
    staff.post(f"/console/onboarding/{second.pk}/reject/", {"reason": "Trùng đơn vị"})
    second.refresh_from_db()
    assert second.state == S.REJECTED and second.reject_reason == "Trùng đơn vị"

    staff.post(f"/console/onboarding/{first.pk}/approve/", {"billing_account": payer.pk})
    first.refresh_from_db()
    assert first.state == S.PROVISIONING and first.billing_account == payer
    assert first.events.get(event="approved").actor_email == "staff@motcua.vn"
    progress = staff.get(f"/console/onboarding/{first.pk}/progress.json").json()
    assert progress["state"] == "provisioning" and progress["finished"] is False
    detail = staff.get(f"/console/onboarding/{first.pk}/").content.decode()
    assert "data-progress-live" in detail and "js/progress.js" in detail

    # The chain would run on the worker; run it here and look at the finished page.
    services.application_pipeline_run(application=first)
    detail = staff.get(f"/console/onboarding/{first.pk}/").content.decode()
    assert "Go-live checklist" in detail and "data-progress-live" not in detail
    assert staff.get(f"/console/onboarding/{first.pk}/progress.json").json()["percent"] == 100
    coverage = staff.get("/console/coverage/").content.decode()
    assert "1/114" in coverage and "<svg" in coverage


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_staff_create_an_application_and_a_bad_department_file_is_refused(
    staff: Client, hp_communes: list[Any]
) -> None:
    page = staff.post(
        "/console/onboarding/new/",
        {
            "kind": "department",
            "admin_unit_code": "31",
            "name": "Sở Y tế",
            "contact_name": "A",
            "contact_phone": "1",
            "admin_email": "syt@example.vn",
        },
    )
    application = Application.objects.get()
    assert page.status_code == 302 and application.created_by_email == "staff@motcua.vn"

    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("d.json", b'{"departments": [{"slug": "so-y-te"}]}')
    page = staff.post("/console/onboarding/province/", {"province": "31", "departments": bad})
    assert "Row 1" in page.content.decode()
    from onboarding.models import ProvinceRun

    assert not ProvinceRun.objects.exists()
