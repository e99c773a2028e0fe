"""Issue 5's journey: provider staff approve an application in the console and watch it go
live (the Celery chain on a real worker, the page's live progress); the invited agency admin
chooses a password from the e-mailed link, signs in on the agency's host, sets up an
authenticator app and sees the go-live checklist on the admin dashboard.

The invitation is sent by the worker process, whose in-memory outbox the test cannot read:
this test runs its own worker that writes mail to files (``MOTCUA_TEST_EMAIL_DIR``, see
config/settings/test.py) and reads the real e-mail from there.
"""

from __future__ import annotations

import email
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.fixtures.mfa import totp_code, totp_enable
from tests.fixtures.worker import ROOT, WorkerProcess

pytestmark = pytest.mark.browser

SUBMIT = "main form button[type=submit]:not([form])"
ADMIN_EMAIL = "quantri@anlu.gov.vn"


@pytest.fixture
def mail_worker(celery_worker_process: WorkerProcess, transactional_db: Any, tmp_path: Path) -> Any:
    """A worker of its own that writes mail to ``tmp_path`` (the shared one is paused)."""
    celery_worker_process.stop()
    env = dict(celery_worker_process.env)
    env["MOTCUA_TEST_EMAIL_DIR"] = str(tmp_path / "mail")
    proc = WorkerProcess(env, ROOT / "var" / "test-logs" / "celery-worker-mail.log")
    proc.start()
    yield tmp_path / "mail"
    proc.stop()


def read_mail(folder: Path, to: str, timeout: float = 30) -> email.message.Message:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(folder.glob("*.log")) if folder.exists() else []:
            for chunk in path.read_bytes().split(b"-" * 79):
                message = email.message_from_bytes(chunk.strip())
                if to in str(message.get("To", "")):
                    return message
        time.sleep(0.3)
    raise AssertionError(f"no e-mail to {to} in {folder}")


def body_of(message: email.message.Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


@pytest.fixture
def application(national_catalog: None) -> Any:
    """An application from the public site (Phường/xã of Hải Phòng) and a payer for it."""
    from billing.accounts import billing_account_create
    from billing.pricing import plans_ensure_defaults
    from onboarding.services import application_submit
    from tenants.units import communes_of

    plans_ensure_defaults()
    billing_account_create(
        name="UBND TP Hải Phòng", tax_code="0200000009", address="Hải Phòng", email="kt@hp.vn"
    )
    commune = communes_of("31")[0]
    return application_submit(
        kind="commune",
        admin_unit_code=commune.code,
        contact_name="Nguyễn Văn B",
        contact_phone="0912000000",
        admin_email=ADMIN_EMAIL,
    )


@pytest.fixture
def provider_staff(transactional_db: Any) -> str:
    from allauth.account.models import EmailAddress

    from accounts.models import User

    user = User.objects.create_user("vanhanh@motcua.vn", "mat-khau-van-hanh-2026", is_staff=True)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return totp_enable(user)


def sign_in(page: Any, login: str, password: str) -> None:
    page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(password)
    page.locator(SUBMIT).first.click()


def test_staff_approve_watch_it_go_live_and_the_admin_sees_the_checklist(
    page: Any, live_server: Any, mail_worker: Path, application: Any, provider_staff: str
) -> None:
    from onboarding.models import ApplicationState

    port = urlsplit(live_server.url).port
    public = f"http://localhost:{port}"

    # Provider staff sign in on the public host with password and authenticator code.
    page.goto(f"{public}/accounts/login/?next=/console/onboarding/")
    sign_in(page, "vanhanh@motcua.vn", "mat-khau-van-hanh-2026")
    page.wait_for_url(re.compile(r".*/accounts/2fa/authenticate/.*"))
    page.locator("input[name=code]").fill(totp_code(provider_staff))
    page.locator(SUBMIT).first.click()
    page.wait_for_url(re.compile(r".*/console/onboarding/$"))

    # Open the application from the list and approve it with the province's billing account.
    page.locator(f"a[href='/console/onboarding/{application.pk}/']").first.click()
    page.wait_for_url(re.compile(rf".*/console/onboarding/{application.pk}/$"))
    page.locator("select[name=billing_account]").select_option(label="UBND TP Hải Phòng")
    page.locator(f"form[action$='/{application.pk}/approve/'] button[type=submit]").click()

    # Watch it go live: the page polls the progress endpoint, then reloads when finished.
    page.wait_for_url(re.compile(rf".*/console/onboarding/{application.pk}/$"))
    assert page.locator("[data-progress-live]").count() == 1
    seen = set()
    deadline = time.monotonic() + 180
    while page.locator("[data-progress-live]").count() and time.monotonic() < deadline:
        text = page.locator("[data-progress=percent_text]").first.text_content() or ""
        seen.add(text.strip())
        time.sleep(0.2)
    application.refresh_from_db()
    assert application.state == ApplicationState.LIVE, application.error
    assert page.locator("[data-progress-live]").count() == 0
    assert page.locator("progress[data-progress=percent]").get_attribute("value") == "100"
    # We saw it under way (the chain takes a few seconds here; the page polls every 1.5 s, so
    # how many steps show in between depends on the machine), then the finished page.
    assert seen - {"100%"}, seen
    assert page.locator("ul.card-list > li.card").count() == 6  # the console's checklist too
    agency = application.agency
    assert agency is not None

    # The invited admin gets the e-mail and chooses a password from its link.
    invitation = body_of(read_mail(mail_worker, ADMIN_EMAIL))
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", invitation)
    assert link is not None, invitation
    page.context.clear_cookies()
    page.goto(public + link.group(1))
    page.locator("input[name=password1]").fill("mat-khau-quan-tri-2026")
    page.locator("input[name=password2]").fill("mat-khau-quan-tri-2026")
    page.locator(SUBMIT).first.click()
    page.wait_for_url(re.compile(r".*/accounts/(login|password/reset/key/done)/.*"))

    # Signs in on the agency's own host and is made to set up two-factor sign-in.
    portal = f"http://{agency.slug}.localhost:{port}"
    page.goto(portal + "/quan-tri/")
    sign_in(page, ADMIN_EMAIL, "mat-khau-quan-tri-2026")
    page.wait_for_url(re.compile(r".*/accounts/2fa/totp/activate/.*"))
    secret = page.locator("#authenticator_secret").input_value()
    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator(SUBMIT).first.click()
    page.wait_for_url(re.compile(r".*/accounts/2fa/recovery-codes/.*"))

    # The dashboard shows the go-live checklist: what the pipeline did is done, the rest links
    # to where the admin fixes it.
    page.goto(portal + "/quan-tri/")
    assert urlsplit(page.url).path == "/quan-tri/"
    items = {
        key: page.locator(f"[data-checklist={key}]").get_attribute("data-ok")
        for key in ("branding", "admin", "admin_mfa", "staff", "procedures", "billing")
    }
    assert items == {
        "branding": "1",
        "admin": "1",
        "admin_mfa": "1",
        "staff": "0",
        "procedures": "1",
        "billing": "1",
    }
    page.locator("[data-checklist=staff] a").click()
    page.wait_for_url(re.compile(r".*/quan-tri/nhan-su/$"))
