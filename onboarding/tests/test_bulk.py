"""Bulk onboarding of a province: the department file, all-or-nothing preparation, idempotence."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from onboarding import bulk, selectors
from onboarding.models import Application, ApplicationState, ProvinceRun
from tenants.models import Agency
from tenants.units import DATA_DIR

S = ApplicationState
TWO_DEPARTMENTS = [
    {"slug": "so-tu-phap", "name": "Sở Tư pháp"},
    {"slug": "trung-tam-phuc-vu-hanh-chinh-cong", "name": "Trung tâm Phục vụ hành chính công"},
]


def departments(rows: list[Any] = TWO_DEPARTMENTS) -> list[bulk.DepartmentRow]:
    return bulk.departments_parse(json.dumps({"departments": rows}))


def test_the_sample_department_file_parses() -> None:
    rows = bulk.departments_parse((DATA_DIR / "departments.sample.json").read_bytes())
    assert len(rows) == 14
    assert {r.kind for r in rows} == {"department", "service_centre", "other"}


@pytest.mark.usefixtures("english")
def test_malformed_rows_are_reported_row_by_row() -> None:
    raw = json.dumps(
        {
            "departments": [
                {"slug": "so-y-te", "name": "Sở Y tế"},
                {"slug": "So Y Te", "name": "x"},
                {"slug": "so-y-te", "name": "again"},
                {"slug": "so-moi"},
                "not a row",
                {"slug": "so-xay-dung", "name": "Sở Xây dựng", "admin_email": "nope"},
            ]
        }
    )
    with pytest.raises(ValidationError) as exc:
        bulk.departments_parse(raw)
    messages = exc.value.messages
    assert [m.split(":")[0] for m in messages] == ["Row 2", "Row 3", "Row 4", "Row 5", "Row 6"]
    assert "appears twice" in messages[1] and "name is missing" in messages[2]
    with pytest.raises(ValidationError, match="not valid JSON"):
        bulk.departments_parse(b"{")
    with pytest.raises(ValidationError, match="departments"):
        bulk.departments_parse(b"[]")


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_a_refused_unit_creates_nothing(payer: Any, hp_communes: list[Any]) -> None:
    from onboarding.tests.conftest import apply_commune

    apply_commune(hp_communes[5], email="x@example.vn")
    rows = departments([{"slug": "so-y-te", "name": "Sở Y tế", "admin_email": "x@example.vn"}])
    with pytest.raises(ValidationError, match="already the administrator"):
        bulk.province_onboard(province_code="31", departments=rows, communes=2)
    assert Application.objects.count() == 1
    with pytest.raises(ValidationError, match="not an official province code"):
        bulk.province_onboard(province_code="00", departments=rows)


@pytest.mark.django_db
def test_a_province_is_onboarded_and_a_rerun_completes_only_what_is_partial(
    payer: Any, national_catalog: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTCUA_FAILPOINTS", "onboarding.step.billing:raise")
    first = bulk.province_onboard(
        province_code="31", departments=departments(), billing_account=payer, communes=2
    )
    assert first.created == 4 and len(first.failed) == 4 and not first.live
    monkeypatch.delenv("MOTCUA_FAILPOINTS")

    second = bulk.province_onboard(
        province_code="31", departments=departments(), billing_account=payer, communes=2
    )
    assert second.created == 0 and len(second.live) == 4 and not second.failed
    third = bulk.province_onboard(
        province_code="31", departments=departments(), billing_account=payer, communes=2
    )
    assert third.skipped == 4 and not third.live
    assert Agency.objects.count() == Application.objects.count() == 4
    kinds = dict(Application.objects.values_list("slug", "kind"))
    assert kinds["so-tu-phap-hai-phong"] == "department"
    assert kinds["trung-tam-phuc-vu-hanh-chinh-cong-hai-phong"] == "service_centre"

    coverage = {c.province_code: c for c in selectors.coverage_by_province()}["31"]
    counts = {k.kind: (k.live, k.total) for k in coverage.kinds}
    assert counts == {"department": (1, 1), "commune": (2, 114), "service_centre": (1, 1)}
    assert coverage.median_to_live is not None


@pytest.mark.django_db
def test_the_command_prints_a_progress_bar_and_refuses_bad_files(
    plans: None, national_catalog: None, tmp_path: Path
) -> None:
    path = tmp_path / "departments.json"
    path.write_text(json.dumps({"departments": TWO_DEPARTMENTS[:1]}), encoding="utf-8")
    out = io.StringIO()
    call_command(
        "onboard_province", "31", "--departments", str(path), "--communes", "1", stdout=out
    )
    text = out.getvalue()
    assert "[##############################] 2/2" in text
    assert "2 live, 0 already there, 0 failed" in text
    path.write_text(json.dumps({"departments": [{"slug": "x y"}]}), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("onboard_province", "31", "--departments", str(path), stdout=io.StringIO())
    assert Application.objects.count() == 2


@pytest.mark.django_db
def test_the_console_run_records_its_progress(
    plans: None, national_catalog: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = bulk.province_run_create(
        province_code="31", departments=departments(TWO_DEPARTMENTS[:1]), send=False
    )
    ProvinceRun.objects.filter(pk=run.pk).update(status="queued")
    real = bulk.communes_of
    monkeypatch.setattr(bulk, "communes_of", lambda code: real(code)[:1])
    run = bulk.province_run_execute(run_id=run.pk)
    assert (run.status, run.done, run.total, run.failed, run.percent) == ("finished", 2, 2, 0, 100)
    assert Application.objects.filter(province_run=run, state=S.LIVE).count() == 2
