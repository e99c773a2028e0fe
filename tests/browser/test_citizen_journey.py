"""A citizen finds a procedure on a commune's portal, signs up, submits online, gets a receipt,
and anyone holding the receipt looks the dossier up without signing in."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.files import PDF

pytestmark = pytest.mark.browser


def test_find_sign_up_submit_receipt_and_track(
    page, browser, live_server, commune, mailoutbox, tmp_path: Path
):
    port = urlsplit(live_server.url).port
    portal = f"http://xa-an-binh.localhost:{port}"
    declaration = tmp_path / "to-khai-khai-sinh.pdf"
    declaration.write_bytes(PDF)
    certificate = tmp_path / "giay-chung-sinh.pdf"
    certificate.write_bytes(PDF)

    # Find the procedure on the commune's portal.
    page.goto(portal + "/")
    page.get_by_role("searchbox").fill("khai sinh")
    page.get_by_role("searchbox").press("Enter")
    page.get_by_role("link", name="Đăng ký khai sinh").click()
    page.get_by_role("heading", name="Đăng ký khai sinh").wait_for()
    page.locator("a.button[href$='/nop/']").click()

    # Not signed in yet: sign up (one account for every agency), confirm the e-mail.
    page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    page.goto(portal + "/accounts/signup/")
    # allauth ships no Vietnamese; platform/localization supplies it (the browser asks for vi-VN).
    page.get_by_role("heading", name="Đăng ký").wait_for()
    assert "Mật khẩu (nhập lại)" in page.content()
    page.locator("input[name=email]").fill("tran.thi.c@example.vn")
    page.locator("input[name=password1]").fill("mot-mat-khau-du-dai-2026")
    page.locator("input[name=password2]").fill("mot-mat-khau-du-dai-2026")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/accounts/confirm-email/.*"))
    assert len(mailoutbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mailoutbox[0].body).group(0)
    assert link.startswith(portal)
    page.goto(link)
    page.locator("form button[type=submit]").last.click()

    # Fill in the dossier: details, form fields, one file per required component.
    page.goto(portal + "/thu-tuc/S-HT-001/nop/")
    page.locator("input[name=applicant_name]").fill("Trần Thị C")
    page.locator("input[name=applicant_id_number]").fill("031195001234")
    page.locator("input[name=applicant_phone]").fill("0912 345 678")
    page.locator("input[name=f_child_full_name]").fill("Trần Minh D")
    page.locator("input[name=f_child_birth_date]").fill("2026-11-20")
    page.locator("select[name=f_child_sex]").select_option("Nam")
    page.locator("input[name=f_birth_place]").fill("Trạm y tế xã An Bình")
    page.locator("input[name=component_0]").set_input_files(str(declaration))
    page.locator("input[name=component_1]").set_input_files(str(certificate))
    page.locator("button[name=action][value=review]").click()

    # Review, then submit: the receipt (Form 01) shows the code, due date and lookup secret.
    page.wait_for_url(re.compile(r".*/xem-lai/$"))
    assert "Trạm y tế xã An Bình" in page.content()
    page.get_by_role("button", name="Nộp hồ sơ").wait_for()
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/bien-nhan/$"))
    code = page.locator(".dossier-code").inner_text().strip()
    secret = page.locator(".lookup-secret").inner_text().strip()
    assert re.fullmatch(r"AB-\d{6}-0001", code) and len(secret) == 8
    assert page.locator(".qr svg").count() == 1
    page.get_by_role("heading", name="PHIẾU TIẾP NHẬN VÀ HẸN TRẢ KẾT QUẢ").wait_for()

    # Someone else, signed out, looks it up with what is printed on the receipt.
    stranger = browser.new_context(locale="vi-VN")
    try:
        other = stranger.new_page()
        other.goto(portal + "/tra-cuu/")
        other.locator("input[name=code]").fill(code.lower())
        other.locator("input[name=secret]").fill(secret)
        other.locator("form.tracking-form button[type=submit]").click()
        other.locator(".tracking-result").wait_for()
        result = other.locator(".tracking-result").inner_text()
        assert code in result and "Trần Thị C" not in result
        assert "Đã tiếp nhận" in result and "Ngày tiếp nhận" in result
    finally:
        stranger.close()
