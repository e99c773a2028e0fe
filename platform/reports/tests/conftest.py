"""Statistics fixtures: the commune's staff, a second commune, and a dossier factory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from desk.tests.conftest import SHOP_FORM, staff_of
from dossiers.models import Dossier
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from procedures.services import procedures_adopt_for_kind
from tenants.context import agency_context
from tenants.models import Agency
from tests.files import pdf

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def staff(commune: Agency) -> SimpleNamespace:
    return staff_of(commune, "ab")


@pytest.fixture
def other_commune(make_agency: Any, national_catalog: None) -> Agency:
    agency = make_agency("xa-binh-minh", name="Xã Bình Minh", code="BM", province_code="01")
    with agency_context(agency):
        procedures_adopt_for_kind(agency=agency, publish=True)
    return agency


Submit = Callable[..., Dossier]


@pytest.fixture
def submit(citizen: Any) -> Submit:
    """An online household-business dossier in the active agency."""

    def make(agency: Agency, received_at: dt.datetime | None = None) -> Dossier:
        return dossier_submit(
            agency=agency,
            procedure=AgencyProcedure.objects.get(code="S-KD-001"),
            applicant=Applicant.from_user(citizen),
            form_data=SHOP_FORM,
            files={0: [pdf()], 1: [pdf()]},
            received_at=received_at,
        ).dossier

    return make
