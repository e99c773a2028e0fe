"""The provider console as its staff meet it: their own sign-in page, a menu to every page,
readable names, dates and durations, and one page per agency with everything about it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from console.templatetags.console import MENU, duration, province_name
from tests.fixtures.mfa import mfa_login, totp_code, totp_enable

PUBLIC = "localhost"
CONSOLE_PAGES = [
    "/console/",
    "/console/agencies/",
    "/console/onboarding/",
    "/console/onboarding/province/",
    "/console/coverage/",
    "/console/thong-ke/",
    "/console/billing/",
    "/console/dong-bo/",
    "/console/nhat-ky/",
    "/console/reorg/",
    "/console/reorg/tach/",
]


@pytest.fixture
def staff_client(db: None) -> Client:
    staff = User.objects.create_user("ops@motcua.vn", "mat-khau-nhan-vien-2026", is_staff=True)
    return mfa_login(Client(HTTP_HOST=PUBLIC), staff)


@pytest.mark.django_db
def test_staff_sign_in_on_the_consoles_own_page_then_give_their_code() -> None:
    from allauth.account.models import EmailAddress

    staff = User.objects.create_user("ops@motcua.vn", "mat-khau-nhan-vien-2026", is_staff=True)
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    secret = totp_enable(staff)
    client = Client(HTTP_HOST=PUBLIC)
    sent = client.get("/console/billing/")
    assert sent.status_code == 302
    assert sent["Location"] == "/console/dang-nhap/?next=%2Fconsole%2Fbilling%2F"
    page = client.get(sent["Location"]).content.decode()
    assert "Đăng nhập dành cho nhân viên" in page  # the product's page, not Django admin's
    assert "Django" not in page.split("<main", 1)[1]
    assert 'name="login"' in page and 'name="password"' in page and "Quên mật khẩu" in page
    signed = client.post(
        "/console/dang-nhap/?next=/console/billing/",
        {"login": staff.email, "password": "mat-khau-nhan-vien-2026"},
    )
    assert signed["Location"].startswith("/accounts/2fa/authenticate/")  # once, no second password
    done = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert done["Location"] == "/console/billing/"
    assert client.get("/console/billing/").status_code == 200
    # The Django admin stays for superusers, at /admin/, behind the same sign-in.
    admin = Client(HTTP_HOST=PUBLIC)
    hop = admin.get(admin.get("/admin/")["Location"])
    assert hop["Location"].startswith("/console/dang-nhap/?next=")


@pytest.mark.django_db
def test_without_a_next_page_staff_land_on_the_console_overview() -> None:
    from allauth.account.models import EmailAddress

    staff = User.objects.create_user("ops2@motcua.vn", "mat-khau-nhan-vien-2026", is_staff=True)
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    secret = totp_enable(staff)
    client = Client(HTTP_HOST=PUBLIC)
    client.post(
        "/console/dang-nhap/", {"login": staff.email, "password": "mat-khau-nhan-vien-2026"}
    )
    done = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert done["Location"] == "/console/"


@pytest.mark.django_db
def test_every_console_page_has_the_menu_to_every_other(staff_client: Client, commune) -> None:
    links = {reverse_menu for reverse_menu in CONSOLE_PAGES}
    for path in CONSOLE_PAGES:
        page = staff_client.get(path)
        assert page.status_code == 200, path
        html = page.content.decode()
        menu = re.search(r'<nav class="console-nav".*?</nav>', html, re.S)
        assert menu is not None, path
        hrefs = set(re.findall(r'href="([^"]+)"', menu.group(0)))
        assert links <= hrefs, (path, links - hrefs)
        current = re.findall(r'<a href="([^"]+)" aria-current="page">', menu.group(0))
        assert current == [path], (path, current)
    assert len(MENU) == len(CONSOLE_PAGES)
    # Not on the portal, not for citizens.
    assert "console-nav" not in Client(HTTP_HOST="xa-an-binh.localhost").get("/").content.decode()


@pytest.mark.django_db
def test_provinces_are_named_not_numbered(staff_client: Client, commune) -> None:
    page = staff_client.get("/console/agencies/").content.decode()
    assert "<td>Thành phố Hải Phòng</td>" in page
    assert "<td>31</td>" not in page
    assert province_name("31") == "Thành phố Hải Phòng" and province_name("1") == "Thành phố Hà Nội"
    assert province_name("") == "—" and province_name("999") == "999"


def test_durations_read_as_people_say_them() -> None:
    assert duration(dt.timedelta(seconds=5.987599)) == "6 giây"
    assert duration(dt.timedelta(seconds=1.44)) == "1,4 giây"
    assert duration(125) == "2 phút 5 giây"
    assert duration(dt.timedelta(hours=3, minutes=10, seconds=4)) == "3 giờ 10 phút"
    assert duration(None) == "—"
    assert "0:00:05" not in duration(dt.timedelta(seconds=5.9))


def test_badges_never_wrap() -> None:
    css = (Path(__file__).resolve().parents[3] / "static/css/app.css").read_text()
    for selector in (".status {", ".badge {", ".tag {"):
        rule = css.split(selector, 1)[1].split("}", 1)[0]
        assert "white-space: nowrap" in rule, selector


@pytest.mark.django_db
def test_the_agency_page_shows_usage_invoices_health_and_exit_packs(
    staff_client: Client, commune, settings: Any, tmp_path: Path
) -> None:
    from billing.accounts import billing_account_create, subscription_start
    from billing.invoicing import billing_month_close, previous_period
    from billing.pricing import plans_ensure_defaults
    from onboarding.models import ExitPackRun
    from onboarding.offboarding import exit_pack_run_execute
    from tenants.models import Agency, AgencyEvent

    settings.EXIT_PACK_ROOT = tmp_path
    plans_ensure_defaults()
    payer = billing_account_create(
        name="UBND TP Hải Phòng", tax_code="0200000009", address="Hải Phòng", email="kt@example.vn"
    )
    last_month = previous_period(timezone.localdate())
    subscription_start(agency=commune, billing_account=payer, starts_on=last_month)
    billing_month_close(period_start=last_month)

    page = staff_client.get(f"/console/agencies/{commune.pk}/").content.decode()
    for text in (
        "Thành phố Hải Phòng",
        "Mức sử dụng tháng này" if "Mức sử dụng từ" not in page else "Mức sử dụng từ",
        "Hóa đơn",
        last_month.strftime("%m/%Y"),
        "Lược đồ cơ sở dữ liệu đã cập nhật",
        "Đơn vị thanh toán không nợ quá hạn",
    ):
        assert text in page, text

    run = ExitPackRun.objects.create(agency=commune, actor_email="ops@motcua.vn")
    run = exit_pack_run_execute(run_id=run.pk)
    assert run.status == "finished"
    page = staff_client.get(f"/console/agencies/{commune.pk}/").content.decode()
    assert f"/console/exit-packs/{run.pk}/download/" in page
    download = staff_client.get(f"/console/exit-packs/{run.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content)[:2] == b"PK"  # a zip
    assert AgencyEvent.objects.filter(agency=commune, event="exit_pack_downloaded").exists()

    restored = staff_client.post(
        f"/console/exit-packs/{run.pk}/restore/", {"slug": "xa-an-binh-khoi-phuc"}, follow=True
    )
    assert restored.status_code == 200
    copy = Agency.objects.get(slug="xa-an-binh-khoi-phuc")
    assert copy.name == commune.name and copy.status == "active"
    assert "Xã An Bình" in restored.content.decode()
    # A bad slug: a clear message, nothing made.
    bad = staff_client.post(f"/console/exit-packs/{run.pk}/restore/", {"slug": ""}, follow=True)
    assert bad.status_code == 200 and "định danh" in bad.content.decode()
    # Someone who is not provider staff gets nothing.
    outsider = Client(HTTP_HOST=PUBLIC)
    outsider.force_login(User.objects.create_user("someone@example.vn", "x"))
    assert outsider.get(f"/console/exit-packs/{run.pk}/download/").status_code == 403


@pytest.mark.django_db
def test_a_demo_installation_says_where_the_second_factor_comes_from(settings) -> None:
    from allauth.account.models import EmailAddress

    staff = User.objects.create_user("ops3@motcua.vn", "mat-khau-nhan-vien-2026", is_staff=True)
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    totp_enable(staff)
    for debug, shown in ((True, True), (False, False)):
        settings.DEBUG = debug
        client = Client(HTTP_HOST=PUBLIC)
        assert ("dev.py totp" in client.get("/console/dang-nhap/").content.decode()) is shown
        client.post(
            "/console/dang-nhap/", {"login": staff.email, "password": "mat-khau-nhan-vien-2026"}
        )
        page = client.get("/accounts/2fa/authenticate/").content.decode()
        assert ("python3 dev.py totp EMAIL" in page) is shown
        assert "ứng dụng xác thực" in page  # where the code comes from, for everyone
