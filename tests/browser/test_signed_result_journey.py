"""A leader signs a result with their own certificate on the desk's dossier page and
approves it (the agency's seal goes on top); the citizen downloads the signed PDF, and it
verifies: both signatures, timestamped, the original inside. Real pages, real HTTP, the
loopback timestamp server."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from desk import services
from desk.tests.conftest import staff_of, submit_shop
from documents import verify
from dossiers.models import Dossier, DossierStatus, ReturnMethod
from tenants.context import agency_context
from tests.browser.test_desk_journey import HOST, act, signed_in
from tests.files import PDF, pdf

pytestmark = pytest.mark.browser
__all__ = ["submit_shop"]


def _originals(data: bytes) -> list[bytes]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    names = PdfFileReader(io.BytesIO(data), strict=False).root["/Names"]["/EmbeddedFiles"]
    pairs = names["/Names"]
    return [pairs[i + 1]["/EF"]["/F"].data for i in range(0, len(pairs), 2)]


def test_a_leader_signs_the_result_and_the_citizen_downloads_it_signed(
    browser, live_server, commune, citizen, submit_shop: Any, signing_pki
) -> None:
    port = urlsplit(live_server.url).port
    site = f"http://{HOST}:{port}"
    with agency_context(commune):
        staff = staff_of(commune, "ab")
        signing_pki.organisation(commune)
        signing_pki.person(commune, staff.leader)
        d: Dossier = submit_shop()
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        services.dossier_forward(dossier=d, actor=staff.receptionist)
        services.dossier_claim(dossier=d, actor=staff.officer)
        services.result_attach(
            dossier=d, actor=staff.officer, file=pdf("gcn.pdf"), number="15/GCN-HKD"
        )
        services.dossier_forward(dossier=d, actor=staff.officer, to=staff.leader)

    leader = signed_in(browser, staff.leader, commune, port)
    leader.goto(f"{site}/mot-cua/ho-so/{d.code}/")
    act(leader, "sign-result")
    assert leader.locator("ul.issued").count() == 1  # the signed result is listed
    act(leader, "approve")
    with agency_context(commune):
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.RESULT_READY
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        services.result_return(dossier=d, actor=staff.receptionist, method=ReturnMethod.ELECTRONIC)

    me = signed_in(browser, citizen, commune, port)
    me.goto(f"{site}/ho-so-cua-toi/{d.code}/")
    with me.expect_download() as download:
        me.locator("a.result-download").click()
    data = Path(download.value.path()).read_bytes()
    checked = verify.pdf_verify(data)
    assert checked.code == verify.VALID, checked.message
    assert [c.signer for c in checked.signatures] == [
        str(staff.leader.full_name or staff.leader.email),
        commune.name,
    ]
    assert all(c.timestamped for c in checked.signatures)
    assert _originals(data) == [PDF]
