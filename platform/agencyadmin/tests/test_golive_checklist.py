"""The go-live checklist on the agency admin's dashboard: each item done or to do, with a link
to the page that fixes it; counted for the admin's own agency only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from accounts.services import membership_grant
from portal.branding import branding_update
from tenants.context import agency_context


def items(html: str) -> dict[str, tuple[str, str]]:
    """``{key: (ok flag, fix link)}`` of the checklist rows on the page."""
    rows = re.findall(
        r'<li class="card" data-checklist="(\w+)" data-ok="([01])">(.*?)</li>', html, re.S
    )
    result = {}
    for key, ok, body in rows:
        link = re.search(r'<a href="([^"]+)"', body)
        result[key] = (ok, link.group(1) if link else "")
    return result


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_the_dashboard_shows_each_item_with_a_link_to_fix_it(admin_client: Client) -> None:
    html = admin_client.get("/quan-tri/").content.decode()
    assert "Go-live checklist" in html
    assert items(html) == {
        "branding": ("0", "/quan-tri/giao-dien/"),
        "admin": ("1", "/quan-tri/nhan-su/"),
        "admin_mfa": ("1", "/accounts/2fa/"),
        "staff": ("0", "/quan-tri/nhan-su/"),
        "procedures": ("1", "/quan-tri/thu-tuc/"),
        "billing": ("0", "/quan-tri/thanh-toan/"),
    }
    assert "Fix this" in html


@pytest.mark.django_db
def test_items_turn_done_as_the_agency_fixes_them(admin_client: Client, commune: Any) -> None:
    with agency_context(commune):
        branding_update(display_name="UBND Xã An Bình")
    officer = User.objects.create_user("canbo@anbinh.gov.vn", "mat-khau-can-bo-1")
    membership_grant(user=officer, agency=commune, roles=["officer"])
    checklist = items(admin_client.get("/quan-tri/").content.decode())
    assert checklist["branding"][0] == "1"
    assert checklist["staff"][0] == "1"


@pytest.mark.django_db
def test_another_agencys_staff_and_branding_do_not_count(
    admin_client: Client, commune: Any, make_agency: Any
) -> None:
    other = make_agency("xa-khac", name="Xã Khác")
    with agency_context(other):
        branding_update(display_name="UBND Xã Khác")
    officer = User.objects.create_user("canbo@xakhac.gov.vn", "mat-khau-can-bo-2")
    membership_grant(user=officer, agency=other, roles=["officer"])
    checklist = items(admin_client.get("/quan-tri/").content.decode())
    assert checklist["branding"][0] == "0"
    assert checklist["staff"][0] == "0"
    # ...and the other agency's admin is not let into this agency's dashboard.
    other_admin = User.objects.create_user("quantri@xakhac.gov.vn", "mat-khau-quan-tri-2")
    membership_grant(user=other_admin, agency=other, roles=["admin"])
    from tests.fixtures.mfa import mfa_login

    client = mfa_login(Client(HTTP_HOST="xa-an-binh.localhost"), other_admin)
    assert client.get("/quan-tri/").status_code == 403
