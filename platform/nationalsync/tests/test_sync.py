"""National-portal sync against a stateful fake portal on loopback."""

from __future__ import annotations

import datetime as dt
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from accounts.models import User
from dossiers.models import DossierEvent
from nationalsync.models import OutboxStatus, PortalOutbox
from nationalsync.selectors import reconciliation
from nationalsync.services import (
    MAX_ATTEMPTS,
    SyncFailed,
    sync_push,
    sync_push_due,
    sync_requeue_failed,
)
from reports.tests.conftest import other_commune  # noqa: F401 - fixture
from tenants.context import agency_context
from tests.fixtures.mfa import mfa_login


def _status_events() -> int:
    return DossierEvent.objects.exclude(to_status="").count()


@pytest.mark.django_db
def test_each_status_change_enqueues_one_row_in_the_same_transaction(commune, submit) -> None:
    with agency_context(commune):
        dossier = submit(commune)
        assert _status_events() >= 1
        rows = PortalOutbox.objects.filter(agency=commune)
        assert rows.count() == _status_events()
        row = rows.get(event_id=dossier.events.exclude(to_status="").first().pk)
        assert row.dossier_id == dossier.pk
        assert row.payload["to_status"] and row.key == f"{commune.schema_name}:{row.event_id}"
        assert "applicant" not in str(row.payload)  # no personal data leaves
        before = PortalOutbox.objects.count()
        with pytest.raises(RuntimeError), transaction.atomic():
            DossierEvent.objects.create(
                dossier=dossier, at=timezone.now(), action="test", to_status="in_processing"
            )
            raise RuntimeError("rolled back")
        assert PortalOutbox.objects.count() == before
        # Events without a status change are not sent.
        DossierEvent.objects.create(dossier=dossier, at=timezone.now(), action="note")
        assert PortalOutbox.objects.count() == before


@pytest.mark.django_db
def test_push_is_acknowledged_once_even_if_sent_twice(commune, submit, portal) -> None:
    with agency_context(commune):
        submit(commune)
    row = PortalOutbox.objects.filter(agency=commune).first()
    assert row is not None
    assert sync_push(outbox_id=row.pk) == "acknowledged"
    row.refresh_from_db()
    assert row.status == OutboxStatus.ACKNOWLEDGED and row.receipt.startswith("np_")
    assert sync_push(outbox_id=row.pk) == "already"
    # A lost acknowledgement: the row is sent again with the same key, stored once.
    PortalOutbox.objects.filter(pk=row.pk).update(status=OutboxStatus.PENDING)
    assert sync_push(outbox_id=row.pk) == "acknowledged"
    assert portal.posts == 2 and list(portal.events) == [row.key]
    sent = portal.events[row.key]["payload"]
    assert sent["to_status"] == row.payload["to_status"] and sent["dossier"] == row.dossier_code
    assert sent["procedure"] == "S-KD-001"
    assert row.dossier_code.startswith("AB-")


@pytest.mark.django_db
def test_failures_back_off_then_give_up_and_can_be_requeued(commune, submit, portal) -> None:
    with agency_context(commune):
        submit(commune)
    row = PortalOutbox.objects.filter(agency=commune).first()
    assert row is not None
    portal.fail_next(2)
    for attempt, delay in ((1, 30), (2, 60)):
        with pytest.raises(SyncFailed):
            sync_push(outbox_id=row.pk)
        row.refresh_from_db()
        assert row.status == OutboxStatus.PENDING and row.attempts == attempt
        assert "503" in row.last_error
        wait = (row.next_attempt_at - timezone.now()).total_seconds()
        assert delay - 5 < wait <= delay
    # Not due yet: the sweep leaves it; once due, it goes.
    assert sync_push_due() == {"acknowledged": 0, "failed": 0, "skipped": 0}
    PortalOutbox.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    assert sync_push_due()["acknowledged"] == PortalOutbox.objects.count()
    row.refresh_from_db()
    assert row.status == OutboxStatus.ACKNOWLEDGED and row.last_error == ""

    PortalOutbox.objects.filter(pk=row.pk).update(status=OutboxStatus.PENDING, attempts=0)
    portal.fail_next(MAX_ATTEMPTS)
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(SyncFailed):
            sync_push(outbox_id=row.pk)
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and row.attempts == MAX_ATTEMPTS
    assert sync_requeue_failed() == 1
    assert sync_push(outbox_id=row.pk) == "acknowledged"


@pytest.mark.django_db
def test_reconciliation_per_agency_with_missing_failed_and_pending(
    commune,
    other_commune,  # noqa: F811
    submit,
    portal,
) -> None:
    with agency_context(commune):
        submit(commune)
        submit(commune)
    with agency_context(other_commune):
        submit(other_commune)
    ours = list(PortalOutbox.objects.filter(agency=commune).order_by("pk"))
    theirs = list(PortalOutbox.objects.filter(agency=other_commune))
    for row in ours:
        sync_push(outbox_id=row.pk)
    portal.forget(ours[0].key)  # the portal lost one
    PortalOutbox.objects.filter(pk=theirs[0].pk).update(status=OutboxStatus.FAILED)

    report = {r.agency.slug: r for r in reconciliation(portal_keys=set(portal.events))}
    mine, other = report[commune.slug], report[other_commune.slug]
    assert (mine.should_have, mine.acknowledged, mine.pending, mine.failed) == (
        len(ours), len(ours), 0, 0,
    )  # fmt: skip
    assert mine.missing == [ours[0].key] and not mine.in_order
    assert other.failed == 1 and other.pending == len(theirs) - 1 and other.missing == []

    out = StringIO()
    call_command("nationalsync_reconcile", "--verify", stdout=out)
    assert f"missing {ours[0].key}" in out.getvalue()
    assert f"{other_commune.slug}\t{len(theirs)}\t0\t{len(theirs) - 1}\t1\t0" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_console_page_for_provider_staff_only(commune, submit, portal) -> None:
    with agency_context(commune):
        submit(commune)
    assert Client(HTTP_HOST="localhost").get("/console/dong-bo/").status_code == 302
    client = Client(HTTP_HOST="localhost")
    mfa_login(client, User.objects.create_user("staff@motcua.vn", "x", is_staff=True))
    response = client.get("/console/dong-bo/?verify=1")
    assert response.status_code == 200
    assert "National portal sync" in response.text and commune.slug in response.text
    assert "Missing at the portal" in response.text


@pytest.mark.django_db(transaction=True)
def test_the_worker_pushes_after_the_commit_and_retries_a_failure(
    worker, commune, submit, portal
) -> None:
    portal.fail_next(1)
    with transaction.atomic(), agency_context(commune):
        dossier = submit(commune)
    deadline = time.monotonic() + 60
    rows = PortalOutbox.objects.filter(agency=commune)
    while time.monotonic() < deadline:
        if rows.exists() and not rows.exclude(status=OutboxStatus.ACKNOWLEDGED).exists():
            break
        time.sleep(0.3)
    assert set(rows.values_list("status", flat=True)) == {OutboxStatus.ACKNOWLEDGED}
    assert sorted(portal.events) == sorted(rows.values_list("key", flat=True))
    assert {e["payload"]["dossier"] for e in portal.events.values()} == {dossier.code}
    assert max(rows.values_list("attempts", flat=True)) == 2  # one failure, then acknowledged
