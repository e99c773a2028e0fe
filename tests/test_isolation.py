"""Isolation probes: agency A's cache entries, files, rows and tasks are never B's."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from audit.models import AuditEntry
from audit.services import audit_record
from tenants.context import agency_context


@pytest.mark.django_db
def test_cache_entries_are_per_agency(agency_a, agency_b) -> None:
    with agency_context(agency_a):
        cache.set("worklist:count", "A-value")
    with agency_context(agency_b):
        assert cache.get("worklist:count") is None
        cache.set("worklist:count", "B-value")
    with agency_context(agency_a):
        assert cache.get("worklist:count") == "A-value"
        cache.delete("worklist:count")
    with agency_context(agency_b):
        assert cache.get("worklist:count") == "B-value"


@pytest.mark.django_db
def test_files_are_stored_per_agency(agency_a, agency_b) -> None:
    with agency_context(agency_a):
        name = default_storage.save("dossiers/giay-to.pdf", ContentFile(b"%PDF-1.4 A only"))
        path_a = Path(default_storage.path(name))
    try:
        assert path_a.is_relative_to(Path(settings.MEDIA_ROOT) / "phuong_a")
        with agency_context(agency_b):
            assert not default_storage.exists(name)
            assert not Path(default_storage.path(name)).exists()
            with pytest.raises(FileNotFoundError):
                default_storage.open(name).read()
    finally:
        path_a.unlink(missing_ok=True)


@pytest.mark.django_db
def test_rows_are_per_agency(agency_a, agency_b) -> None:
    with agency_context(agency_a):
        audit_record(action="procedure.published", target="S-HT-001")
        assert AuditEntry.objects.count() == 1
    with agency_context(agency_b):
        assert AuditEntry.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_tasks_run_in_the_schema_they_were_sent_from(worker, make_agency) -> None:
    from audit.tasks import record

    a = make_agency("phuong-a", name="Phường A")
    b = make_agency("phuong-b", name="Phường B")
    with agency_context(a):
        result = record.delay("dossier.received", "HP-A-0001", {"by": "task"})
    result.get(timeout=30)
    deadline = time.monotonic() + 10
    with agency_context(a):
        while not AuditEntry.objects.filter(target="HP-A-0001").exists():
            assert time.monotonic() < deadline
            time.sleep(0.1)
    with agency_context(b):
        assert not AuditEntry.objects.exists()
