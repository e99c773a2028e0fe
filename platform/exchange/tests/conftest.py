"""Transfer fixtures: the commune (xã An Bình) with the land-registration procedure
(S-DD-001: reception → site confirmation (officer) → transfer to the land registration
office (officer, transfer step, also the decision step) → return), a department to
transfer to, and a third agency that must see nothing."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from desk import services as desk
from desk.tests.conftest import staff_of
from dossiers.models import Dossier
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tenants.models import Agency, AgencyKind
from tests.files import pdf

LAND_FORM = {"parcel_number": "125", "map_sheet": "7", "area": "150.5"}


@pytest.fixture
def department(make_agency: Any) -> Agency:
    return make_agency(
        "so-tnmt", name="Sở Nông nghiệp và Môi trường", kind=AgencyKind.DEPARTMENT, code="NNMT"
    )


@pytest.fixture
def outsider(make_agency: Any) -> Agency:
    return make_agency("so-khac", name="Sở Khác", kind=AgencyKind.DEPARTMENT, code="SK")


@pytest.fixture
def staff(commune: Agency) -> SimpleNamespace:
    return staff_of(commune, "ab")


@pytest.fixture
def dept_staff(department: Agency) -> SimpleNamespace:
    return staff_of(department, "tnmt")


def land_dossier_at_transfer(agency: Agency, citizen: Any, team: SimpleNamespace) -> Dossier:
    """A land dossier held by ``team.officer`` at the transfer step (call in the agency)."""
    d = dossier_submit(
        agency=agency,
        procedure=AgencyProcedure.objects.get(code="S-DD-001"),
        applicant=Applicant.from_user(citizen),
        form_data=LAND_FORM,
        files={0: [pdf("don.pdf")], 1: [pdf("giay-to-1.pdf"), pdf("giay-to-2.pdf")]},
    ).dossier
    desk.dossier_claim(dossier=d, actor=team.receptionist)
    desk.dossier_forward(dossier=d, actor=team.receptionist, to=team.officer)
    desk.dossier_forward(dossier=d, actor=team.officer, to=team.officer)
    return Dossier.objects.get(pk=d.pk)


@pytest.fixture
def at_transfer(commune: Agency, citizen: Any, staff: SimpleNamespace) -> Dossier:
    with agency_context(commune):
        return land_dossier_at_transfer(commune, citizen, staff)
