"""API keys: issued by the agency's admin (page and command), hashed, revocable, audited."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import Membership, User
from api.models import ApiKey
from api.services import api_key_authenticate, api_key_issue
from api.tests.conftest import HOST, api_client
from audit.models import AuditEntry
from tenants.context import agency_context
from tests.fixtures.mfa import mfa_login


def staff(agency, roles) -> Client:
    user = User.objects.create_user(f"{'-'.join(roles) or 'none'}@example.vn", "mat-khau-dai-1")
    Membership.objects.create(user=user, agency=agency, roles=roles)
    client = Client(HTTP_HOST=HOST)
    mfa_login(client, user)
    return client


@pytest.mark.django_db
def test_only_the_agencys_admin_manages_keys(commune, citizen) -> None:
    anonymous = Client(HTTP_HOST=HOST).get("/quan-tri/khoa-api/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    signed_in = Client(HTTP_HOST=HOST)
    signed_in.force_login(citizen)
    assert signed_in.get("/quan-tri/khoa-api/").status_code == 403
    assert staff(commune, ["officer"]).get("/quan-tri/khoa-api/").status_code == 403
    admin = staff(commune, ["admin"])
    page = admin.get("/quan-tri/khoa-api/")
    assert page.status_code == 200 and "procedures:read" in page.text
    issued = admin.post(
        "/quan-tri/khoa-api/",
        {"name": "Cổng DVCQG", "scopes": ["inbound"], "rate_limit_per_minute": 600},
    )
    assert issued.status_code == 200 and issued["Cache-Control"] == "no-store"
    secret = re.search(r"mc_[0-9a-f]{12}_[A-Za-z0-9_\-]+", issued.text).group(0)
    with agency_context(commune):
        key = ApiKey.objects.get()
        assert key.scopes == ["inbound"] and key.secret_hash != secret
        assert secret not in str(ApiKey.objects.values().get())  # only its digest is kept
        assert AuditEntry.objects.filter(action="api_key.issued").count() == 1
    # Shown once: the list shows the prefix only.
    listing = admin.get("/quan-tri/khoa-api/")
    assert secret not in listing.text and f"mc_{key.prefix}_" in listing.text
    invalid = admin.post("/quan-tri/khoa-api/", {"name": "", "rate_limit_per_minute": 1})
    assert invalid.status_code == 400
    # Admin of another agency: no access here.
    assert api_client(secret).get("/api/v1/procedures").status_code == 403  # inbound only
    revoked = admin.post(f"/quan-tri/khoa-api/{key.pk}/thu-hoi/")
    assert revoked.status_code == 302
    assert api_client(secret).get("/api/v1/procedures").status_code == 401
    with agency_context(commune):
        key.refresh_from_db()
        assert key.revoked_at is not None
        assert AuditEntry.objects.filter(action="api_key.revoked").count() == 1


@pytest.mark.django_db
def test_an_admin_of_another_agency_cannot_manage_these_keys(commune, make_agency) -> None:
    other = make_agency("xa-khac", name="Xã Khác")
    outsider = staff(other, ["admin"])
    outsider.defaults["HTTP_HOST"] = HOST
    assert outsider.get("/quan-tri/khoa-api/").status_code == 403
    with agency_context(commune):
        key = api_key_issue(name="A", scopes=["inbound"]).api_key
    assert outsider.post(f"/quan-tri/khoa-api/{key.pk}/thu-hoi/").status_code == 403


@pytest.mark.django_db
def test_issue_refuses_bad_input_and_records_last_use(commune) -> None:
    from django.core.exceptions import ValidationError

    with agency_context(commune):
        with pytest.raises(ValidationError) as exc:
            api_key_issue(name=" ", scopes=["everything"])
        assert set(exc.value.message_dict) == {"name", "scopes"}
        assert not ApiKey.objects.exists()
        issued = api_key_issue(name="Kiosk", scopes=["procedures:read"])
        assert issued.api_key.last_used_at is None
        assert api_key_authenticate(raw=issued.secret).last_used_at is not None


@pytest.mark.django_db
def test_the_management_command_issues_lists_and_revokes(commune) -> None:
    out = StringIO()
    call_command(
        "api_keys", "issue", "--agency", "xa-an-binh", "--name", "DVCQG", "--scope", "inbound",
        stdout=out,
    )  # fmt: skip
    secret = out.getvalue().strip()
    assert secret.startswith("mc_")
    prefix = secret.split("_")[1]
    listing = StringIO()
    call_command("api_keys", "list", "--agency", "xa-an-binh", stdout=listing)
    assert prefix in listing.getvalue() and "active" in listing.getvalue()
    call_command("api_keys", "revoke", "--agency", "xa-an-binh", "--prefix", prefix, stdout=out)
    with agency_context(commune):
        assert ApiKey.objects.get(prefix=prefix).revoked_at is not None
