"""Dossiers delivered by the national portal: idempotent by external id, also concurrently."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection as django_connection
from django.utils import timezone

from api.tests.conftest import APPLICANT, BIRTH_FORM, api_client, issue, submission
from dossiers.models import Channel, Dossier
from tenants.context import agency_context
from tests.files import pdf, png

URL = "/api/v1/inbound/dossiers"


def delivery(external_id: str = "DVCQG-2026-000123", **changes) -> dict:
    return {
        "external_id": external_id,
        "procedure_code": "S-HT-001",
        "received_at": "2026-11-23T09:30:00+07:00",
        "applicant": APPLICANT,
        "form": BIRTH_FORM,
        **changes,
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_the_same_delivery_is_one_dossier_and_other_content_is_a_conflict(commune) -> None:
    client = api_client(issue(commune, ["inbound"]))
    first = client.post(URL, submission(delivery(), component_0=pdf(), component_1=png()))
    assert first.status_code == 201, first.content
    again = client.post(URL, submission(delivery(), component_0=pdf(), component_1=png()))
    assert again.status_code == 200
    assert again.json()["code"] == first.json()["code"] and again.json()["created"] is False
    changed = client.post(
        URL,
        submission(
            delivery(form={**BIRTH_FORM, "child_full_name": "Trần Thị C"}),
            component_0=pdf(),
            component_1=png(),
        ),
    )
    assert changed.status_code == 409
    error = changed.json()["error"]
    assert error["code"] == "external_id_conflict" and first.json()["code"] in error["message"]
    other_file = client.post(
        URL, submission(delivery(), component_0=pdf(size=3000), component_1=png())
    )
    assert other_file.status_code == 409
    with agency_context(commune):
        dossier = Dossier.objects.get()
        assert dossier.channel == Channel.NATIONAL_PORTAL
        assert dossier.external_id == "DVCQG-2026-000123"
        assert timezone.localtime(dossier.received_at).hour == 9
        assert dossier.documents.count() == 2
    status = api_client(issue(commune, ["dossiers:read"])).get(f"/api/v1/dossiers/{dossier.code}")
    assert status.json()["history"][0]["summary"] == "National public service portal"


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_bad_deliveries_are_refused_with_reasons(commune) -> None:
    client = api_client(issue(commune, ["inbound"]))
    missing = client.post(URL, submission({"applicant": APPLICANT}))
    assert missing.status_code == 400
    assert {"data.external_id", "data.procedure_code"} <= set(missing.json()["error"]["fields"])
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    late = client.post(
        URL, submission(delivery(received_at=future), component_0=pdf(), component_1=pdf())
    )
    assert late.status_code == 400
    assert late.json()["error"]["fields"] == {"data.received_at": ["This time is in the future."]}
    unknown = client.post(URL, submission(delivery(procedure_code="S-XX-999"), component_0=pdf()))
    assert unknown.status_code == 404
    incomplete = client.post(URL, submission(delivery(), component_0=pdf()))
    assert incomplete.status_code == 400 and "component_1" in incomplete.json()["error"]["fields"]
    # Only keys holding the "inbound" permission may deliver.
    writer = api_client(issue(commune, ["dossiers:write"]))
    assert writer.post(URL, submission(delivery(), component_0=pdf())).status_code == 403
    with agency_context(commune):
        assert not Dossier.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_deliveries_make_one_dossier(commune) -> None:
    key = issue(commune, ["inbound"])
    results: list[tuple[int, str]] = []
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def deliver() -> None:
        try:
            client = api_client(key)
            start.wait(timeout=30)
            response = client.post(
                URL, submission(delivery("DVCQG-RACE-1"), component_0=pdf(), component_1=pdf())
            )
            results.append((response.status_code, response.json().get("code", "")))
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            django_connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    statuses = sorted(status for status, _code in results)
    assert statuses == [200, 200, 200, 201], results
    assert len({code for _status, code in results}) == 1
    with agency_context(commune):
        assert Dossier.objects.filter(external_id="DVCQG-RACE-1").count() == 1
        assert Dossier.objects.count() == 1
