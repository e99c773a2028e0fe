"""The API answers bad input in its own error shape: an over-long answer (with the limit), a
negative amount, and the bounds each number field declares (also shown on the procedure)."""

from __future__ import annotations

import pytest

from api.tests.conftest import APPLICANT, BIRTH_FORM, submission
from dossiers.models import Dossier
from tenants.context import agency_context
from tests.files import pdf, png

SHOP_FORM = {
    "business_name": "Tạp hoá Minh An",
    "business_address": "Thôn 2, Xã An Bình",
    "capital": "50000000",
    "trade": "Bán lẻ hàng tạp hoá",
}


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
def test_an_over_long_answer_is_refused_with_the_limit(commune, client) -> None:
    response = client.post(
        "/api/v1/procedures/S-HT-001/dossiers",
        submission(
            {"applicant": APPLICANT, "form": {**BIRTH_FORM, "birth_place": "x" * 100_000}},
            component_0=pdf(),
            component_1=png(),
        ),
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "form.birth_place": ["Nơi sinh: This is too long: at most 4000 characters (it has 100000)."]
    }
    with agency_context(commune):
        assert not Dossier.objects.exists()


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
def test_negative_amounts_are_refused_and_bounds_are_published(commune, client) -> None:
    for capital in ("-5", -5, "-0"):
        response = client.post(
            "/api/v1/procedures/S-KD-001/dossiers",
            submission(
                {"applicant": APPLICANT, "form": {**SHOP_FORM, "capital": capital}},
                component_0=pdf(),
                component_1=pdf(),
            ),
        )
        if capital == "-0":  # minus zero is zero
            assert response.status_code == 201, response.content
            continue
        assert response.status_code == 400, capital
        assert response.json()["error"]["fields"] == {
            "form.capital": ["Vốn kinh doanh (đồng): This cannot be negative."]
        }
    with agency_context(commune):
        assert Dossier.objects.count() == 1
    detail = client.get("/api/v1/procedures/S-KD-001").json()
    fields = {f["key"]: f for f in detail["fields"]}
    assert (fields["capital"]["min_value"], fields["capital"]["max_value"]) == (0, None)
    assert fields["business_name"]["min_value"] is None


@pytest.mark.django_db
def test_a_delivery_resent_in_decomposed_unicode_is_the_same_dossier(commune) -> None:
    """The inbound duplicate check compares content: NFD and NFC are the same content."""
    import unicodedata
    from typing import Any, Literal

    from api.tests.conftest import api_client, issue

    client = api_client(issue(commune, ["inbound"]))

    def deliver(form: Literal["NFC", "NFD"]) -> Any:
        data = {
            "external_id": "DVCQG-2026-000999",
            "procedure_code": "S-HT-001",
            "applicant": {k: unicodedata.normalize(form, v) for k, v in APPLICANT.items()},
            "form": {k: unicodedata.normalize(form, v) for k, v in BIRTH_FORM.items()},
        }
        return client.post(
            "/api/v1/inbound/dossiers", submission(data, component_0=pdf(), component_1=png())
        )

    first = deliver("NFC")
    assert first.status_code == 201, first.content
    again = deliver("NFD")
    assert again.status_code == 200, again.content  # not a 409 "different content"
    assert again.json()["code"] == first.json()["code"]
    with agency_context(commune):
        assert Dossier.objects.get().applicant_name == APPLICANT["name"]
