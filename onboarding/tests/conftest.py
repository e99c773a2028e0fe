"""Fixtures of the onboarding tests: default plans, a payer and a first commune of Hải Phòng."""

from __future__ import annotations

from typing import Any

import pytest

from tenants.units import communes_of


@pytest.fixture
def plans(db: None) -> None:
    from billing.pricing import plans_ensure_defaults

    plans_ensure_defaults()


@pytest.fixture
def payer(plans: None) -> Any:
    from billing.accounts import billing_account_create

    return billing_account_create(
        name="UBND TP Hải Phòng", tax_code="0200000009", address="Hải Phòng", email="kt@example.vn"
    )


@pytest.fixture
def hp_communes() -> list[Any]:
    return communes_of("31")


def apply_commune(commune: Any, email: str = "", **extra: Any) -> Any:
    from onboarding.services import application_submit

    return application_submit(
        kind="commune",
        admin_unit_code=commune.code,
        contact_name="Nguyễn Văn B",
        contact_phone="0912000000",
        admin_email=email or f"admin.{commune.code}@example.vn",
        **extra,
    )
