"""Desk fixtures: the commune's staff, and dossiers of the household-business procedure
(S-KD-001: reception 0 days → appraisal by an officer 2 days → signature by a leader 1 day;
3 working days overall, cut-off 16h)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from accounts.models import User
from accounts.services import membership_grant
from dossiers.models import Dossier
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from tenants.models import Agency
from tests.files import pdf

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SHOP_FORM = {
    "business_name": "Tạp hoá Minh An",
    "business_address": "Thôn 2, Xã An Bình",
    "capital": "50000000",
    "trade": "Bán lẻ hàng tạp hoá",
}


def staff_of(agency: Agency, prefix: str) -> SimpleNamespace:
    def person(name: str, *roles: str) -> User:
        user = User.objects.create_user(f"{name}.{prefix}@example.vn", "x", full_name=name)
        membership_grant(user=user, agency=agency, roles=roles)
        return user

    return SimpleNamespace(
        receptionist=person("Tiếp Nhận", "receptionist"),
        officer=person("Chuyên Viên Một", "officer"),
        officer2=person("Chuyên Viên Hai", "officer"),
        leader=person("Lãnh Đạo", "leader"),
        admin=person("Quản Trị", "admin"),
        viewer=person("Người Xem", "viewer"),
    )


@pytest.fixture
def staff(commune: Agency) -> SimpleNamespace:
    return staff_of(commune, "ab")


SubmitShop = Callable[..., Dossier]


@pytest.fixture
def submit_shop(commune: Agency, citizen: Any) -> SubmitShop:
    """An online household-business dossier (call inside the commune's context)."""

    def submit(received_at: dt.datetime | None = None, agency: Agency = commune) -> Dossier:
        shop = AgencyProcedure.objects.get(code="S-KD-001")
        return dossier_submit(
            agency=agency,
            procedure=shop,
            applicant=Applicant.from_user(citizen),
            form_data=SHOP_FORM,
            files={0: [pdf()], 1: [pdf()]},
            received_at=received_at,
        ).dossier

    return submit
