"""The console's split pages: plan (dry run), start, progress, verification and audit."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from reorg import splits
from reorg.models import Split
from tests.fixtures.mfa import mfa_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db: None) -> Client:
    staff = User.objects.create_user("ops@motcua.vn", "mat-khau-nhan-vien-2026", is_staff=True)
    return mfa_login(Client(HTTP_HOST="localhost"), staff)


def form(world: Any, **extra: Any) -> dict[str, Any]:
    return {
        "source": world.a.pk,
        "procedures": "S-KD-001",
        "staff": str(world.teams["xa-an-binh"].officer.email),
        "target": world.c.pk,
        "effective_on": timezone.localdate().isoformat(),
        "choices": "",
        **extra,
    }


def test_the_plan_lists_what_moves_and_starting_it_runs_the_split(
    world: Any, staff_client: Client
) -> None:
    page = staff_client.post("/console/reorg/tach/", {**form(world), "plan": "1"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="plan"' in html and "S-KD-001" in html and 'name="start"' in html
    assert "dossiers_dossier" in html
    assert not Split.objects.exists()  # the plan changes nothing

    started = staff_client.post("/console/reorg/tach/", {**form(world), "start": "1"})
    split = Split.objects.get()
    assert started["Location"] == f"/console/reorg/tach/{split.pk}/"
    assert split.actor_email == "ops@motcua.vn"
    splits.split_run(split)  # what the worker's task does
    detail = staff_client.get(f"/console/reorg/tach/{split.pk}/").content.decode()
    assert "copy:dossiers_dossier" in detail and 'class="verification"' in detail
    assert "split_finished" in detail  # the audit
    progress = staff_client.get(f"/console/reorg/tach/{split.pk}/progress/").json()
    assert progress["percent"] == 100 and progress["finished"] is True
    again = staff_client.post(f"/console/reorg/tach/{split.pk}/", {"verify": "1"})
    assert again.status_code == 302
    split.refresh_from_db()
    assert split.verification["ok"] is True


def test_a_new_agency_can_be_the_target_and_bad_input_is_a_message(
    world: Any, staff_client: Client
) -> None:
    new = form(world, target="", new_slug="xa-an-binh-moi", new_name="Xã An Bình Mới")
    page = staff_client.post("/console/reorg/tach/", {**new, "plan": "1"})
    assert page.status_code == 200 and "xa-an-binh-moi" in page.content.decode()
    for bad in (
        form(world, new_slug="xa-moi"),  # both a target and a new agency
        form(world, procedures="KHONG-CO"),
        form(world, staff="khong-phai@example.vn"),
    ):
        page = staff_client.post("/console/reorg/tach/", {**bad, "start": "1"})
        assert page.status_code == 200
        assert 'class="errorlist' in page.content.decode()
    assert not Split.objects.exists()


def test_citizens_and_agency_staff_cannot_open_the_split_pages(world: Any) -> None:
    client = Client(HTTP_HOST="localhost")
    client.force_login(world.teams["xa-an-binh"].admin)
    assert client.get("/console/reorg/tach/").status_code in (302, 403)
    assert Client(HTTP_HOST="xa-an-binh.localhost").get("/console/reorg/tach/").status_code == 404
