"""A receptionist receives a dossier at the desk, an officer requests a supplement, the
citizen supplements online, the leader approves, the result is returned to the citizen's
account, and the citizen downloads it and rates the service. Real pages, real HTTP."""

from __future__ import annotations

import re
from importlib import import_module
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

from accounts.mfa import SESSION_KEY as MFA_SESSION_KEY
from desk.tests.conftest import SHOP_FORM, staff_of
from dossiers.models import Dossier, DossierStatus
from results.models import Rating
from tenants.context import agency_context
from tenants.routing import SESSION_AGENCY_KEY
from tests.files import PDF
from tests.fixtures.mfa import totp_enable

pytestmark = pytest.mark.browser
HOST = "xa-an-binh.localhost"


def signed_in(browser: Any, user: Any, agency: Any, port: int) -> Any:
    """A browser page with a session for ``user`` on the agency's host (as after sign-in)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[SESSION_AGENCY_KEY] = agency.schema_name
    # Staff pages want a second factor proven in this session (see tests/fixtures/mfa.py).
    totp_enable(user)
    store[MFA_SESSION_KEY] = str(user.pk)
    store.create()
    context = browser.new_context(locale="vi-VN", accept_downloads=True)
    context.set_default_timeout(15_000)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": store.session_key,
                "url": f"http://{HOST}:{port}",
            }
        ]
    )
    return context.new_page()


def act(page: Any, action: str) -> None:
    """Press the button of one action form on the desk's dossier page."""
    page.locator(f"form[action$='/{action}/'] button[type=submit]").click()
    page.wait_for_load_state()


def test_desk_intake_supplement_approval_result_and_rating(
    browser, live_server, commune, citizen, tmp_path: Path
) -> None:
    port = urlsplit(live_server.url).port
    site = f"http://{HOST}:{port}"
    with agency_context(commune):
        staff = staff_of(commune, "ab")
    scan = tmp_path / "don-dang-ky.pdf"
    scan.write_bytes(PDF)
    missing = tmp_path / "hop-dong-thue.pdf"
    missing.write_bytes(PDF)
    result_file = tmp_path / "giay-chung-nhan.pdf"
    result_file.write_bytes(PDF)

    # The receptionist receives the dossier in person, linked to the citizen's account.
    desk = signed_in(browser, staff.receptionist, commune, port)
    desk.goto(site + "/mot-cua/")
    desk.locator("a[href='/mot-cua/tiep-nhan/']").click()
    desk.locator("select[name='thu-tuc']").select_option("S-KD-001")
    desk.locator("main form button[type=submit]").click()
    desk.wait_for_url(re.compile(r".*/mot-cua/tiep-nhan/S-KD-001/$"))
    desk.locator("input[name=applicant_name]").fill("Nguyễn Văn A")
    desk.locator("input[name=applicant_id_number]").fill("031095001234")
    desk.locator("input[name=applicant_phone]").fill("0912345678")
    desk.locator("input[name=applicant_email]").fill(citizen.email)
    for key, value in SHOP_FORM.items():
        desk.locator(f"[name=f_{key}]").fill(value)
    desk.locator("input[name=component_0]").set_input_files(str(scan))
    desk.locator("input[name=component_1]").set_input_files(str(scan))
    desk.locator("main form.dossier-form button[type=submit]").click()
    desk.wait_for_url(re.compile(r".*/bien-nhan/$"))
    code = desk.locator(".dossier-code").inner_text().strip()
    assert re.fullmatch(r"AB-\d{6}-\d{4}", code)
    with agency_context(commune):
        dossier = Dossier.objects.get(code=code)
        assert (dossier.channel, dossier.applicant_id) == ("desk", citizen.pk)

    # The receptionist hands it on; an officer takes it and requests a supplement (Form 02).
    desk.goto(f"{site}/mot-cua/ho-so/{code}/")
    if desk.locator("form[action$='/claim/']").count():
        act(desk, "claim")
    act(desk, "forward")
    officer = signed_in(browser, staff.officer, commune, port)
    officer.goto(f"{site}/mot-cua/ho-so/{code}/")
    act(officer, "claim")
    officer.locator("form[action$='/supplement/'] textarea[name=items]").fill(
        "Hợp đồng thuê địa điểm kinh doanh"
    )
    act(officer, "supplement")
    officer.goto(f"{site}/mot-cua/in/{code}/02/")
    assert "Hợp đồng thuê địa điểm kinh doanh" in officer.locator(".supplement-items").inner_text()

    # The citizen supplements online.
    me = signed_in(browser, citizen, commune, port)
    me.goto(f"{site}/ho-so-cua-toi/{code}/")
    assert "Hợp đồng thuê địa điểm kinh doanh" in me.locator(".supplement").inner_text()
    me.locator(".supplement input[name=c_1]").set_input_files(str(missing))
    me.locator(".supplement button[type=submit]").click()
    me.wait_for_load_state()
    with agency_context(commune):
        assert Dossier.objects.get(code=code).status == DossierStatus.IN_PROCESSING

    # The officer attaches the result and forwards; the leader takes it and approves.
    officer.goto(f"{site}/mot-cua/ho-so/{code}/")
    officer.locator("form[action$='/attach/'] input[name=number]").fill("15/GCN-HKD")
    officer.locator("form[action$='/attach/'] input[name=file]").set_input_files(str(result_file))
    act(officer, "attach")
    act(officer, "forward")
    leader = signed_in(browser, staff.leader, commune, port)
    leader.goto(f"{site}/mot-cua/ho-so/{code}/")
    act(leader, "claim")
    act(leader, "approve")
    with agency_context(commune):
        assert Dossier.objects.get(code=code).status == DossierStatus.RESULT_READY

    # The desk returns the result into the citizen's account.
    desk.goto(f"{site}/mot-cua/ho-so/{code}/")
    act(desk, "claim")
    desk.locator("form[action$='/return/'] select[name=method]").select_option("electronic")
    act(desk, "return")
    with agency_context(commune):
        assert Dossier.objects.get(code=code).status == DossierStatus.RETURNED

    # The citizen downloads the result (kept in their document store) and rates the service.
    me.goto(f"{site}/ho-so-cua-toi/{code}/")
    with me.expect_download() as download:
        me.locator("a.result-download").click()
    assert Path(download.value.path()).read_bytes() == PDF
    me.goto(site + "/kho-du-lieu/")
    assert "15/GCN-HKD" in me.locator("main").inner_text()
    me.goto(f"{site}/ho-so-cua-toi/{code}/")
    me.locator(".rating input[name=score][value='5']").check()
    me.locator(".rating textarea[name=comment]").fill("Cán bộ hướng dẫn tận tình")
    me.locator(".rating button[type=submit]").click()
    me.wait_for_load_state()
    assert me.locator(".rating form").count() == 0
    with agency_context(commune):
        rating = Rating.objects.get(dossier__code=code)
        assert (rating.score, rating.rated_by_id) == (5, citizen.pk)
