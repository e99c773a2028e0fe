"""The first hour of each kind of user, on the demo `dev.py up` seeds: sign in with the
printed demo account (and the second factor `dev.py totp` gives), find the main page, do the
main action. Every main page is measured with axe-core: no serious or critical violation.

Citizens are looked at on a phone, staff on a desk screen, the provider's console on both.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.files import PDF
from tests.fixtures.axe import axe_check

pytestmark = pytest.mark.browser

SUBMIT = "main form button[type=submit]:not([form])"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}


@pytest.fixture
def demo(live_server: Any) -> SimpleNamespace:
    """What `dev.py up` seeds (one commune of the demo province, its people, their month)."""
    from onboarding.demo import DEMO_PEOPLE, demo_home_agency, demo_people_seed, demo_province_seed
    from onboarding.demo_activity import demo_activity_seed

    demo_province_seed(communes=1)
    home = demo_home_agency()
    assert home is not None
    users = demo_people_seed(agency=home)
    people = {p.key: u for p, u in zip(DEMO_PEOPLE, users, strict=True)}
    demo_activity_seed(agency=home, people=people)
    port = urlsplit(live_server.url).port
    host = home.domains.get(is_primary=True).domain
    return SimpleNamespace(
        agency=home,
        people=people,
        portal=f"http://{host}:{port}",
        public=f"http://localhost:{port}",
    )


def new_page(browser: Any, viewport: dict[str, int], locale: str = "vi-VN") -> Any:
    context = browser.new_context(locale=locale, viewport=viewport)
    context.set_default_timeout(15_000)
    return context.new_page()


def sign_in(page: Any, email: str, *, second_factor: bool) -> None:
    """On the sign-in page the browser is at: the demo password, then the code if asked."""
    from onboarding.demo import DEMO_PASSWORD, demo_totp_code

    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator(SUBMIT).first.click()
    if second_factor:
        page.wait_for_url(re.compile(r".*/accounts/2fa/authenticate/.*"))
        code = demo_totp_code(email=email)
        assert code is not None
        page.locator("input[name=code]").fill(code.code)
        page.locator(SUBMIT).first.click()
    page.wait_for_load_state()


def test_a_citizen_finds_their_dossiers_sends_the_supplement_and_rates(browser, demo) -> None:
    page = new_page(browser, PHONE)
    page.goto(demo.portal + "/")
    axe_check(page, label="portal home")
    # The phone menu shows every item, nothing cut off at the edge.
    for item in page.locator(".portal-nav a").all():
        box = item.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.get_by_role("link", name="Đăng nhập").first.click()
    axe_check(page, label="sign-in")
    sign_in(page, "congdan@motcua.localhost", second_factor=False)

    page.locator(".portal-nav").get_by_role("link", name="Hồ sơ của tôi").click()
    page.wait_for_url(re.compile(r".*/ho-so-cua-toi/$"))
    axe_check(page, label="my dossiers")
    page.locator("tr:has(.status-supplement_requested) a").first.click()
    assert (
        "Bản sao hợp đồng thuê địa điểm kinh doanh"
        in page.locator("section.supplement").inner_text()
    )
    axe_check(page, label="a dossier waiting for a supplement")
    page.locator("section.supplement input[type=file]").first.set_input_files(
        files=[{"name": "hop-dong-thue.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.locator("section.supplement button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".status-in_processing").count() >= 1

    # The result already returned and not yet rated: five stars.
    page.goto(demo.portal + "/ho-so-cua-toi/")
    for link in page.locator("tr:has(.status-returned) td:first-child a").all():
        href = link.get_attribute("href")
        other = page.context.new_page()
        other.goto(demo.portal + href)
        if other.locator("form[action$='/danh-gia/']").count():
            axe_check(other, label="a returned dossier to rate")
            other.locator("input[name=score][value='5']").check()
            other.locator("form[action$='/danh-gia/'] button[type=submit]").click()
            other.wait_for_load_state()
            assert other.locator("form[action$='/danh-gia/']").count() == 0
            break
    else:
        pytest.fail("the demo citizen has no returned dossier to rate")
    page.context.close()


def test_the_error_summary_takes_the_focus_and_leads_to_each_field(browser, demo) -> None:
    page = new_page(browser, PHONE)
    page.goto(demo.portal + "/accounts/login/?next=/thu-tuc/S-HT-001/nop/")
    sign_in(page, "congdan@motcua.localhost", second_factor=False)
    page.wait_for_url(re.compile(r".*/nop-ho-so/.*|.*/nop/$"))
    page.locator("input[name=applicant_name]").fill("")
    page.locator("button[name=action][value=review]").click()
    page.wait_for_load_state()
    summary = page.locator("[data-error-summary]")
    assert summary.count() == 1
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    axe_check(page, label="a submission with errors")
    first = summary.locator("a").first
    target = first.get_attribute("href").lstrip("#")
    first.click()
    assert page.evaluate("document.activeElement.id") == target
    page.context.close()


def test_english_on_request_only_and_remembered_with_the_catalog_marked(browser, demo) -> None:
    page = new_page(browser, PHONE, locale="en-US")  # the browser asks for English
    page.goto(demo.portal + "/thu-tuc/S-HT-001/")
    assert page.evaluate("document.documentElement.lang") == "vi"
    assert "Giải quyết trong ngày" in page.inner_text("main")
    page.locator(".lang-switch a[hreflang=en]").click()
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("h1").inner_text() == "Birth registration"
    assert "Settled the same working day" in page.inner_text("main")
    assert page.locator("main [lang=vi]").count() > 0 and page.locator(".lang-mark").count() > 0
    axe_check(page, label="a procedure in English")
    page.goto(demo.portal + "/tra-cuu/")  # remembered on the next page
    assert page.evaluate("document.documentElement.lang") == "en"
    page.context.close()


def test_an_officer_takes_a_new_dossier_and_hands_it_on(browser, demo) -> None:
    page = new_page(browser, DESK)
    page.goto(demo.portal + "/accounts/login/")
    sign_in(page, "canbo@motcua.localhost", second_factor=True)
    page.wait_for_url(re.compile(r".*/mot-cua/$"))  # staff land on their work
    axe_check(page, label="the desk")
    page.get_by_role("link", name="Của nhóm").click()
    page.locator("tr:has-text('Đăng ký môi trường') a").first.click()
    axe_check(page, label="a dossier at the desk")
    page.get_by_role("button", name="Nhận xử lý hồ sơ").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Chuyển bước tiếp theo").click()
    page.wait_for_load_state()
    assert page.locator(".status-in_processing").count() >= 1
    page.context.close()


def test_a_leader_approves_and_signs_the_form_04(browser, demo) -> None:
    page = new_page(browser, DESK)
    page.goto(demo.portal + "/mot-cua/")
    page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    sign_in(page, "lanhdao@motcua.localhost", second_factor=True)
    page.wait_for_url(re.compile(r".*/mot-cua/$"))
    page.locator("tr:has-text('rượu') a").first.click()
    axe_check(page, label="a dossier at the leader's decision")
    page.get_by_role("button", name="Phê duyệt và ban hành kết quả").click()
    page.wait_for_load_state()
    assert page.locator(".status-result_ready").count() >= 1
    # The Form 04 waiting for a signature, on top of the worklist.
    page.goto(demo.portal + "/mot-cua/")
    axe_check(page, label="the leader's worklist")
    page.locator("section.apologies-to-sign a").first.click()
    assert page.locator("[data-apology=draft]").count() == 1
    page.locator("[data-apology=draft] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("[data-apology=signed], [data-apology=sent]").count() == 1
    page.context.close()


def test_an_agency_admin_rewords_the_sign_up_mail(browser, demo) -> None:
    page = new_page(browser, DESK)
    page.goto(demo.portal + "/accounts/login/")
    sign_in(page, "quantri@motcua.localhost", second_factor=True)
    page.wait_for_url(re.compile(r".*/quan-tri/$"))
    axe_check(page, label="agency administration")
    page.goto(demo.portal + "/quan-tri/thong-ke/")
    page.get_by_role("link", name="30 ngày qua").click()
    page.wait_for_load_state()
    received = page.locator(".stat:has-text('Đã tiếp nhận')").first.inner_text()
    assert int(re.sub(r"\D", "", received) or 0) >= 20  # a month of dossiers
    axe_check(page, label="the agency's statistics")
    page.goto(demo.portal + "/quan-tri/thong-bao/")
    axe_check(page, label="the agency's messages")
    page.locator("a[href*='/account_confirm/email/']").first.click()
    page.locator("input[name=subject]").fill("{{ agency_name }}: kích hoạt tài khoản")
    page.locator("button[name=action][value=save]").click()
    page.wait_for_load_state()
    assert page.locator(".msg-success").count() == 1
    page.context.close()


def test_provider_staff_sign_in_on_the_console_and_restore_an_exit_pack(
    browser, demo, settings, tmp_path
) -> None:
    from onboarding.models import ExitPackRun
    from onboarding.offboarding import exit_pack_run_execute

    settings.EXIT_PACK_ROOT = tmp_path
    run = exit_pack_run_execute(
        run_id=ExitPackRun.objects.create(agency=demo.agency, actor_email="ops").pk
    )
    assert run.status == "finished"

    page = new_page(browser, PHONE)
    page.goto(demo.public + "/console/agencies/")
    page.wait_for_url(re.compile(r".*/console/dang-nhap/\?next=.*"))
    assert page.locator("h1").inner_text() == "Đăng nhập dành cho nhân viên"
    axe_check(page, label="the staff's sign-in")
    sign_in(page, "admin@motcua.localhost", second_factor=True)
    page.wait_for_url(re.compile(r".*/console/agencies/$"))
    menu = page.locator("nav.console-nav")
    for name in ("Tổng quan", "Cơ quan, đơn vị", "Thống kê", "Nhật ký thao tác"):
        assert menu.get_by_role("link", name=name).count() == 1, name
    for path in ("/console/", "/console/agencies/", "/console/billing/", "/console/coverage/"):
        page.goto(demo.public + path)
        assert page.locator("nav.console-nav a[aria-current=page]").count() == 1
        axe_check(page, label=path)

    page.goto(demo.public + "/console/agencies/")
    page.get_by_role("link", name=demo.agency.name).click()
    main = page.inner_text("main")
    assert "Thành phố Hải Phòng" in main and "Lược đồ cơ sở dữ liệu đã cập nhật" in main
    axe_check(page, label="an agency's page")
    page.locator("form.restore-form input[name=slug]").fill("phuong-thanh-dong-khoi-phuc")
    page.locator("form.restore-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".msg-success").count() == 1
    assert page.locator("h1").inner_text() == demo.agency.name
    page.context.close()
