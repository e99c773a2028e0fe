"""Adopting, configuring, publishing and following catalog updates."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEntry
from catalog.models import CatalogProcedure
from catalog.services import catalog_import
from procedures import services
from procedures.models import AgencyProcedure, ProcedureVersion
from procedures.selectors import published_procedures
from tenants.context import agency_context

SAMPLE = Path(__file__).resolve().parents[2] / "catalog" / "data" / "procedures.sample.json"


def inputs(procedure: AgencyProcedure, **changes):
    values = {
        "fee": procedure.fee,
        "processing_days": procedure.processing_days,
        "cutoff_hour": procedure.cutoff_hour,
        "online_submission": procedure.online_submission,
        "online_payment": procedure.online_payment,
        "components": [
            services.ComponentInput(c.name, c.required, c.max_files)
            for c in procedure.components.all()
        ],
        "extra_fields": [],
        "steps": [
            services.StepInput(s.name, s.role, s.days, s.transfer) for s in procedure.steps.all()
        ],
    }
    values.update(changes)
    return values


@pytest.mark.django_db
def test_a_commune_adopts_the_procedures_of_its_kind(make_agency, national_catalog) -> None:
    agency = make_agency("xa-moi")
    with agency_context(agency):
        adopted = services.procedures_adopt_for_kind(agency=agency)
        codes = {p.code for p in adopted}
        expected = set(
            CatalogProcedure.objects.filter(agency_kinds__contains=["commune"]).values_list(
                "code", flat=True
            )
        )
        assert codes == expected and "S-TP-001" not in codes  # a department's procedure
        assert not published_procedures().exists()  # adopted, not yet published
        again = services.procedures_adopt_for_kind(agency=agency)
        assert AgencyProcedure.objects.count() == len(again)  # idempotent


@pytest.mark.django_db
def test_publish_freezes_a_version_and_republishing_unchanged_adds_none(commune) -> None:
    with agency_context(commune):
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        assert birth.is_published and birth.published_version.number == 1
        services.procedure_publish(procedure=birth)
        assert ProcedureVersion.objects.filter(procedure=birth).count() == 1
        services.procedure_configure(procedure=birth, **inputs(birth, cutoff_hour=16))
        version = services.procedure_publish(procedure=birth)
        assert version.number == 2 and version.spec.cutoff_hour == 16
        assert ProcedureVersion.objects.get(procedure=birth, number=1).spec.cutoff_hour == 15
        assert (
            AuditEntry.objects.filter(action="procedure.published", target="S-HT-001").count() == 3
        )


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
def test_the_law_limits_what_an_agency_may_change(commune) -> None:
    with agency_context(commune):
        shop = AgencyProcedure.objects.get(code="S-KD-001")  # 3 working days, components required
        comps = list(shop.components.all())
        loosened = [services.ComponentInput(c.name, False, c.max_files) for c in comps]
        with pytest.raises(ValidationError) as exc:
            services.procedure_configure(
                procedure=shop,
                **inputs(
                    shop,
                    processing_days=10,
                    components=loosened,
                    online_payment=True,
                    online_submission=False,
                    steps=[],
                ),
            )
        text = " ".join(exc.value.messages)
        assert "cannot exceed the legal 3 working days" in text
        assert "required by law" in text
        assert "Online payment needs online submission" in text
        assert "at least one step" in text
        shop.refresh_from_db()
        assert shop.processing_days == 3 and all(
            c.required for c in shop.components.filter(required_by_catalog=True)
        )


@pytest.mark.django_db
def test_extra_fields_and_shorter_times_are_allowed(commune) -> None:
    with agency_context(commune):
        shop = AgencyProcedure.objects.get(code="S-KD-001")
        extra = [services.FieldInput("zalo", "Số Zalo liên hệ", "phone", False)]
        steps = [
            services.StepInput("Tiếp nhận", "receptionist", 0),
            services.StepInput("Thẩm định", "officer", 2),
        ]
        services.procedure_configure(
            procedure=shop,
            **inputs(shop, processing_days=2, fee=90000, extra_fields=extra, steps=steps),
        )
        version = services.procedure_publish(procedure=shop)
        assert version.spec.processing_days == 2 and version.spec.fee == 90000
        assert version.spec.fields[-1].key == "zalo"


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_a_new_catalog_version_is_shown_and_accepted(commune) -> None:
    data = json.loads(SAMPLE.read_text(encoding="utf-8"))
    changed = copy.deepcopy(data)
    birth = next(p for p in changed["procedures"] if p["code"] == "S-HT-001")
    birth["components"].append(
        {"name": "Giấy tờ chứng minh nơi cư trú", "required": True, "max_files": 1}
    )
    birth["cutoff_hour"] = 16
    catalog_import(raw=changed)
    with agency_context(commune):
        procedure = AgencyProcedure.objects.get(code="S-HT-001")
        newest, changes = services.procedure_catalog_changes(procedure)
        assert newest is not None and newest.number == 2
        whats = {c.what for c in changes}
        assert "Cut-off hour" in whats and "Dossier component added" in whats
        services.procedure_accept_catalog_version(procedure=procedure)
        procedure.refresh_from_db()
        assert procedure.catalog_version == 2 and procedure.has_unpublished_changes
        # Dossiers keep the version they were submitted under until the admin publishes.
        assert procedure.published_version.number == 1
        version = services.procedure_publish(procedure=procedure)
        assert [c.name for c in version.spec.components][-1] == "Giấy tờ chứng minh nơi cư trú"
        assert services.procedure_catalog_changes(procedure) == (None, [])


@pytest.mark.django_db
def test_search_ignores_diacritics_and_filters_by_sector(commune) -> None:
    with agency_context(commune):
        assert {p.code for p in published_procedures(search="khai sinh")} == {"S-HT-001"}
        assert {p.code for p in published_procedures(search="dang ky ket hon")} == {"S-HT-002"}
        assert {p.code for p in published_procedures(search="birth registration")} == {"S-HT-001"}
        assert {p.sector for p in published_procedures(sector="Hộ tịch")} == {"Hộ tịch"}
