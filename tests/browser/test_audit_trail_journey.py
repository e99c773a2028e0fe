"""An agency admin opens a dossier and one of its documents at the desk, then finds both in
the audit trail on a phone-sized screen, filters it and exports it. Real pages, real HTTP."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from audit.labels import DOCUMENT_VIEWED
from desk.tests.conftest import SHOP_FORM, staff_of
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.browser.test_desk_journey import HOST, signed_in
from tests.files import pdf

pytestmark = pytest.mark.browser


def test_the_admin_reads_who_opened_what_on_a_phone(
    browser: Any, live_server: Any, commune: Any, citizen: Any
) -> None:
    port = urlsplit(live_server.url).port or 80
    admin = staff_of(commune, "nk").admin
    with agency_context(commune):
        dossier = dossier_submit(
            agency=commune,
            procedure=AgencyProcedure.objects.get(code="S-KD-001"),
            applicant=Applicant.from_user(citizen),
            form_data=SHOP_FORM,
            files={0: [pdf("to-khai-ho-kinh-doanh.pdf")], 1: [pdf()]},
        ).dossier
    page = signed_in(browser, admin, commune, port)
    page.set_viewport_size({"width": 390, "height": 844})
    base = f"http://{HOST}:{port}"

    page.goto(f"{base}/mot-cua/ho-so/{dossier.code}/")
    link = page.get_by_role("link", name="to-khai-ho-kinh-doanh.pdf")
    document_url = link.get_attribute("href")
    assert document_url is not None
    # Opened the way the browser opens it (a PDF: shown, not saved).
    assert page.evaluate("url => fetch(url).then(r => r.status)", document_url) == 200

    page.goto(f"{base}/quan-tri/")
    page.locator(".admin-nav a[href='/quan-tri/nhat-ky/']").click()
    page.wait_for_url(f"{base}/quan-tri/nhat-ky/")
    rows = page.locator("table.trail tbody tr")
    assert rows.count() >= 3  # received, opened, document opened
    assert page.locator("table.trail", has_text=dossier.code).count() == 1
    # A phone: each entry is a card, nothing scrolls sideways.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    assert rows.first.evaluate("el => getComputedStyle(el).display") == "block"

    page.locator("select[name=hanh_dong]").select_option(DOCUMENT_VIEWED)
    page.locator("form.trail-filters button[type=submit]").click()
    page.wait_for_url(f"**/quan-tri/nhat-ky/?*hanh_dong={DOCUMENT_VIEWED}*")
    assert page.locator("table.trail tbody tr").count() == 1
    assert "to-khai-ho-kinh-doanh.pdf" in page.locator("table.trail tbody").inner_text()

    with page.expect_download() as download:
        page.locator("form.trail-filters a.button").click()
    body = download.value.path().read_text(encoding="utf-8-sig")
    assert body.count("\n") == 2  # the header and the one entry
    assert dossier.code in body and DOCUMENT_VIEWED in body
