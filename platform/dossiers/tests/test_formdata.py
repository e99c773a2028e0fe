"""What an applicant typed, checked against the procedure's fields: nothing is ever cut, amounts
are never negative, declared bounds hold, and a draft refuses what the dossier could not take."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from catalog.data import SAMPLE_CATALOG
from catalog.services import catalog_import, content_hash, parse_catalog
from catalog.spec import FormField, SpecError, parse_spec
from dossiers.formdata import clean_value
from dossiers.models import Dossier, DossierDraft
from lifecycle.submit import Applicant, dossier_submit, draft_save
from procedures import services as procedure_services
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.files import pdf, png

BIRTH_FORM = {
    "child_full_name": "Nguyễn Văn B",
    "child_birth_date": "2026-11-20",
    "child_sex": "Nam",
    "birth_place": "Trạm y tế xã",
}
SHOP_FORM = {
    "business_name": "Tạp hoá Minh An",
    "business_address": "Thôn 2, Xã An Bình",
    "capital": "50000000",
    "trade": "Bán lẻ hàng tạp hoá",
}


def _submit(agency, citizen, code: str, form: dict[str, str], files: dict) -> Dossier:
    return dossier_submit(
        agency=agency,
        procedure=AgencyProcedure.objects.get(code=code),
        applicant=Applicant.from_user(citizen),
        form_data=form,
        files=files,
    ).dossier


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
def test_an_over_long_answer_is_refused_saying_the_limit_and_nothing_is_kept(
    commune, citizen
) -> None:
    long_answer = "x" * 100_000
    with agency_context(commune):
        with pytest.raises(ValidationError) as exc:
            _submit(
                commune,
                citizen,
                "S-HT-001",
                {**BIRTH_FORM, "birth_place": long_answer},
                {0: [pdf()], 1: [png()]},
            )
        assert exc.value.message_dict["form.birth_place"] == [
            "Nơi sinh: This is too long: at most 4000 characters (it has 100000)."
        ]
        # The draft refuses it too (it used to keep the first 4,000 characters, silently).
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        with pytest.raises(ValidationError) as exc:
            draft_save(user=citizen, procedure=birth, form_data={"birth_place": long_answer})
        assert "at most 4000 characters" in exc.value.message_dict["form.birth_place"][0]
        with pytest.raises(ValidationError) as exc:
            draft_save(
                user=citizen,
                procedure=birth,
                form_data=BIRTH_FORM,
                applicant_data={"applicant_name": "A" * 201},
            )
        assert exc.value.message_dict == {
            "applicant_name": ["This is too long: at most 200 characters (it has 201)."]
        }
        assert not Dossier.objects.exists() and not DossierDraft.objects.exists()
        # Exactly at the limit is fine, and kept whole.
        at_limit = "y" * 4000
        draft = draft_save(user=citizen, procedure=birth, form_data={"birth_place": at_limit})
        assert draft.form_data["birth_place"] == at_limit


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
def test_negative_amounts_and_counts_are_refused(commune, citizen) -> None:
    with agency_context(commune):
        for capital in ("-5", "-50000000"):
            with pytest.raises(ValidationError) as exc:
                _submit(
                    commune,
                    citizen,
                    "S-KD-001",
                    {**SHOP_FORM, "capital": capital},
                    {0: [pdf()], 1: [pdf()]},
                )
            assert exc.value.message_dict == {
                "form.capital": ["Vốn kinh doanh (đồng): This cannot be negative."]
            }
        assert not Dossier.objects.exists()
        zero = _submit(
            commune, citizen, "S-KD-001", {**SHOP_FORM, "capital": "0"}, {0: [pdf()], 1: [pdf()]}
        )
        assert zero.form_data["capital"] == 0
    area = FormField(key="area", label="Diện tích (m²)", type="decimal", required=True)
    with pytest.raises(ValidationError, match="cannot be negative"):
        clean_value(area, "-0,5")
    assert clean_value(area, "12,5") == "12.5"


@pytest.mark.usefixtures("english")
def test_bounds_a_field_declares_are_checked_and_shown() -> None:
    spec = parse_spec(
        {
            "code": "X-1",
            "name": "Thử",
            "sector": "Thử",
            "steps": [{"name": "Tiếp nhận", "role": "receptionist"}],
            "fields": [
                {"key": "floors", "label": "Số tầng", "type": "integer", "min_value": 1,
                 "max_value": 7},
                {"key": "temperature", "label": "Nhiệt độ", "type": "decimal", "min_value": -40},
            ],
        }
    )  # fmt: skip
    floors, temperature = spec.fields
    assert clean_value(floors, "7") == 7
    with pytest.raises(ValidationError, match=r"at least 1\."):
        clean_value(floors, "0")
    with pytest.raises(ValidationError, match=r"at most 7\."):
        clean_value(floors, "8")
    assert clean_value(temperature, "-12.5") == "-12.5"  # it declares a lower minimum
    with pytest.raises(ValidationError, match="at least -40"):
        clean_value(temperature, "-41")
    # Declared where they make sense, and coherent.
    for wrong, message in (
        ({"type": "text", "min_value": 1}, "only integer and decimal fields"),
        ({"type": "integer", "min_value": 5, "max_value": 1}, "greater than max_value"),
        ({"type": "integer", "min_value": "1"}, "must be a number"),
        ({"type": "integer", "max_value": True}, "must be a number"),
    ):
        with pytest.raises(SpecError, match=message):
            parse_spec(
                {
                    "code": "X-1",
                    "name": "Thử",
                    "sector": "Thử",
                    "steps": [{"name": "Tiếp nhận", "role": "receptionist"}],
                    "fields": [{"key": "n", "label": "N", **wrong}],
                }
            )


def test_specs_without_bounds_keep_their_content_hash() -> None:
    """Adding bounds to the format must not make every stored catalog version look changed."""
    for spec in parse_catalog(SAMPLE_CATALOG.read_bytes()):
        stored = spec.to_json()
        assert all("min_value" not in f and "max_value" not in f for f in stored["fields"])
        assert content_hash(parse_spec(stored)) == content_hash(spec)


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
def test_bounds_from_the_catalog_and_from_the_agency_reach_the_published_form(
    commune, citizen
) -> None:
    data = json.loads(SAMPLE_CATALOG.read_bytes())
    for row in data["procedures"]:
        if row["code"] == "S-KD-001":
            capital = next(f for f in row["fields"] if f["key"] == "capital")
            capital.update(min_value=1_000_000, max_value=10_000_000_000)
    catalog_import(raw=json.dumps(data))
    with agency_context(commune):
        shop = AgencyProcedure.objects.get(code="S-KD-001")
        procedure_services.procedure_accept_catalog_version(procedure=shop)
        from procedures.tests.test_configuration import inputs

        procedure_services.procedure_configure(
            procedure=shop,
            **inputs(
                shop,
                extra_fields=[
                    procedure_services.FieldInput(
                        key="employees",
                        label="Số lao động",
                        type="integer",
                        min_value=1,
                        max_value=10,
                    )
                ],
            ),
        )
        procedure_services.procedure_publish(procedure=shop)
        with pytest.raises(ValidationError) as exc:
            _submit(
                commune,
                citizen,
                "S-KD-001",
                {**SHOP_FORM, "capital": "999999", "employees": "11"},
                {0: [pdf()], 1: [pdf()]},
            )
        errors = exc.value.message_dict
        assert errors["form.capital"] == [
            "Vốn kinh doanh (đồng): Enter a number of at least 1,000,000."
        ]
        assert errors["form.employees"] == ["Số lao động: Enter a number of at most 10."]
        ok = _submit(
            commune,
            citizen,
            "S-KD-001",
            {**SHOP_FORM, "capital": "1000000", "employees": "10"},
            {0: [pdf()], 1: [pdf()]},
        )
        assert ok.form_data["capital"] == 1_000_000 and ok.form_data["employees"] == 10
        # A bound on a text field, or the wrong way round, is refused (nothing dropped).
        for wrong in (
            procedure_services.FieldInput(key="note", label="Ghi chú", min_value=1),
            procedure_services.FieldInput(
                key="n", label="N", type="integer", min_value=5, max_value=1
            ),
        ):
            with pytest.raises(ValidationError) as exc:
                procedure_services.procedure_configure(
                    procedure=shop, **inputs(shop, extra_fields=[wrong])
                )
            assert "extra_fields" in exc.value.message_dict


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
def test_a_nul_character_in_an_answer_is_refused_by_the_service_too(commune, citizen) -> None:
    """Whatever the channel (the HTTP middleware refuses it first), the service never lets
    a NUL reach PostgreSQL."""
    with agency_context(commune):
        with pytest.raises(ValidationError) as exc:
            _submit(
                commune,
                citizen,
                "S-HT-001",
                {**BIRTH_FORM, "birth_place": "Trạm\x00"},
                {0: [pdf()], 1: [png()]},
            )
        assert "NUL" in exc.value.message_dict["form.birth_place"][0]
        assert not Dossier.objects.exists()
