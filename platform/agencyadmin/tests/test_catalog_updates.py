"""A newer catalog version: shown field by field, accepted when in effect, dossiers stay pinned."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from catalog.data import SAMPLE_CATALOG
from catalog.services import catalog_import
from lifecycle.submit import Applicant, dossier_submit
from procedures import services
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.files import pdf, png

BIRTH_FORM = {
    "child_full_name": "Nguyễn Văn B",
    "child_birth_date": "2026-11-20",
    "child_sex": "Nam",
    "birth_place": "Trạm y tế xã",
}


def new_birth_version(effective_from: dt.date | None = None) -> None:
    data = json.loads(SAMPLE_CATALOG.read_text(encoding="utf-8"))
    changed = copy.deepcopy(data)
    birth = next(p for p in changed["procedures"] if p["code"] == "S-HT-001")
    birth["components"].append(
        {"name": "Giấy tờ chứng minh nơi cư trú", "required": True, "max_files": 1}
    )
    birth["components"][2]["required"] = True
    birth["cutoff_hour"] = 16
    birth["steps"] = [s for s in birth["steps"] if s["name"] != "Thẩm định"]
    catalog_import(raw=changed, effective_from=effective_from)


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_changes_are_human_readable_and_accepting_keeps_dossiers_pinned(
    commune, citizen, admin_client: Client
) -> None:
    with agency_context(commune):
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        first = dossier_submit(
            agency=commune,
            procedure=birth,
            applicant=Applicant.from_user(citizen),
            form_data=BIRTH_FORM,
            files={0: [pdf()], 1: [png("giay-chung-sinh.png")]},
        ).dossier
        assert first.procedure_version.number == 1
    new_birth_version()

    listing = admin_client.get("/quan-tri/thu-tuc/")
    assert "Catalog update pending" in listing.text
    page = admin_client.get("/quan-tri/thu-tuc/S-HT-001/cap-nhat/")
    assert page.status_code == 200
    text = page.content.decode()
    for expected in (
        "Cut-off hour",
        "Dossier component added",
        "Giấy tờ chứng minh nơi cư trú (required, up to 1 file(s))",
        "Step removed",
        "Thẩm định (officer, 0 working day(s))",
    ):
        assert expected in text, expected
    for raw in ("Component(", "Step(", "FormField(", "True", "False"):
        assert raw not in text, raw

    with agency_context(commune):
        update = services.procedure_catalog_update(birth)
        assert update is not None and update.in_effect
        required_change = [c for c in update.changes if c.what.endswith(": required")]
        assert required_change and (required_change[0].old, required_change[0].new) == (
            "no",
            "yes",
        )

    response = admin_client.post("/quan-tri/thu-tuc/S-HT-001/cap-nhat/")
    assert response.status_code == 302
    with agency_context(commune):
        birth.refresh_from_db()
        assert birth.catalog_version == 2 and birth.has_unpublished_changes
        assert birth.published_version.number == 1  # citizens still see version 1
    assert admin_client.post("/quan-tri/thu-tuc/S-HT-001/cong-bo/").status_code == 302
    with agency_context(commune):
        birth.refresh_from_db()
        assert birth.published_version.number == 2
        second = dossier_submit(
            agency=commune,
            procedure=birth,
            applicant=Applicant.from_user(citizen),
            form_data=BIRTH_FORM,
            files={0: [pdf()], 1: [png("giay-chung-sinh.png")], 2: [pdf()], 3: [pdf()]},
        ).dossier
        first.refresh_from_db()
        assert first.procedure_version.number == 1  # pinned to what it was submitted under
        assert len(first.procedure_version.spec.components) == 3
        assert second.procedure_version.number == 2
        assert len(second.procedure_version.spec.components) == 4
    after = admin_client.get("/quan-tri/thu-tuc/S-HT-001/cap-nhat/")
    assert "follows the newest catalog version" in after.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_a_version_not_yet_in_effect_is_shown_but_cannot_be_accepted(
    commune, admin_client: Client
) -> None:
    later = timezone.localdate() + dt.timedelta(days=30)
    new_birth_version(effective_from=later)
    listing = admin_client.get("/quan-tri/thu-tuc/")
    assert f"Catalog update from {later:%d/%m/%Y}" in listing.text
    page = admin_client.get("/quan-tri/thu-tuc/S-HT-001/cap-nhat/")
    assert "Cut-off hour" in page.text and 'name="accept"' not in page.text
    response = admin_client.post("/quan-tri/thu-tuc/S-HT-001/cap-nhat/", follow=True)
    assert f"takes effect on {later:%d/%m/%Y}" in response.content.decode()
    with agency_context(commune):
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        assert birth.catalog_version == 1
        assert services.procedure_catalog_changes(birth) == (None, [])
        with pytest.raises(ValidationError):
            services.procedure_accept_catalog_version(procedure=birth)
