"""An agency admin (signing in with a TOTP code) invites an officer; the officer chooses a
password from the e-mailed link, signs in, is made to set up an authenticator app and
reaches the one-stop desk."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail

from tests.fixtures.mfa import totp_code, totp_enable

pytestmark = pytest.mark.browser

# The form's own submit button (allauth pages also hold a "cancel" button of another form).
SUBMIT = "main form button[type=submit]:not([form])"


@pytest.fixture
def hoa_binh(make_agency, national_catalog):
    """A commune and its administrator, who already uses an authenticator app."""
    from allauth.account.models import EmailAddress

    from accounts.models import User
    from accounts.services import membership_grant

    agency = make_agency("xa-hoa-binh", name="Xã Hòa Bình", code="HB")
    admin = User.objects.create_user("quantri@hoabinh.gov.vn", "mat-khau-quan-tri-2026")
    EmailAddress.objects.create(user=admin, email=admin.email, verified=True, primary=True)
    membership_grant(user=admin, agency=agency, roles=["admin"])
    return totp_enable(admin)


def test_admin_invites_an_officer_who_sets_up_mfa_and_reaches_the_desk(page, live_server, hoa_binh):
    admin_secret = hoa_binh
    port = urlsplit(live_server.url).port
    portal = f"http://xa-hoa-binh.localhost:{port}"

    # The admin signs in with password and authenticator code.
    page.goto(portal + "/quan-tri/nhan-su/")
    page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    page.locator("input[name=login]").fill("quantri@hoabinh.gov.vn")
    page.locator("input[name=password]").fill("mat-khau-quan-tri-2026")
    page.locator(SUBMIT).first.click()
    page.wait_for_url(re.compile(r".*/accounts/2fa/authenticate/.*"))
    page.locator("input[name=code]").fill(totp_code(admin_secret))
    page.locator(SUBMIT).first.click()
    page.wait_for_url(re.compile(r".*/quan-tri/nhan-su/$"))

    # Invite an officer.
    page.locator("input[name=email]").fill("canbo@hoabinh.gov.vn")
    page.locator("input[name=full_name]").fill("Phạm Thị Cán")
    page.locator("input[name=roles][value=officer]").check()
    page.locator("button[name=invite]").click()
    page.locator(".msg-success").wait_for()
    assert page.locator("tr[data-email='canbo@hoabinh.gov.vn']").count() == 1
    invitation = mail.outbox[-1]
    assert invitation.to == ["canbo@hoabinh.gov.vn"]
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+", str(invitation.body))
    assert link is not None

    # The officer, in a fresh browser session, chooses a password from the link.
    page.context.clear_cookies()
    page.goto(link.group(0))
    page.locator("input[name=password1]").fill("mat-khau-can-bo-2026")
    page.locator("input[name=password2]").fill("mat-khau-can-bo-2026")
    page.locator(SUBMIT).first.click()
    page.wait_for_url(re.compile(r".*/accounts/(login|password/reset/key/done)/.*"))

    # Signs in and is sent to set up two-factor sign-in before the desk.
    page.goto(portal + "/mot-cua/")
    page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    page.locator("input[name=login]").fill("canbo@hoabinh.gov.vn")
    page.locator("input[name=password]").fill("mat-khau-can-bo-2026")
    page.locator(SUBMIT).first.click()
    page.wait_for_url(re.compile(r".*/accounts/2fa/totp/activate/.*"))
    secret = page.locator("#authenticator_secret").input_value()
    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator(SUBMIT).first.click()
    page.wait_for_url(re.compile(r".*/accounts/2fa/recovery-codes/.*"))  # shown once, to keep

    # Now the desk opens.
    page.goto(portal + "/mot-cua/")
    assert urlsplit(page.url).path == "/mot-cua/"
    assert page.locator("main").count() == 1
