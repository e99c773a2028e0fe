"""Work deferred to after the commit runs in the agency's schema, wherever the commit happens."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from portal.branding import CACHE_KEY, branding_update, current_branding
from tenants.context import agency_context, on_commit_in_schema
from tenants.db import connection


@pytest.mark.django_db
def test_a_branding_change_committed_from_public_clears_the_agency_cache(
    agency_a: Any, agency_b: Any, django_capture_on_commit_callbacks: Any
) -> None:
    for agency in (agency_a, agency_b):
        with agency_context(agency):
            current_branding()  # cached, per agency
    with django_capture_on_commit_callbacks(execute=True):
        with agency_context(agency_a):
            branding_update(display_name="Phường A — Cổng dịch vụ công")
        assert connection.schema_name == "public"  # the commit happens out here
    with agency_context(agency_a):
        assert cache.get(CACHE_KEY) is None
        assert current_branding().display_name == "Phường A — Cổng dịch vụ công"
    with agency_context(agency_b):
        assert cache.get(CACHE_KEY) is not None  # the neighbour's entry is untouched


@pytest.mark.django_db
def test_on_commit_in_schema_restores_the_schema_after_running(
    agency_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    seen: list[str] = []
    with django_capture_on_commit_callbacks(execute=True), agency_context(agency_a):
        on_commit_in_schema(lambda: seen.append(connection.schema_name))
    assert seen == [agency_a.schema_name]
    assert connection.schema_name == "public"
