"""The step-assignment page: admins and leaders choose who may take each step."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.services import membership_grant
from dossiers.models import StepAssignment
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.fixtures.mfa import mfa_login

HOST = "xa-an-binh.localhost"


def member(django_user_model: Any, agency: Any, email: str, roles: list[str]) -> Any:
    user = django_user_model.objects.create_user(email=email, password="x", full_name=email)
    membership_grant(user=user, agency=agency, roles=roles)
    return user


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_assignments_are_saved_per_step_and_checked(commune: Any, django_user_model: Any) -> None:
    admin = member(django_user_model, commune, "qt@example.vn", ["admin"])
    officer = member(django_user_model, commune, "cb@example.vn", ["officer"])
    receptionist = member(django_user_model, commune, "tn@example.vn", ["receptionist"])
    with agency_context(commune):
        procedure = AgencyProcedure.objects.get(code="S-HT-001")
        steps = list(procedure.steps.all())
    officer_step = next(i for i, s in enumerate(steps) if s.role == "officer")
    url = f"/mot-cua/phan-cong/{procedure.code}/"

    as_officer = mfa_login(Client(HTTP_HOST=HOST), officer)
    assert as_officer.get(url).status_code == 403

    client = mfa_login(Client(HTTP_HOST=HOST), admin)
    page = client.get(url)
    assert page.status_code == 200 and "cb@example.vn" in page.content.decode()
    client.post(url, {f"step_{officer_step}": [str(officer.pk)]})
    with agency_context(commune):
        rows = list(StepAssignment.objects.values_list("step_position", "user_id"))
    assert rows == [(officer_step, officer.pk)]

    # A receptionist cannot be put on an officer's step: refused, nothing changed.
    refused = client.post(url, {f"step_{officer_step}": [str(receptionist.pk)]}, follow=True)
    assert refused.status_code == 200
    with agency_context(commune):
        assert list(StepAssignment.objects.values_list("user_id", flat=True)) == [officer.pk]
