"""The console's merge pages: plan (dry run), start, progress, verification and audit."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from reorg import services
from reorg.models import Merge
from tests.fixtures.mfa import mfa_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db: None) -> Client:
    staff = User.objects.create_user("ops@motcua.vn", "mat-khau-nhan-vien-2026", is_staff=True)
    return mfa_login(Client(HTTP_HOST="localhost"), staff)


def form(world: Any, **extra: Any) -> dict[str, Any]:
    return {
        "sources": [world.a.pk, world.b.pk],
        "target": world.c.pk,
        "effective_on": timezone.localdate().isoformat(),
        "choices": "",
        **extra,
    }


def test_the_plan_shows_clashes_side_by_side_and_starting_it_runs_the_merge(
    world: Any, staff_client: Client
) -> None:
    page = staff_client.post("/console/reorg/", {**form(world), "plan": "1"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="plan"' in html and "S-KD-001" in html and 'name="start"' in html
    assert not Merge.objects.exists()  # the plan changes nothing

    started = staff_client.post("/console/reorg/", {**form(world), "start": "1"})
    merge = Merge.objects.get()
    assert started["Location"] == f"/console/reorg/{merge.pk}/"
    assert merge.actor_email == "ops@motcua.vn"
    services.merge_run(merge)  # what the worker's task does
    detail = staff_client.get(f"/console/reorg/{merge.pk}/").content.decode()
    assert "dossiers_dossier" in detail and "copy:xa-an-binh:dossiers_dossier" in detail
    assert 'class="verification"' in detail
    assert "merge_finished" in detail  # the audit
    progress = staff_client.get(f"/console/reorg/{merge.pk}/progress/").json()
    assert progress["percent"] == 100 and progress["finished"] is True


def test_bad_input_on_the_page_is_a_message_and_nothing_starts(
    world: Any, staff_client: Client
) -> None:
    page = staff_client.post("/console/reorg/", {**form(world, sources=[world.c.pk]), "start": "1"})
    assert page.status_code == 200
    assert 'class="errorlist' in page.content.decode()
    page = staff_client.post("/console/reorg/", {**form(world, choices="khong dung"), "start": "1"})
    assert page.status_code == 200
    assert "khong dung" in page.content.decode()
    assert not Merge.objects.exists()


def test_citizens_and_agency_staff_cannot_open_the_merge_pages(world: Any) -> None:
    officer = world.teams["xa-hoa-binh"].admin
    client = Client(HTTP_HOST="localhost")
    client.force_login(officer)
    assert client.get("/console/reorg/").status_code in (302, 403)
    assert Client(HTTP_HOST="xa-hoa-binh.localhost").get("/console/reorg/").status_code == 404
