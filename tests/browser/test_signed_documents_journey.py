"""Issue 15 (items 3 and 5): a citizen downloads a certified copy from their document store,
verifies it on the commune's portal (and sees a tampered copy refused), then reuses it in a
new submission without uploading it again; the officer's page marks it as from the citizen's
store with its signature verified."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.files import PDF, png
from tests.fixtures.axe import axe_check
from tests.fixtures.mfa import mfa_login
from verification.tests.conftest import pki

__all__ = ["pki"]
pytestmark = pytest.mark.browser
TITLE = "Giấy tờ pháp lý của chủ hộ (căn cước)"


@pytest.fixture
def holder(pki: Any, commune: Any) -> dict[str, Any]:
    from allauth.account.models import EmailAddress

    from accounts.models import User
    from copies.services import certified_copy_issue
    from desk.tests.conftest import staff_of
    from tenants.context import agency_context

    staff = staff_of(commune, "sd")
    citizen = User.objects.create_user(
        "le.van.e@example.vn",
        "mat-khau-cong-dan-2026",
        full_name="Lê Văn E",
        personal_id_number="031090004321",
        phone="0912000111",
        address="Thôn 3, Xã An Bình",
    )
    EmailAddress.objects.create(user=citizen, email=citizen.email, verified=True, primary=True)
    with agency_context(commune):
        copy = certified_copy_issue(
            actor=staff.officer,
            title=TITLE,
            scan=png(),
            owner=citizen,
            base_url="http://xa-an-binh.localhost/",
        )
    return {"citizen": citizen, "staff": staff, "copy": copy}


def test_verify_a_stored_copy_then_reuse_it(
    page: Any, live_server: Any, commune: Any, holder: dict[str, Any], tmp_path: Path
) -> None:
    port = urlsplit(live_server.url).port
    portal = f"http://xa-an-binh.localhost:{port}"

    page.goto(portal + "/accounts/login/?next=/kho-du-lieu/")
    page.locator("input[name=login]").fill("le.van.e@example.vn")
    page.locator("input[name=password]").fill("mat-khau-cong-dan-2026")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/kho-du-lieu/$"))

    # Download the certified copy from the document store.
    with page.expect_download() as info:
        page.get_by_role("link", name=holder["copy"].number).click()
    downloaded = tmp_path / "ban-sao.pdf"
    info.value.save_as(downloaded)
    assert downloaded.read_bytes().startswith(b"%PDF-")

    # Verify it on the portal: unchanged, signed by the commune, timestamped.
    page.goto(portal + "/xac-thuc/")
    axe_check(page, label="verification page")
    page.locator("input[name=file]").set_input_files(str(downloaded))
    page.locator("main form.verify-form button[type=submit]").click()
    result = page.locator(".verify-result")
    result.wait_for()
    assert result.get_attribute("data-code") == "valid"
    assert "UBND Xã An Bình" in result.inner_text()
    axe_check(page, label="verification result")

    # One changed byte: the page says the document was changed after signing.
    data = downloaded.read_bytes()
    at = data.find(b"MotCua Cloud")
    tampered = tmp_path / "ban-sao-sua.pdf"
    tampered.write_bytes(data[:at] + b"N" + data[at + 1 :])
    page.locator("input[name=file]").set_input_files(str(tampered))
    page.locator("main form.verify-form button[type=submit]").click()
    page.locator(".verify-result[data-code=changed]").wait_for()

    # A new submission: the copy is offered under the component it fits; attach it.
    application = tmp_path / "giay-de-nghi.pdf"
    application.write_bytes(PDF)
    page.goto(portal + "/thu-tuc/S-KD-001/nop/")
    offered = page.locator("input[name=store_1]")
    assert offered.count() == 1
    axe_check(page, label="submission form with stored documents")
    page.locator("input[name=f_business_name]").fill("Tạp hoá Minh An")
    page.locator("input[name=f_business_address]").fill("Thôn 3, Xã An Bình")
    page.locator("input[name=f_capital]").fill("50000000")
    page.locator("input[name=f_trade]").fill("Bán lẻ hàng tạp hoá")
    page.locator("input[name=component_0]").set_input_files(str(application))
    offered.check()
    page.locator("button[name=action][value=review]").click()
    page.wait_for_url(re.compile(r".*/xem-lai/$"))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/bien-nhan/$"))
    code = page.locator(".dossier-code").inner_text().strip()

    # The officer sees the reused document marked, its signature verified.
    from dossiers.models import Dossier
    from tenants.context import agency_context

    with agency_context(commune):
        document = Dossier.objects.get(code=code).documents.get(component_position=1)
    assert document.from_store_document is not None
    officer = Client(HTTP_HOST="xa-an-binh.localhost")
    mfa_login(officer, holder["staff"].officer)
    desk = officer.get(f"/mot-cua/ho-so/{code}/").content.decode()
    assert "status-from-store" in desk and 'data-code="valid"' in desk
