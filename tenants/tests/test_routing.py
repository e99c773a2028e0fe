"""Hostname routing: agency pages, public site, unknown hosts, cache and its invalidation."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tenants import services
from tenants.db import connection
from tenants.models import AgencyStatus
from tenants.routing import router


def host_of(slug: str) -> str:
    return f"{slug}.{settings.PLATFORM_BASE_DOMAIN}"


@pytest.mark.django_db
def test_each_agency_host_serves_that_agency(agency_a, agency_b) -> None:
    client = Client()
    a = client.get("/", HTTP_HOST=host_of("phuong-a"))
    b = client.get("/", HTTP_HOST=host_of("phuong-b"))
    assert a.status_code == b.status_code == 200
    assert "Phường A" in a.text and "Phường B" not in a.text
    assert "Phường B" in b.text and "Phường A" not in b.text
    health = client.get("/health/", HTTP_HOST=host_of("phuong-b")).json()
    assert health["schema"] == "phuong_b"


@pytest.mark.django_db
def test_public_host_serves_the_landing_page(agency_a) -> None:
    response = Client().get("/", HTTP_HOST="localhost")
    assert response.status_code == 200
    assert "Phường A" in response.text  # listed in the directory of live agencies
    assert connection.schema_name == "public"


@pytest.mark.django_db
def test_unknown_host_gets_a_clear_404_page() -> None:
    response = Client().get("/", HTTP_HOST="khong-ton-tai.localhost")
    assert response.status_code == 404
    assert "khong-ton-tai.localhost" in response.text
    assert "Traceback" not in response.text
    assert "<html" in response.text


@pytest.mark.django_db
def test_malformed_host_header_is_a_400() -> None:
    response = Client().get("/", HTTP_HOST="bad host!")
    assert response.status_code == 400


@pytest.mark.django_db
def test_an_agency_still_provisioning_is_not_served(make_agency) -> None:
    make_agency("xa-chua-xong", provision=False)
    response = Client().get("/", HTTP_HOST=host_of("xa-chua-xong"))
    assert response.status_code == 404
    assert "Xã Thử Nghiệm" in response.text  # the page names the agency, says it is not open


@pytest.mark.django_db
def test_warm_routing_costs_no_database_query(agency_a) -> None:
    """The health page runs exactly one query of its own (SELECT 1); routing adds none."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.get("/health/", HTTP_HOST=host_of("phuong-a"))  # warm the caches
    for fresh_process in (False, True):
        if fresh_process:
            router.clear_local()  # the shared cache still answers: no query either
        with CaptureQueriesContext(db) as queries:
            response = client.get("/health/", HTTP_HOST=host_of("phuong-a"))
        assert response.status_code == 200
        statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SET ")]
        assert statements == ["SELECT 1"]


@pytest.mark.django_db
def test_domain_changes_take_effect_at_once(agency_a, django_capture_on_commit_callbacks) -> None:
    client = Client()
    assert client.get("/", HTTP_HOST="dichvucong.phuong-a.gov.vn").status_code == 404  # cached miss
    with django_capture_on_commit_callbacks(execute=True):
        services.domain_add(agency=agency_a, hostname="dichvucong.phuong-a.gov.vn")
    response = client.get("/", HTTP_HOST="dichvucong.phuong-a.gov.vn")
    assert response.status_code == 200 and "Phường A" in response.text
    with django_capture_on_commit_callbacks(execute=True):
        services.domain_remove(agency=agency_a, hostname="dichvucong.phuong-a.gov.vn")
    assert client.get("/", HTTP_HOST="dichvucong.phuong-a.gov.vn").status_code == 404


@pytest.mark.django_db
def test_status_changes_reach_routing(agency_a, django_capture_on_commit_callbacks) -> None:
    client = Client()
    assert client.get("/", HTTP_HOST=host_of("phuong-a")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        services.agency_set_status(agency=agency_a, status=AgencyStatus.SUSPENDED)
    suspended = client.get("/", HTTP_HOST=host_of("phuong-a"))
    assert suspended.status_code == 200  # citizens can still reach it to track dossiers
    assert "status-suspended" in suspended.text
    with django_capture_on_commit_callbacks(execute=True):
        services.agency_set_status(agency=agency_a, status=AgencyStatus.OFFBOARDED)
    assert client.get("/", HTTP_HOST=host_of("phuong-a")).status_code == 404


@pytest.mark.django_db
def test_a_session_is_not_accepted_on_another_agencys_host(agency_a, agency_b) -> None:
    from accounts.models import User

    user = User.objects.create_user("dan@example.vn", "mat-khau-dai-123")
    client = Client()
    client.force_login(user)
    # force_login binds nothing yet; a real request on A's host binds the session to A
    page_a = client.get("/", HTTP_HOST=host_of("phuong-a"))
    assert "dan@example.vn" in page_a.text
    page_b = client.get("/", HTTP_HOST=host_of("phuong-b"))  # same cookie, carried by hand
    assert "dan@example.vn" not in page_b.text


@pytest.mark.django_db
def test_the_middleware_never_mutates_the_cached_agency(agency_a) -> None:
    """Each request gets its own Agency copy: the cached one is shared by every thread."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from tenants.routing import AgencyRoutingMiddleware

    services.domain_add(agency=agency_a, hostname="motcua.phuonga.gov.vn")
    seen = []

    def view(request):
        seen.append(request.agency)
        request.agency.name = "changed by a view"
        return HttpResponse("ok")

    middleware = AgencyRoutingMiddleware(view)
    factory = RequestFactory()
    for host in (host_of("phuong-a"), "motcua.phuonga.gov.vn", host_of("phuong-a")):
        assert middleware(factory.get("/", HTTP_HOST=host)).status_code == 200
    cached = router.resolve(host_of("phuong-a")).agency
    assert cached is not None
    assert all(agency is not cached for agency in seen)
    assert cached.name == "Phường A"
    assert not getattr(cached, "domain_url", None)
    assert [a.domain_url for a in seen] == [
        host_of("phuong-a"),
        "motcua.phuonga.gov.vn",
        host_of("phuong-a"),
    ]
