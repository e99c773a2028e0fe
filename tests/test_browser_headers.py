"""Every page carries the browser security headers, and none needs 'unsafe-inline'.

The Content-Security-Policy allows scripts and styles only from our own host, so a page
may have no inline ``<script>``, no ``<style>`` block, no ``style=`` attribute, no event
handler attribute (``onclick=``...) and no ``javascript:`` link: each would simply not
work in the browser. The pages of every kind of user are fetched (seeds below), and the
links found on them are followed on the same host, a bounded number of pages per user.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections import deque
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.services import membership_grant
from billing.accounts import billing_account_create, subscription_start
from billing.invoicing import billing_month_close
from billing.models import Invoice, Metric
from billing.pricing import RateInput, plan_create
from billing.services import usage_record
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.files import pdf
from tests.fixtures.mfa import mfa_login

ROOT = Path(__file__).resolve().parents[1]
HOST = "xa-an-binh.localhost"
PUBLIC = "localhost"
BIRTH = {
    "child_full_name": "Nguyễn Văn B",
    "child_birth_date": "2026-11-20",
    "child_sex": "Nam",
    "birth_place": "Trạm y tế xã",
}
# Script elements that only carry data (never run, so the policy does not apply to them).
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json", "text/template"}
PAGES_PER_USER = 70
NOT_FOLLOWED = ("/static/", "/media/", "/accounts/logout/", "/ngon-ngu/", "/logo.png")


class InlineCode(HTMLParser):
    """Collects what a strict Content-Security-Policy would block in an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        kind = (values.get("type") or "").strip().lower()
        if tag == "script" and "src" not in values and kind not in DATA_SCRIPT_TYPES:
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> block at line {self.getpos()[0]}")
        for name, value in attrs:
            if name == "style":
                self.found.append(f'style="{value}" on <{tag}> at line {self.getpos()[0]}')
            elif name.startswith("on"):
                self.found.append(f"{name}= handler on <{tag}> at line {self.getpos()[0]}")
            elif name in {"href", "src", "action", "formaction"} and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: URL on <{tag}> at line {self.getpos()[0]}")
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))


def directives(header: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def assert_browser_headers(response: Any, where: str) -> None:
    header = response.headers.get("Content-Security-Policy", "")
    assert header, f"{where}: no Content-Security-Policy"
    policy = directives(header)
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header, where
    assert policy.get("default-src") == ["'self'"], where
    assert policy.get("script-src") == ["'self'"], where
    assert policy.get("style-src") == ["'self'"], where
    assert policy.get("object-src") == ["'none'"], where
    assert policy.get("frame-ancestors") == ["'none'"], where
    assert policy.get("base-uri") == ["'self'"], where
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "same-origin", where
    assert response.headers.get("Cross-Origin-Opener-Policy") == "same-origin", where
    assert "camera=()" in response.headers.get("Permissions-Policy", ""), where


def inline_code(html: str) -> InlineCode:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser


def visit(client: Client, host: str, seeds: list[str]) -> dict[str, list[str]]:
    """Fetch the seeds (each must answer 200) and the same-host pages they link to; return
    the problems found, by page."""
    problems: dict[str, list[str]] = {}
    queue = deque((path, True) for path in seeds)
    seen: set[str] = set()
    while queue and len(seen) < PAGES_PER_USER + len(seeds):
        path, is_seed = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path, HTTP_HOST=host)
        where = f"{host}{path}"
        if is_seed:
            assert response.status_code == 200, (where, response.status_code)
        if response.status_code >= 500:
            problems.setdefault(where, []).append(f"status {response.status_code}")
            continue
        html = "text/html" in response.headers.get("Content-Type", "")
        if not html and response.headers.get("Content-Security-Policy") == "sandbox":
            continue  # a stored document, served so that it can run nothing (desk.views)
        assert_browser_headers(response, where)
        if not html or response.streaming:
            continue
        found = inline_code(response.content.decode())
        if found.found:
            problems[where] = found.found
        for href in found.links:
            target = urlsplit(urljoin(f"http://{host}{path}", href))
            if target.netloc == host and not target.path.startswith(NOT_FOLLOWED):
                queue.append((target.path + (f"?{target.query}" if target.query else ""), False))
    return problems


