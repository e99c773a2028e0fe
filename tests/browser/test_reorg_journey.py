"""Issue 13, item 8: provider staff merge two communes with dossiers in progress from the
console (the plan first, then the run, watching its progress until done, on a real worker);
an officer of the merged commune finishes one of the moved dossiers; the citizen tracks it
with the code and lookup code read off the receipt printed before the merge, on the old
host (answered 301) and on the new one. Real pages, real HTTP."""

from __future__ import annotations

import re
import time
from importlib import import_module
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.utils import timezone

from accounts.mfa import SESSION_KEY as MFA_SESSION_KEY
from accounts.models import User
from desk.tests.conftest import staff_of
from dossiers.models import Dossier, DossierProcess, DossierStatus
from reorg.models import Merge, MergeStatus
from reorg.tests.conftest import adopted, populate
from tenants.context import agency_context
from tenants.models import AgencyStatus
from tenants.routing import SESSION_AGENCY_KEY
from tests.files import PDF
from tests.fixtures.mfa import totp_enable

pytestmark = pytest.mark.browser


def signed_in(browser: Any, user: Any, host: str, schema: str, port: int) -> Any:
    """A browser page with a session for ``user`` on ``host`` (as after sign-in with MFA)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[SESSION_AGENCY_KEY] = schema
    totp_enable(user)
    store[MFA_SESSION_KEY] = str(user.pk)
    store.create()
    context = browser.new_context(locale="vi-VN")
    context.set_default_timeout(15_000)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": store.session_key,
                "url": f"http://{host}:{port}",
            }
        ]
    )
    return context.new_page()


def act(page: Any, action: str) -> None:
    page.locator(f"form[action$='/{action}/'] button[type=submit]").click()
    page.wait_for_load_state()


def test_staff_merge_two_communes_an_officer_finishes_a_moved_dossier_and_old_receipts_track(
    browser: Any,
    live_server: Any,
    worker: Any,
    make_agency: Any,
    national_catalog: None,
    citizen: Any,
    tmp_path: Path,
) -> None:
    port = urlsplit(live_server.url).port
    a = adopted(make_agency, "xa-an-binh", "Xã An Bình", "AB")
    b = adopted(make_agency, "xa-binh-minh", "Xã Bình Minh", "BM")
    c = adopted(make_agency, "xa-hoa-binh", "Xã Hòa Bình", "HB")
    teams = {x.slug: staff_of(x, x.code.lower()) for x in (a, b, c)}
    dossiers = {x.slug: populate(x, citizen, teams[x.slug]) for x in (a, b)}
    moved = dossiers["xa-an-binh"].in_processing
    old_site = f"http://xa-an-binh.localhost:{port}"
    new_site = f"http://xa-hoa-binh.localhost:{port}"

    # Before the merge the citizen prints the receipt on the old commune's portal.
    me = signed_in(browser, citizen, "xa-an-binh.localhost", a.schema_name, port)
    me.goto(f"{old_site}/ho-so/{moved.code}/bien-nhan/")
    code = me.locator(".dossier-code").inner_text().strip()
    secret = me.locator(".lookup-secret").inner_text().strip()
    assert code == moved.code

    # Provider staff plan the merge in the console: the plan changes nothing.
    ops = User.objects.create_user("vanhanh@motcua.vn", "mat-khau-van-hanh-2026", is_staff=True)
    console = signed_in(browser, ops, "localhost", "public", port)
    console.goto(f"http://localhost:{port}/console/reorg/")
    console.locator(f"input[name=sources][value='{a.pk}']").check()
    console.locator(f"input[name=sources][value='{b.pk}']").check()
    console.locator("select[name=target]").select_option(str(c.pk))
    console.locator("input[name=effective_on]").fill(timezone.localdate().isoformat())
    console.locator("button[name=plan]").click()
    console.wait_for_load_state()
    plan = console.locator("#plan").inner_text()
    assert "xa-an-binh" in plan and "xa-binh-minh" in plan and "S-KD-001" in plan
    assert not Merge.objects.exists()

    # Then they start it and watch the progress until it is done (the worker runs it).
    console.locator("button[name=start]").click()
    console.wait_for_url(re.compile(r".*/console/reorg/\d+/$"))
    seen: set[str] = set()
    deadline = time.monotonic() + 240
    while console.locator("[data-progress-live]").count() and time.monotonic() < deadline:
        shown = console.locator("[data-progress=percent_text]").first.text_content() or ""
        seen.add(shown.strip())
        time.sleep(0.2)
    merge = Merge.objects.get()
    assert merge.status == MergeStatus.FINISHED, merge.error
    assert merge.verification["ok"] is True
    # The page reloads itself when the run is done (progress.js): open it afresh, taking over
    # that navigation if it is still under way.
    console.wait_for_load_state()
    console.goto(console.url)
    assert console.locator("progress[data-progress=percent]").get_attribute("value") == "100"
    assert console.locator("table.verification").count() == 2  # one per commune merged away
    assert "merge_finished" in console.locator("#audit").inner_text()
    assert seen, "the progress was never shown"
    a.refresh_from_db()
    assert a.status == AgencyStatus.MERGED

    # The officer who held it, now an officer of the merged commune, attaches the result and
    # hands it on; the leader approves it. The deadline has kept running.
    officer = teams["xa-an-binh"].officer
    result_file = tmp_path / "giay-chung-nhan.pdf"
    result_file.write_bytes(PDF)
    desk = signed_in(browser, officer, "xa-hoa-binh.localhost", c.schema_name, port)
    desk.goto(f"{new_site}/mot-cua/ho-so/{code}/")
    desk.locator("form[action$='/attach/'] input[name=number]").fill("7/GCN-HKD")
    desk.locator("form[action$='/attach/'] input[name=file]").set_input_files(str(result_file))
    act(desk, "attach")
    act(desk, "forward")
    with agency_context(c):
        assignee = DossierProcess.objects.get(dossier__code=code).assignee
    approver = assignee or teams["xa-hoa-binh"].leader
    leader = signed_in(browser, approver, "xa-hoa-binh.localhost", c.schema_name, port)
    leader.goto(f"{new_site}/mot-cua/ho-so/{code}/")
    if leader.locator("form[action$='/claim/']").count():
        act(leader, "claim")
    act(leader, "approve")
    with agency_context(c):
        finished = Dossier.objects.get(code=code)
        assert finished.status == DossierStatus.RESULT_READY
        assert finished.due_date == moved.due_date

    # The citizen tracks it with what the old receipt says, on the old host: 301 to the new.
    visitor = browser.new_context(locale="vi-VN").new_page()
    response = visitor.goto(f"{old_site}/tra-cuu/?ma={code}&bi-mat={secret}")
    assert response is not None and response.status == 200
    redirected = response.request.redirected_from
    assert redirected is not None and redirected.response().status == 301
    assert visitor.url.startswith(new_site + "/tra-cuu/")
    assert code in visitor.locator("main").inner_text()
    assert visitor.locator(f".status-{DossierStatus.RESULT_READY}").count() == 1

    # And by typing the code and lookup code into the new commune's tracking form.
    visitor.goto(f"{new_site}/tra-cuu/")
    visitor.locator("input[name=code]").fill(code)
    visitor.locator("input[name=secret]").fill(secret)
    visitor.locator("form.tracking-form button[type=submit]").click()
    visitor.wait_for_load_state()
    assert visitor.locator(f".status-{DossierStatus.RESULT_READY}").count() == 1
    # A dossier of the other commune merged away tracks too, the same way.
    other = dossiers["xa-binh-minh"].received
    visitor.goto(
        f"http://xa-binh-minh.localhost:{port}/tra-cuu/?ma={other.code}&bi-mat={other.lookup_secret}"
    )
    assert visitor.url.startswith(new_site)
    assert other.code in visitor.locator("main").inner_text()


def test_staff_split_a_procedure_off_to_a_new_commune_and_old_receipts_are_sent_on(
    browser: Any,
    live_server: Any,
    worker: Any,
    make_agency: Any,
    national_catalog: None,
    citizen: Any,
) -> None:
    """Item 2 in the console: the plan, the run to a new agency, progress until done; the
    old receipt's tracking link on the old host lands on the new agency's page."""
    from reorg.models import Split

    port = urlsplit(live_server.url).port
    a = adopted(make_agency, "xa-an-binh", "Xã An Bình", "AB")
    team = staff_of(a, "ab")
    moved = populate(a, citizen, team).in_processing
    ops = User.objects.create_user("vanhanh@motcua.vn", "mat-khau-van-hanh-2026", is_staff=True)
    console = signed_in(browser, ops, "localhost", "public", port)
    console.goto(f"http://localhost:{port}/console/reorg/tach/")
    console.locator("select[name=source]").select_option(str(a.pk))
    console.locator("textarea[name=procedures]").fill("S-KD-001")
    console.locator("textarea[name=staff]").fill(team.officer.email)
    console.locator("input[name=new_slug]").fill("xa-an-binh-moi")
    console.locator("input[name=new_name]").fill("Xã An Bình Mới")
    console.locator("input[name=effective_on]").fill(timezone.localdate().isoformat())
    console.locator("button[name=plan]").click()
    console.wait_for_load_state()
    assert "dossiers_dossier" in console.locator("#plan").inner_text()
    assert not Split.objects.exists()
    console.locator("button[name=start]").click()
    console.wait_for_url(re.compile(r".*/console/reorg/tach/\d+/$"))
    deadline = time.monotonic() + 240
    while console.locator("[data-progress-live]").count() and time.monotonic() < deadline:
        time.sleep(0.2)
    split = Split.objects.get()
    assert split.status == MergeStatus.FINISHED, split.error
    # The page reloads itself when the run is done (progress.js): open it afresh, taking over
    # that navigation if it is still under way.
    console.wait_for_load_state()
    console.goto(console.url)
    assert console.locator("table.verification").count() == 1
    assert "split_finished" in console.locator("#audit").inner_text()

    visitor = browser.new_context(locale="vi-VN").new_page()
    old = (
        f"http://xa-an-binh.localhost:{port}/tra-cuu/?ma={moved.code}&bi-mat={moved.lookup_secret}"
    )
    response = visitor.goto(old)
    assert response is not None and response.status == 200
    redirected = response.request.redirected_from
    assert redirected is not None and redirected.response().status == 301
    assert visitor.url.startswith(f"http://xa-an-binh-moi.localhost:{port}/tra-cuu/")
    assert visitor.locator(f".status-{DossierStatus.IN_PROCESSING}").count() == 1
