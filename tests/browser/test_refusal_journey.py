"""Refusal at reception (Form 03), in a real browser: at the counter, where nothing is
received, and on an online dossier at the reception step. Both end on the printable form
with every reason; a refusal without a reason is answered on the page, nothing stored."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from desk.tests.conftest import SHOP_FORM, staff_of
from dossiers.models import Dossier, DossierStatus, Refusal
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.browser.test_desk_journey import HOST, signed_in
from tests.files import pdf

pytestmark = pytest.mark.browser


def test_refusing_at_the_counter_prints_form_03_and_receives_nothing(
    browser: Any, live_server: Any, commune: Any
) -> None:
    port = urlsplit(live_server.url).port
    site = f"http://{HOST}:{port}"
    with agency_context(commune):
        staff = staff_of(commune, "ab")
    desk = signed_in(browser, staff.receptionist, commune, port)
    desk.goto(site + "/mot-cua/tiep-nhan/")
    desk.locator("select[name='thu-tuc']").select_option("S-KD-001")
    desk.locator("main form button[type=submit]").click()
    desk.wait_for_url(re.compile(r".*/mot-cua/tiep-nhan/S-KD-001/$"))
    desk.locator("a[href$='/tiep-nhan/S-KD-001/tu-choi/']").click()
    desk.wait_for_url(re.compile(r".*/tu-choi/$"))

    # No reason given: the page says so, and nothing is stored.
    desk.locator("input[name=applicant_name]").fill("Trần Thị Bình")
    desk.locator("main form button[type=submit]").click()
    assert desk.locator(".has-error textarea[name=reasons]").count() == 1
    with agency_context(commune):
        assert not Refusal.objects.exists()

    desk.locator("input[name=applicant_id_number]").fill("031195004321")
    desk.locator("textarea[name=reasons]").fill(
        "Thiếu hợp đồng thuê địa điểm kinh doanh\nĐơn đăng ký chưa có chữ ký"
    )
    desk.locator("main form button[type=submit]").click()
    desk.wait_for_url(re.compile(r".*/mot-cua/in/tu-choi/\d+/$"))
    reasons = desk.locator(".refusal-reasons li").all_inner_texts()
    assert reasons == ["Thiếu hợp đồng thuê địa điểm kinh doanh", "Đơn đăng ký chưa có chữ ký"]
    assert "Trần Thị Bình" in desk.locator(".form-sheet").inner_text()
    with agency_context(commune):
        refusal = Refusal.objects.get()
        assert (refusal.dossier, refusal.applicant_id_number) == (None, "031195004321")
        assert not Dossier.objects.exists()


def test_refusing_an_online_dossier_at_reception_prints_form_03(
    browser: Any, live_server: Any, commune: Any, citizen: Any
) -> None:
    port = urlsplit(live_server.url).port
    site = f"http://{HOST}:{port}"
    with agency_context(commune):
        staff = staff_of(commune, "ab")
        code = dossier_submit(
            agency=commune,
            procedure=AgencyProcedure.objects.get(code="S-KD-001"),
            applicant=Applicant.from_user(citizen),
            form_data=SHOP_FORM,
            files={0: [pdf()], 1: [pdf()]},
        ).dossier.code
    desk = signed_in(browser, staff.receptionist, commune, port)
    desk.goto(f"{site}/mot-cua/ho-so/{code}/")
    if desk.locator("form[action$='/claim/']").count():
        desk.locator("form[action$='/claim/'] button[type=submit]").click()
        desk.wait_for_load_state()
    form = desk.locator("form[action$='/refuse/']")
    form.locator("textarea[name=reasons]").fill("Hồ sơ không thuộc thẩm quyền của xã")
    form.locator("button[type=submit]").click()
    desk.wait_for_url(re.compile(rf".*/mot-cua/in/{code}/03/$"))
    assert desk.locator(".refusal-reasons li").all_inner_texts() == [
        "Hồ sơ không thuộc thẩm quyền của xã"
    ]
    with agency_context(commune):
        assert Dossier.objects.get(code=code).status == DossierStatus.REFUSED
