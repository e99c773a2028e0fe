"""Importing the national catalog: versions on change, nothing on error."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from catalog.models import CatalogProcedure, CatalogVersion, Sector
from catalog.services import CatalogImportError, catalog_import

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "procedures.sample.json"


@pytest.fixture
def sample() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.mark.django_db
def test_the_sample_catalog_imports(sample) -> None:
    report = catalog_import(raw=SAMPLE.read_bytes())
    assert len(report.created) == len(sample["procedures"]) == CatalogProcedure.objects.count()
    birth = CatalogProcedure.objects.get(code="S-HT-001")
    assert birth.name == "Đăng ký khai sinh" and birth.sector.name == "Hộ tịch"
    assert birth.agency_kinds == ["commune"]
    version = birth.versions.get()
    assert version.number == 1
    assert [c.name for c in version.spec.components][:2] == [
        "Tờ khai đăng ký khai sinh",
        "Giấy chứng sinh",
    ]


@pytest.mark.django_db
def test_reimport_adds_versions_only_where_content_changed(sample) -> None:
    catalog_import(raw=sample)
    again = catalog_import(raw=sample)
    assert again.created == [] and again.new_versions == []
    assert len(again.unchanged) == len(sample["procedures"])

    changed = copy.deepcopy(sample)
    changed["procedures"][0]["fee"] = 8000
    report = catalog_import(raw=changed, effective_from=dt.date(2027, 1, 1))
    assert report.new_versions == ["S-HT-001"]
    assert CatalogVersion.objects.filter(procedure__code="S-HT-001").count() == 2
    newest = CatalogVersion.objects.get(procedure__code="S-HT-001", number=2)
    assert newest.spec.fee == 8000 and newest.effective_from == dt.date(2027, 1, 1)
    assert CatalogProcedure.objects.count() == len(sample["procedures"])


@pytest.mark.django_db
def test_a_malformed_file_imports_nothing_and_says_where(sample) -> None:
    broken = copy.deepcopy(sample)
    broken["procedures"][1]["processing_days"] = "mười"
    broken["procedures"][3]["components"][0]["max_files"] = 0
    broken["procedures"][5]["fields"].append({"key": "Bad Key", "label": "x", "type": "colour"})
    broken["procedures"][6]["code"] = broken["procedures"][7]["code"]
    broken["procedures"][8]["agency_kinds"] = ["planet"]
    with pytest.raises(CatalogImportError) as exc:
        catalog_import(raw=broken)
    text = "\n".join(exc.value.errors)
    assert "row 2 (S-HT-002).processing_days: must be a whole number" in text
    assert "row 4 (S-CT-001).components[0].max_files: must be between 1 and 20" in text
    assert (
        "fields[" in text and "must be lowercase letters" in text and "type: must be one of" in text
    )
    assert "already used in row" in text
    assert "unknown agency kind “planet”" in text
    assert not CatalogProcedure.objects.exists() and not Sector.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw", [b"not json", b"{}", b'{"procedures": []}', b'{"procedures": [42]}']
)
def test_garbage_is_refused_with_a_message(raw: bytes) -> None:
    with pytest.raises(CatalogImportError) as exc:
        catalog_import(raw=raw)
    assert exc.value.errors


@pytest.mark.django_db
def test_the_import_command_reports_errors(tmp_path, capsys) -> None:
    from django.core.management import CommandError, call_command

    bad = tmp_path / "bad.json"
    bad.write_text('{"procedures": [{"code": "X"}]}')
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_catalog", str(bad))
    call_command("import_catalog")  # the bundled sample
    assert CatalogProcedure.objects.exists()
