"""An agency admin signs in, adopts a procedure from the national catalog, configures it
(formset rows added and reordered with JavaScript), publishes it and finds it on the portal;
then changes the portal's name and colour and sees them on the portal."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.fixtures.mfa import totp_code, totp_enable

pytestmark = pytest.mark.browser


@pytest.fixture
def hoa_binh(make_agency, national_catalog):
    """A commune with nothing adopted yet, and its administrator."""
    from allauth.account.models import EmailAddress

    from accounts.models import User
    from accounts.services import membership_grant

    agency = make_agency("xa-hoa-binh", name="Xã Hòa Bình", code="HB")
    admin = User.objects.create_user("quantri@hoabinh.gov.vn", "mat-khau-quan-tri-2026")
    EmailAddress.objects.create(user=admin, email=admin.email, verified=True, primary=True)
    membership_grant(user=admin, agency=agency, roles=["admin"])
    agency.totp_secret = totp_enable(admin)  # staff sign in with an authenticator app
    return agency


def test_admin_adopts_configures_publishes_and_brands(page, live_server, hoa_binh):
    port = urlsplit(live_server.url).port
    portal = f"http://xa-hoa-binh.localhost:{port}"

    # The admin pages ask for a login first.
    page.goto(portal + "/quan-tri/")
    page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    page.locator("input[name=login]").fill("quantri@hoabinh.gov.vn")
    page.locator("input[name=password]").fill("mat-khau-quan-tri-2026")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/accounts/2fa/authenticate/.*"))
    page.locator("input[name=code]").fill(totp_code(hoa_binh.totp_secret))
    page.locator("main form button[type=submit]:not([form])").first.click()
    page.wait_for_url(re.compile(r".*/quan-tri/$"))

    # Adopt "Đăng ký thành lập hộ kinh doanh" from the procedures for a commune.
    page.locator(".admin-nav a[href='/quan-tri/thu-tuc/']").click()
    page.locator("a[href='/quan-tri/thu-tuc/them/']").first.click()
    assert page.locator("input[name=code][value='S-TP-001']").count() == 0  # a department's
    page.locator("input[name=code][value='S-KD-001']").check()
    page.locator(".adopt-form button[name=selected]").click()
    page.wait_for_url(re.compile(r".*/quan-tri/thu-tuc/S-KD-001/$"))

    # Configure: fee, cut-off, and one more step added and moved up with JavaScript.
    page.locator("input[name=settings-fee]").fill("90000")
    page.locator("input[name=settings-cutoff_hour]").fill("16")
    steps = page.locator("[data-formset=steps]")
    rows_before = steps.locator(".formset-rows > [data-row]").count()
    steps.locator("[data-add-row]").click()
    assert steps.locator(".formset-rows > [data-row]").count() == rows_before + 1
    new_row = steps.locator(".formset-rows > [data-row]").last
    new_row.locator("input[name$='-name']").fill("Thu phí")
    new_row.locator("select[name$='-role']").select_option("receptionist")
    new_row.locator("input[name$='-days']").fill("0")
    up = new_row.locator("[data-move=up]").element_handle()  # follows the row as it moves
    up.click()  # past the blank row
    up.click()  # before "Ký duyệt"
    names = steps.locator(".formset-rows > [data-row] input[name$='-name']")
    assert names.nth(rows_before - 2).input_value() == "Thu phí"
    assert names.nth(rows_before - 1).input_value() == "Ký duyệt"
    page.locator("button[name=save]").click()
    page.locator(".msg-success").wait_for()

    # Publish, then the procedure is on the portal with the new settings.
    page.locator("button[name=publish]").click()
    page.locator(".msg-success").wait_for()
    assert page.locator(".status-published").count() >= 1
    page.goto(portal + "/thu-tuc/")
    page.get_by_role("link", name="Đăng ký thành lập hộ kinh doanh").click()
    page.get_by_role("heading", name="Đăng ký thành lập hộ kinh doanh").wait_for()
    content = page.content()
    assert "90.000" in content
    assert content.index("Thẩm định") < content.index("Thu phí") < content.index("Ký duyệt")

    # Branding: name and colour, previewed live, then seen on the portal.
    page.goto(portal + "/quan-tri/giao-dien/")
    page.locator("input[name=display_name]").fill("UBND Xã Hòa Bình")
    page.locator("input[name=primary_color]").fill("#0b5394")
    preview = page.locator("[data-brand-preview]")
    assert preview.locator("[data-preview-name]").inner_text() == "UBND Xã Hòa Bình"
    assert preview.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(11, 83, 148)"
    page.locator("button[name=save]").click()
    page.locator(".msg-success").wait_for()
    page.goto(portal + "/")
    assert page.locator(".site-header .brand-name").inner_text() == "UBND Xã Hòa Bình"
    header = page.locator(".site-header")
    assert header.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(11, 83, 148)"

    # On a phone-sized screen the admin pages do not scroll sideways.
    page.goto(portal + "/quan-tri/thu-tuc/S-KD-001/")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
