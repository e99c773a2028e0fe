"""Issue 14's citizen journey: a citizen signs in with (fake) VNeID, submits a dossier with a fee,
pays through the (fake) national payment platform of the National Public Service Portal, which
notifies the agency's host (IPN) and sends the browser back; the dossier shows it paid, and so
does the officer's desk; the admin's reconciliation with the platform's file of the day agrees."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.files import PDF
from tests.fixtures.axe import axe_check
from tests.fixtures.mfa import totp_code, totp_enable
from tests.fixtures.vneid import CLIENT_ID, CLIENT_SECRET

pytestmark = pytest.mark.browser
FEE = 2_000  # S-CT-001, certified copy: the sample catalog's fee


@pytest.fixture
def agency(commune: Any, national_payment: Any) -> dict[str, Any]:
    from allauth.account.models import EmailAddress

    from accounts.models import User
    from accounts.services import membership_grant
    from dossiers.models import FeeSettings
    from tenants.context import agency_context

    with agency_context(commune):
        FeeSettings.objects.update_or_create(
            pk=1,
            defaults={"channels": ["dvcqg", "vietqr"], "bank_bin": "970436",
                      "bank_account": "0451000123456", "bank_account_name": "UBND XA AN BINH"},
        )  # fmt: skip
    officer = User.objects.create_user("canbo@anbinh.gov.vn", "mat-khau-can-bo-2026")
    EmailAddress.objects.create(user=officer, email=officer.email, verified=True, primary=True)
    membership_grant(user=officer, agency=commune, roles=["receptionist", "officer", "admin"])
    return {"officer_totp": totp_enable(officer)}


def test_vneid_citizen_submits_and_pays_through_the_national_platform(
    browser: Any,
    live_server: Any,
    agency: dict[str, Any],
    vneid: Any,
    vneid_citizen: Any,
    national_payment: Any,
    tmp_path: Any,
) -> None:
    port = urlsplit(live_server.url).port
    portal = f"http://xa-an-binh.localhost:{port}"
    vneid.register_client(CLIENT_ID, CLIENT_SECRET, [f"{portal}/accounts/vneid/callback/"])
    vneid.sign_in_as(vneid_citizen)
    original = tmp_path / "ban-chinh.pdf"
    original.write_bytes(PDF)
    context = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page = context.new_page()

    # Sign in with VNeID (the fake confirms as if in the VNeID app).
    page.goto(portal + "/accounts/vneid/login/")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(re.compile(rf"^{re.escape(portal)}/(?!accounts/).*"))

    # Submit the certified-copy procedure: its fee is 2.000 ₫; VNeID filled the applicant.
    page.goto(portal + "/thu-tuc/S-CT-001/nop/")
    assert page.locator("input[name=applicant_name]").input_value() == "Nguyễn Thị Lan"
    page.locator("input[name=f_pages]").fill("2")
    page.locator("input[name=component_0]").set_input_files(str(original))
    phone = page.locator("input[name=applicant_phone]")
    if phone.count() and not phone.input_value():
        phone.fill("0912 345 678")
    page.locator("button[name=action][value=review]").click()
    page.wait_for_url(re.compile(r".*/xem-lai/$"))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/bien-nhan/$"))
    code = page.locator(".dossier-code").inner_text().strip()

    # The dossier page offers the national platform and a VietQR into the agency's account.
    page.goto(f"{portal}/ho-so-cua-toi/{code}/")
    page.locator(".status-unpaid").wait_for()
    assert page.locator(".vietqr svg").count() == 1
    assert page.locator(".fee-channel-stripe").count() == 0
    axe_check(page, label="dossier page with its fee to pay")
    page.locator(".fee-channel-dvcqg button").click()

    # The platform's payment page: pay.
    page.wait_for_url(re.compile(rf"^{re.escape(national_payment.url)}/thanh-toan\?.*"))
    assert page.locator(".amount").inner_text().startswith("2.000")
    page.locator("#pay").click()

    # Back on the agency's host: paid, told by the IPN before the browser returned.
    page.wait_for_url(re.compile(rf"^{re.escape(portal)}/ho-so-cua-toi/{re.escape(code)}/$"))
    page.locator(".status-paid").wait_for()
    assert page.locator(".fee-payment").count() == 0
    assert [status for _url, status, _answer in national_payment.ipn_log] == [200]
    assert '"code": "00"' in national_payment.ipn_log[0][2]
    context.close()

    # The officer sees it paid at the desk.
    desk = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    desk.set_default_timeout(15_000)
    officer = desk.new_page()
    officer.goto(f"{portal}/mot-cua/ho-so/{code}/")
    officer.wait_for_url(re.compile(r".*/accounts/login/.*"))
    officer.locator("input[name=login]").fill("canbo@anbinh.gov.vn")
    officer.locator("input[name=password]").fill("mat-khau-can-bo-2026")
    officer.locator("main form button[type=submit]").last.click()
    officer.wait_for_url(re.compile(r".*/accounts/2fa/authenticate/.*"))
    officer.locator("input[name=code]").fill(totp_code(agency["officer_totp"]))
    officer.locator("main form button[type=submit]:not([form])").first.click()
    officer.wait_for_url(re.compile(rf".*/mot-cua/ho-so/{re.escape(code)}/$"))
    fee = officer.locator(".dossier-fee")
    assert "2.000" in fee.inner_text() and fee.locator(".status-paid").count() == 1

    # As the agency's admin too: the fee settings and the reconciliation pages (on a phone).
    officer.set_viewport_size({"width": 390, "height": 844})
    officer.goto(f"{portal}/quan-tri/thu-phi/")
    assert officer.locator("input[name=channels][value=dvcqg]").is_checked()
    assert officer.locator("select[name=bank_bin]").input_value() == "970436"
    axe_check(officer, label="fee settings")
    officer.goto(f"{portal}/quan-tri/thu-phi/doi-soat/")
    officer.locator("button[name=fetch]").click()
    officer.locator(".msg-success").wait_for()
    assert officer.locator(".fee-line-matched").count() == 1  # paid, as the IPN said
    axe_check(officer, label="fee reconciliation")
    desk.close()
