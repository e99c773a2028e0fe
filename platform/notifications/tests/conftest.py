"""Notification fixtures: the commune's staff and an online dossier (see desk/tests/conftest)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from desk.tests.conftest import SHOP_FORM, staff_of
from dossiers.models import Dossier
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from tenants.models import Agency
from tests.files import pdf

HOST = "xa-an-binh.localhost"


@pytest.fixture
def staff(commune: Agency) -> SimpleNamespace:
    return staff_of(commune, "ab")


def submit(agency: Agency, user: Any) -> Dossier:
    """An online household-business dossier (call inside the agency's context)."""
    return dossier_submit(
        agency=agency,
        procedure=AgencyProcedure.objects.get(code="S-KD-001"),
        applicant=Applicant.from_user(user),
        form_data=SHOP_FORM,
        files={0: [pdf()], 1: [pdf()]},
    ).dossier
