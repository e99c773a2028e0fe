"""Issue 15, the whole way in one browser journey: a leader signs a result on the desk and
approves it; the citizen downloads it from their document store, verifies it on the portal
(uploading it on /xac-thuc/, and opening the address its QR code carries), and reuses it in a
new submission, where the officer sees it marked from the citizen's store, signature verified.
Real pages, real HTTP, the loopback timestamp server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from desk import services
from desk.tests.conftest import staff_of, submit_shop
from documents.models import IssuedDocument, IssuedKind
from dossiers.models import Dossier, ReturnMethod
from tenants.context import agency_context
from tests.browser.test_desk_journey import HOST, act, signed_in
from tests.files import PDF, pdf
from tests.fixtures.axe import axe_check
from tests.pdftext import links

pytestmark = pytest.mark.browser
__all__ = ["submit_shop"]


def test_a_signed_result_is_downloaded_verified_by_upload_and_qr_and_reused(
    browser, live_server, settings, commune, citizen, submit_shop: Any, signing_pki, tmp_path: Path
) -> None:
    port = urlsplit(live_server.url).port
    site = f"http://{HOST}:{port}"
    # The QR codes print the agency's portal address: here, the live server's port.
    settings.AGENCY_PORTAL_URL = f"http://{{host}}:{port}"
    with agency_context(commune):
        staff = staff_of(commune, "rr")
        signing_pki.organisation(commune)
        signing_pki.person(commune, staff.leader)
        d: Dossier = submit_shop()
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        services.dossier_forward(dossier=d, actor=staff.receptionist)
        services.dossier_claim(dossier=d, actor=staff.officer)
        services.result_attach(
            dossier=d, actor=staff.officer, file=pdf("gcn.pdf"), number="21/GCN-HKD"
        )
        services.dossier_forward(dossier=d, actor=staff.officer, to=staff.leader)

    # The leader signs the result with their own certificate, then approves (the seal).
    leader = signed_in(browser, staff.leader, commune, port)
    leader.goto(f"{site}/mot-cua/ho-so/{d.code}/")
    act(leader, "sign-result")
    act(leader, "approve")
    with agency_context(commune):
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        services.result_return(dossier=d, actor=staff.receptionist, method=ReturnMethod.ELECTRONIC)
        reference = IssuedDocument.objects.get(dossier=d, kind=IssuedKind.RESULT).reference
    leader.context.close()

    # The citizen downloads it from their document store.
    me = signed_in(browser, citizen, commune, port)
    me.goto(f"{site}/kho-du-lieu/")
    with me.expect_download() as download:
        me.get_by_role("link", name="21/GCN-HKD").click()
    downloaded = tmp_path / "ket-qua.pdf"
    download.value.save_as(downloaded)
    data = downloaded.read_bytes()
    assert data.startswith(b"%PDF-")

    # Verified by upload on the portal: unchanged, both signatures, timestamped.
    me.goto(f"{site}/xac-thuc/")
    me.locator("input[name=file]").set_input_files(str(downloaded))
    me.locator("main form.verify-form button[type=submit]").click()
    result = me.locator(".verify-result")
    result.wait_for()
    assert result.get_attribute("data-code") == "valid"
    text = result.inner_text()
    assert str(staff.leader.full_name or staff.leader.email) in text and commune.name in text

    # Verified by its QR code: the address it carries is this reference's page, which says
    # the document is genuine; uploading the file there says it is that very document.
    qr = [u for u in links(data) if "/xac-thuc/" in u]
    assert qr == [f"{site}/xac-thuc/{reference}/"]
    me.goto(qr[0])
    held = me.locator(".held-check")
    assert held.get_attribute("data-code") == "valid"
    assert "21/GCN-HKD" in me.locator(".held-document").inner_text()
    axe_check(me, label="verification page of a reference")
    me.locator("input[name=file]").set_input_files(str(downloaded))
    me.locator("main form.verify-form button[type=submit]").click()
    me.locator(".verify-result[data-code=valid] .verify-same").wait_for()

    # Reused in a new submission: offered from the store under the component it fits.
    me.goto(f"{site}/thu-tuc/S-KD-001/nop/")
    offered = me.locator("input[name^=store_]")
    assert offered.count() == 1
    slot = str(offered.get_attribute("name")).removeprefix("store_")
    for name, value in {
        "f_business_name": "Tạp hoá Minh An 2",
        "f_business_address": "Thôn 3, Xã An Bình",
        "f_capital": "50000000",
        "f_trade": "Bán lẻ hàng tạp hoá",
    }.items():
        me.locator(f"input[name={name}]").fill(value)
    scan = tmp_path / "giay-to.pdf"
    scan.write_bytes(PDF)
    for position in ("0", "1"):
        if position != slot:
            me.locator(f"input[name=component_{position}]").set_input_files(str(scan))
    offered.check()
    me.locator("button[name=action][value=review]").click()
    me.wait_for_url(re.compile(r".*/xem-lai/$"))
    me.locator("main form button[type=submit]").click()
    me.wait_for_url(re.compile(r".*/bien-nhan/$"))
    code = me.locator(".dossier-code").inner_text().strip()

    # The officer's dossier page marks it: from the citizen's store, signature verified.
    officer = signed_in(browser, staff.officer, commune, port)
    officer.goto(f"{site}/mot-cua/ho-so/{code}/")
    with agency_context(commune):
        reused = Dossier.objects.get(code=code).documents.get(component_position=int(slot))
    assert reused.from_store_document is not None
    row = officer.locator(f"li[data-document='{reused.pk}']")
    assert row.locator(".status-from-store").count() == 1
    assert row.locator(".signature-badge").get_attribute("data-code") == "valid"
