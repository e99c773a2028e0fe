"""The console's agency and application histories read as sentences, not codes: every event
code the services write has a label, and the pages show it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from accounts.models import User
from onboarding.models import APPLICATION_EVENT_LABELS, ApplicationEvent, ApplicationState
from tenants.models import AGENCY_EVENT_LABELS, Agency, AgencyEvent
from tests.fixtures.mfa import mfa_login

ROOT = Path(__file__).resolve().parents[2]


def _codes_written(function: str, *, keyword: str = "") -> set[str]:
    """String literals given as the event code to ``function`` (second positional argument,
    or ``keyword=``) anywhere in the product's code."""
    codes: set[str] = set()
    for path in ROOT.glob("**/*.py"):
        if {".venv", "tests", "migrations", "var"} & set(path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name != function:
                continue
            given = [*node.args[1:2], *(k.value for k in node.keywords if k.arg == keyword)]
            codes |= {
                a.value for a in given if isinstance(a, ast.Constant) and isinstance(a.value, str)
            }
    return codes


def test_every_agency_event_code_has_a_label() -> None:
    written = _codes_written("agency_event_record")
    assert len(written) >= 8  # the scan finds them
    assert written - AGENCY_EVENT_LABELS.keys() == set()


def test_every_application_event_code_has_a_label() -> None:
    written = _codes_written("_record") | _codes_written("_transition", keyword="event")
    assert {"submitted", "step_failed"} <= written
    assert written - APPLICATION_EVENT_LABELS.keys() - set(ApplicationState.values) == set()


@pytest.mark.django_db
def test_the_console_histories_show_labels_not_codes(commune: Agency) -> None:
    AgencyEvent.objects.create(agency=commune, event="exit_pack_downloaded")
    staff = User.objects.create_user("ops@motcua.vn", "mat-khau-nhan-vien-2026", is_staff=True)
    console = mfa_login(Client(HTTP_HOST="localhost"), staff)
    page = console.get(f"/console/agencies/{commune.pk}/").content.decode()
    with translation.override("vi"):
        label = str(AGENCY_EVENT_LABELS["exit_pack_downloaded"])
    assert label in page
    assert "exit_pack_downloaded" not in page

    event = ApplicationEvent(event="step_failed", from_state="provisioning", to_state="failed")
    with translation.override("vi"):
        assert event.label == str(APPLICATION_EVENT_LABELS["step_failed"])
        assert event.to_state_label == str(ApplicationState.FAILED.label)
        assert ApplicationEvent(event="approved").label == str(ApplicationState.APPROVED.label)
    assert ApplicationEvent(event="someday_new").label == "someday_new"
