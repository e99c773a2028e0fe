"""Guessing lookup secrets is slowed for the guesser, never for the holder of the right one.

Dossier codes are sequential, so anyone can name a code; only the secret on the receipt
opens it. Wrong answers are counted per client (and per client and code, and the codes a
client got wrong), platform-wide: a guesser is refused, everyone else is answered.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

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


def look_up(client: Client, code: str, secret: str, *, via: str = "post") -> int:
    if via == "qr":  # the receipt's QR code: a GET, answered from the page cache when it can
        return client.get("/tra-cuu/", {"ma": code, "bi-mat": secret}).status_code
    return client.post("/tra-cuu/", {"code": code, "secret": secret}).status_code


@pytest.mark.django_db
def test_guessing_a_code_does_not_lock_out_its_holder(commune: Any, citizen: Any) -> None:
    dossier = submitted(commune, citizen)
    holder = Client(HTTP_HOST=HOST, REMOTE_ADDR="10.20.0.1")
    assert look_up(holder, dossier.code, dossier.lookup_secret, via="qr") == 200  # now cached

    guesser = Client(HTTP_HOST=HOST, REMOTE_ADDR="10.66.0.1")
    statuses = [look_up(guesser, dossier.code, f"SAI{i:05d}") for i in range(30)]
    assert statuses[:5] == [404] * 5 and set(statuses[5:]) == {429}
    # The guesser is refused even with the right secret (else a 200 among the 429s would
    # tell them when they hit it), from the cache path as well.
    assert look_up(guesser, dossier.code, dossier.lookup_secret) == 429
    assert look_up(guesser, dossier.code, dossier.lookup_secret, via="qr") == 429

    # The holder, and anybody else with the right secret, is answered: by POST, by the QR
    # code (cached page) and with a fresh page.
    assert look_up(holder, dossier.code, dossier.lookup_secret) == 200
    assert look_up(holder, dossier.code, dossier.lookup_secret, via="qr") == 200
    kiosk = Client(HTTP_HOST=HOST, REMOTE_ADDR="10.20.0.2")
    assert look_up(kiosk, dossier.code, dossier.lookup_secret.lower()) == 200
    # One typo of the holder's own is fine too.
    assert look_up(kiosk, dossier.code, "SAI00000") == 404
    assert look_up(kiosk, dossier.code, dossier.lookup_secret) == 200


@pytest.mark.django_db
def test_a_client_may_probe_only_a_few_codes(commune: Any, citizen: Any, make_agency: Any) -> None:
    dossier = submitted(commune, citizen)
    other_host = make_agency("xa-binh-an", name="Xã Bình An")
    prober = Client(HTTP_HOST=HOST, REMOTE_ADDR="10.77.0.1")
    elsewhere = Client(HTTP_HOST=f"{other_host.slug}.localhost", REMOTE_ADDR="10.77.0.1")
    # One guess each on sequential codes, spread over two agencies' hosts: 10 codes, then no more.
    for i in range(10):
        client = prober if i % 2 else elsewhere
        assert look_up(client, f"ZZ-000000-{i:04d}", "ABCDEFGH") == 404, i
    assert look_up(prober, "ZZ-000000-0010", "ABCDEFGH") == 429
    assert look_up(elsewhere, "ZZ-000000-0011", "ABCDEFGH") == 429
    assert look_up(prober, dossier.code, dossier.lookup_secret) == 429
    # It may go on with the codes it has tried, up to their own limits.
    assert look_up(prober, "ZZ-000000-0003", "ABCDEFGH") == 404
    # Nobody else is affected.
    assert look_up(Client(HTTP_HOST=HOST), dossier.code, dossier.lookup_secret) == 200


@pytest.mark.django_db
def test_a_kiosk_looking_up_many_dossiers_is_never_throttled(commune: Any, citizen: Any) -> None:
    dossiers = [submitted(commune, citizen) for _ in range(3)]
    kiosk = Client(HTTP_HOST=HOST, REMOTE_ADDR="10.30.0.1")
    for _ in range(15):
        for dossier in dossiers:
            assert look_up(kiosk, dossier.code, dossier.lookup_secret, via="qr") == 200
            assert look_up(kiosk, dossier.code, dossier.lookup_secret) == 200