def stylesheet_links(html: str) -> list[str]:
    class Stylesheets(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.hrefs: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            values = dict(attrs)
            if tag == "link" and values.get("rel") == "stylesheet":
                self.hrefs.append(str(values.get("href")))

    parser = Stylesheets()
    parser.feed(html)
    return parser.hrefs


@pytest.fixture
def site(commune: Any, citizen: Any) -> dict[str, Any]:
    """An agency with a dossier, usage and an invoice; its citizen, staff and the provider."""
    today = timezone.localdate()
    this_month = today.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    started = (last_month - dt.timedelta(days=1)).replace(day=1)
    plan_create(
        code="xa", name="Xã tiêu chuẩn", agency_kind="commune", monthly_fee=1_500_000,
        rates=[RateInput(metric=Metric.DOSSIER_RECEIVED, included=Decimal(5), unit_price=2_000)],
        effective_from=started - dt.timedelta(days=400), is_default=True,
    )  # fmt: skip
    payer = billing_account_create(
        name="UBND TP Hải Phòng", tax_code="0200000002", address="Hải Phòng", email="kt@example.vn"
    )
    subscription_start(agency=commune, billing_account=payer, starts_on=started)
    with transaction.atomic():
        for i in range(8):
            usage_record(agency=commune, metric=Metric.DOSSIER_RECEIVED,
                         occurred_at=timezone.now(), idempotency_key=f"csp-{i}")  # fmt: skip
    billing_month_close(period_start=last_month)
    with agency_context(commune):
        dossier = dossier_submit(
            agency=commune,
            procedure=AgencyProcedure.objects.get(code="S-HT-001"),
            applicant=Applicant.from_user(citizen),
            form_data=BIRTH,
            files={0: [pdf()], 1: [pdf()]},
        ).dossier
    staff = User.objects.create_user("canbo@anbinh.gov.vn", "mat-khau-can-bo-2026")
    membership_grant(user=staff, agency=commune, roles=["admin", "officer", "receptionist"])
    provider = User.objects.create_user(
        "nhanvien@motcua.vn", "mat-khau-nha-cung-cap", is_staff=True, is_superuser=True
    )
    return {
        "dossier": dossier,
        "invoice": Invoice.objects.filter(billing_account=payer).first(),
        "staff": staff,
        "provider": provider,
    }


@pytest.mark.django_db
def test_every_page_has_the_headers_and_no_inline_code(site: Any, citizen: Any) -> None:
    dossier = site["dossier"]
    problems: dict[str, list[str]] = {}

    anonymous = Client()
    problems |= visit(
        anonymous,
        HOST,
        [
            "/",
            "/thu-tuc/",
            "/thu-tuc/S-HT-001/",
            "/tra-cuu/",
            f"/tra-cuu/?ma={dossier.code}&bi-mat={dossier.lookup_secret}",
            "/minh-bach/",
            "/accounts/login/",
            "/accounts/signup/",
            "/accounts/password/reset/",
            "/api/v1/docs/",
        ],
    )
    problems |= visit(anonymous, PUBLIC, ["/", "/dang-ky/", "/accounts/login/"])

    as_citizen = Client()
    as_citizen.force_login(citizen)
    problems |= visit(
        as_citizen,
        HOST,
        [
            "/thu-tuc/S-HT-001/nop/",
            "/ho-so-cua-toi/",
            f"/ho-so-cua-toi/{dossier.code}/",
            f"/ho-so/{dossier.code}/bien-nhan/",
            "/tai-khoan/",
        ],
    )

    as_staff = mfa_login(Client(HTTP_HOST=HOST), site["staff"])
    problems |= visit(
        as_staff,
        HOST,
        [
            "/mot-cua/",
            f"/mot-cua/ho-so/{dossier.code}/",
            "/mot-cua/tiep-nhan/",
            "/quan-tri/",
            "/quan-tri/giao-dien/",
            "/quan-tri/thu-tuc/",
            "/quan-tri/thanh-toan/",
            f"/quan-tri/thanh-toan/hoa-don/{site['invoice'].pk}/",  # with its VietQR
            "/quan-tri/thong-ke/",
            "/quan-tri/nhan-su/",
            "/quan-tri/khoa-api/",
        ],
    )

    as_provider = mfa_login(Client(HTTP_HOST=PUBLIC), site["provider"])
    problems |= visit(
        as_provider,
        PUBLIC,
        [
            "/console/agencies/",
            "/console/onboarding/",
            "/console/billing/",
            f"/console/billing/invoices/{site['invoice'].pk}/",
            "/console/billing/sao-ke/",
            "/console/thong-ke/",
            "/admin/",
            "/admin/accounts/user/",
            f"/admin/accounts/user/{site['provider'].pk}/change/",
            "/admin/tenants/agency/",
        ],
    )
    report = "\n".join(f"{page}: {'; '.join(items)}" for page, items in problems.items())
    assert not problems, "\n" + report


@pytest.mark.django_db
def test_error_pages_and_unknown_hosts_have_the_headers_too(commune: Any) -> None:
    for host, path in ((HOST, "/khong-co-trang-nay/"), ("khong-co.localhost", "/")):
        response = Client().get(path, HTTP_HOST=host)
        assert response.status_code == 404
        assert_browser_headers(response, f"{host}{path}")
        assert inline_code(response.content.decode()).found == []


@pytest.mark.django_db
def test_the_branding_colours_are_a_stylesheet(commune: Any) -> None:
    page = Client().get("/", HTTP_HOST=HOST).content.decode()
    links = [h for h in stylesheet_links(page) if h.startswith("/giao-dien.css?v=")]
    assert len(links) == 1
    css = Client().get(links[0], HTTP_HOST=HOST)
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css")
    assert css.content.decode().startswith(":root{--brand:#")
    assert "immutable" in css["Cache-Control"]
    stale = Client().get("/giao-dien.css?v=000000ffffff", HTTP_HOST=HOST)
    assert stale["Cache-Control"] == "no-cache"


def test_check_deploy_with_production_settings_is_clean() -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "SENTRY_", "FILES_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        # check --deploy connects to neither server: nothing listens at these.
        DATABASE_URL="postgresql://motcua:unused@127.0.0.1:9/motcua",
        REDIS_URL="redis://127.0.0.1:9/0",
        FILES_S3_BUCKET="motcua-files",
        DJANGO_SECRET_KEY="a-long-random-production-like-key-" + "x7Qp2" * 10,
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output, output


def test_the_checker_sees_what_the_policy_would_block() -> None:
    html = """<style>:root{--brand:#b3261e}</style><script>go()</script>
    <script type="application/json">{"ok": 1}</script><script src="/static/js/app.js"></script>
    <span style="width:40%"></span><button onclick="window.print()">x</button>
    <a href="javascript:void(0)">y</a><details open><summary>z</summary></details>"""
    found = inline_code(html).found
    assert [item.split(" ")[0] for item in found] == [
        "<style>", "inline", 'style="width:40%"', "onclick=", "javascript:",
    ]  # fmt: skip
