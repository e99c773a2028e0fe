"""Repeated anonymous lookups come from the cache, never stale, never past the guess limits."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dossiers.models import DossierEvent, DossierStatus
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.files import pdf

HOST = "xa-an-binh.localhost"
BIRTH = {
    "child_full_name": "Nguyễn Văn B",
    "child_birth_date": "2026-11-20",
    "child_sex": "Nam",
    "birth_place": "Trạm y tế xã",
}


def submitted(agency: Any, citizen: Any) -> Any:
    with agency_context(agency):
        return dossier_submit(
            agency=agency,
            procedure=AgencyProcedure.objects.get(code="S-HT-001"),
            applicant=Applicant.from_user(citizen),
            form_data=BIRTH,
            files={0: [pdf()], 1: [pdf()]},
        ).dossier


@pytest.mark.django_db
def test_a_repeated_lookup_is_cached_until_the_dossier_changes(
    commune: Any, citizen: Any, django_capture_on_commit_callbacks: Any
) -> None:
    dossier = submitted(commune, citizen)
    query = {"ma": dossier.code, "bi-mat": dossier.lookup_secret.lower()}
    visitor = Client(HTTP_HOST=HOST)
    first = visitor.get("/tra-cuu/", query)
    second = visitor.get("/tra-cuu/", query)
    assert first.status_code == second.status_code == 200
    assert "X-Page-Cache" not in first and second["X-Page-Cache"] == "hit"
    assert second.content == first.content
    assert second["Cache-Control"] == "no-store"
    assert b"csrfmiddlewaretoken" not in second.content  # nobody gets another's form token

    with django_capture_on_commit_callbacks(execute=True), agency_context(commune):
        dossier.status = DossierStatus.IN_PROCESSING
        dossier.save(update_fields=["status"])
        DossierEvent.objects.create(
            dossier=dossier, at=timezone.now(), action="forwarded",
            from_status=DossierStatus.RECEIVED, to_status=DossierStatus.IN_PROCESSING,
        )  # fmt: skip
    fresh = visitor.get("/tra-cuu/", query)
    assert "X-Page-Cache" not in fresh
    assert f"status-{DossierStatus.IN_PROCESSING}".encode() in fresh.content

    # A wrong secret is never answered from the cache.
    wrong = visitor.get("/tra-cuu/", {"ma": dossier.code, "bi-mat": "WRONG123"})
    assert wrong.status_code == 404


@pytest.mark.django_db
def test_a_refused_guesser_is_refused_even_when_the_page_is_cached(
    commune: Any, citizen: Any
) -> None:
    dossier = submitted(commune, citizen)
    query = {"ma": dossier.code, "bi-mat": dossier.lookup_secret}
    kiosk = Client(HTTP_HOST=HOST)
    kiosk.get("/tra-cuu/", query)
    assert kiosk.get("/tra-cuu/", query)["X-Page-Cache"] == "hit"
    guesser = Client(HTTP_HOST=HOST, REMOTE_ADDR="10.9.9.9")
    for i in range(10):
        guesser.post("/tra-cuu/", {"code": dossier.code, "secret": f"BAD{i:05d}"})
    assert guesser.get("/tra-cuu/", query).status_code == 429
    hit = kiosk.get("/tra-cuu/", query)  # the holder still gets the cached page
    assert hit.status_code == 200 and hit["X-Page-Cache"] == "hit"


@pytest.mark.django_db
def test_signed_in_visitors_are_never_served_a_cached_page(commune: Any, citizen: Any) -> None:
    dossier = submitted(commune, citizen)
    query = {"ma": dossier.code, "bi-mat": dossier.lookup_secret}
    Client(HTTP_HOST=HOST).get("/tra-cuu/", query)
    signed_in = Client(HTTP_HOST=HOST)
    signed_in.force_login(citizen)
    page = signed_in.get("/tra-cuu/", query)
    assert page.status_code == 200 and "X-Page-Cache" not in page
