"""The dossier code pattern: validated, previewed without consuming a number, then used."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from dossiers.codes import next_code, preview_next_code
from dossiers.models import DossierCounter
from tenants.context import agency_context
from tenants.models import Agency, AgencyEvent


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_preview_save_and_bad_patterns(commune, admin_client: Client) -> None:
    today = timezone.localdate()
    page = admin_client.get("/quan-tri/ma-ho-so/")
    assert page.status_code == 200 and f"AB-{today:%y%m%d}-0001" in page.text
    preview = admin_client.get(
        "/quan-tri/ma-ho-so/xem-truoc/", {"pattern": "{code}/{yyyy}/{seq:6}"}
    )
    assert preview.json() == {"code": f"AB/{today:%Y}/000001", "errors": []}
    refused = admin_client.get("/quan-tri/ma-ho-so/xem-truoc/", {"pattern": "{code}-{yy}"})
    assert refused.status_code == 400 and "exactly once" in refused.json()["errors"][0]
    shown = admin_client.post(
        "/quan-tri/ma-ho-so/", {"dossier_code_pattern": "{code}.{seq:5}", "action": "preview"}
    )
    assert shown.status_code == 200 and "AB.00001" in shown.text
    with agency_context(commune):
        assert not DossierCounter.objects.exists()  # previews consume nothing
    for bad, message in (
        ("{code}-{seq}-{seq}", "exactly once"),
        ("{code} {seq}", "may only add letters"),
        ("", "This field is required"),
        ("{code}-{yymmdd}-{yymmdd}-{yymmdd}-{seq:9}", "too long"),
    ):
        response = admin_client.post(
            "/quan-tri/ma-ho-so/", {"dossier_code_pattern": bad, "action": "save"}
        )
        assert response.status_code == 400 and message in response.content.decode(), bad
    assert Agency.objects.get(pk=commune.pk).dossier_code_pattern == "{code}-{yymmdd}-{seq:04}"
    saved = admin_client.post(
        "/quan-tri/ma-ho-so/", {"dossier_code_pattern": "{code}/{yyyy}/{seq:6}", "action": "save"}
    )
    assert saved.status_code == 302
    agency = Agency.objects.get(pk=commune.pk)
    assert agency.dossier_code_pattern == "{code}/{yyyy}/{seq:6}"
    event = AgencyEvent.objects.get(agency=agency, event="dossier_code_pattern_changed")
    assert event.detail == {"old": "{code}-{yymmdd}-{seq:04}", "new": "{code}/{yyyy}/{seq:6}"}
    assert event.actor_email == "quantri@anbinh.gov.vn"


@pytest.mark.django_db
def test_the_preview_is_what_the_next_dossier_gets(commune) -> None:
    today = timezone.localdate()
    pattern = "{code}-{yymmdd}-{seq:04}"
    with agency_context(commune):
        first = preview_next_code(pattern=pattern, agency_code="AB", on=today)
        assert first == preview_next_code(pattern=pattern, agency_code="AB", on=today)
        assert next_code(pattern=pattern, agency_code="AB", on=today) == first
        second = preview_next_code(pattern=pattern, agency_code="AB", on=today)
        assert second.endswith("-0002")
        assert next_code(pattern=pattern, agency_code="AB", on=today) == second
