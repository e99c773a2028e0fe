"""A visitor finds an agency on the landing page and opens its portal, in Vietnamese or English."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def port(live_server) -> int:
    return urlsplit(live_server.url).port or 80


def test_from_landing_page_to_an_agency_portal(page, port, make_agency) -> None:
    make_agency("phuong-hong-bang", name="Phường Hồng Bàng")
    make_agency("so-tu-phap-hai-phong", name="Sở Tư pháp", kind="department")

    page.goto(f"http://localhost:{port}/")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.get_by_role("heading", name="Các cơ quan, đơn vị trên hệ thống").wait_for()
    page.get_by_role("link", name="Phường Hồng Bàng").click()

    page.wait_for_url(re.compile(r"^http://phuong-hong-bang\.localhost:\d+/$"))
    page.get_by_role("heading", name="Phường Hồng Bàng", level=1).wait_for()
    assert "Sở Tư pháp" not in page.content()

    # Switch the agency's portal to English and back.
    page.get_by_role("link", name="EN", exact=True).click()
    page.get_by_text("Online public services and the one-stop desk of this agency.").wait_for()
    page.get_by_role("link", name="VI", exact=True).click()
    page.get_by_text("Dịch vụ công trực tuyến và bộ phận một cửa của cơ quan, đơn vị.").wait_for()

    # A phone-sized screen must not scroll sideways.
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390


def test_an_unknown_hostname_shows_a_helpful_page(page, port) -> None:
    response = page.goto(f"http://khong-co-that.localhost:{port}/")
    assert response is not None and response.status == 404
    page.get_by_role("heading", name="Không tìm thấy địa chỉ").wait_for()
    page.get_by_role("link", name="Xem danh sách cơ quan, đơn vị").click()
    page.wait_for_url(f"http://localhost:{port}/")


def test_a_content_security_policy_violation_is_caught(page, port) -> None:
    """The browser fixture fails any test during which the browser refused inline code."""
    from tests.fixtures import browser as fixture

    page.goto(f"http://localhost:{port}/")
    assert fixture._csp_violations == []
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    page.wait_for_function("true")
    page.wait_for_timeout(200)
    assert any("style-src" in v for v in fixture._csp_violations), fixture._csp_violations
    fixture._csp_violations.clear()  # seen: this test passes
