"""National-portal sync: enqueue a dossier's status change, push it, record the answer.

``sync_enqueue`` runs inside the transaction that writes the event (called by the dossier
lifecycle's effects, ``lifecycle.effects.event_recorded``) and asks
for a push once it commits; ``sync_push`` sends one row with its idempotency key (so a row
sent twice is stored once by the portal) and records the acknowledgement, or the error and
when to try again (exponential backoff); after ``MAX_ATTEMPTS`` the row is marked failed and
shows in the reconciliation report until someone requeues it.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from dossiers.models import Dossier
from nationalsync.models import OutboxStatus, PortalOutbox
from tenants.context import agency_context
from tenants.db import connection
from tenants.models import Agency

MAX_ATTEMPTS = 8
MAX_DELAY = dt.timedelta(hours=1)
TIMEOUT = 10
EVENTS_PATH = "/v1/status-events"
FAILURE_FIELDS = ["attempts", "last_error", "next_attempt_at", "status"]
SUCCESS_FIELDS = ["status", "attempts", "receipt", "acknowledged_at", "last_error"]


class SyncFailed(Exception):
    """The portal did not acknowledge (it is tried again later)."""


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, … (``NATIONAL_PORTAL_RETRY_SECONDS`` doubled) up to an hour,
    after the ``attempts``-th failure."""
    base = dt.timedelta(seconds=settings.NATIONAL_PORTAL_RETRY_SECONDS)
    delay: dt.timedelta = base * 2 ** max(attempts - 1, 0)
    return min(delay, MAX_DELAY)


def _active_agency() -> Agency:
    agency = connection.tenant
    if not isinstance(agency, Agency) or agency.schema_name == get_public_schema_name():
        raise RuntimeError("dossier events are written with the agency's schema active")
    return agency


def sync_enqueue(*, event: Any) -> PortalOutbox:
    """The outbox row of a status change, in the caller's transaction. No personal data is
    sent: the dossier and procedure codes (added when sent: a new dossier gets its code after
    its first event), the statuses and the time. One INSERT."""
    agency = _active_agency()
    payload = {
        "key": f"{agency.schema_name}:{event.pk}",
        "agency": agency.slug,
        "province": agency.province_code,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "at": event.at.isoformat(),
    }
    row = PortalOutbox.objects.create(
        agency=agency,
        event_id=event.pk,
        key=payload["key"],
        dossier_id=event.dossier_id,
        payload=payload,
        next_attempt_at=timezone.now(),
    )
    if settings.NATIONAL_PORTAL_URL:
        transaction.on_commit(lambda: _schedule(row.pk))
    return row


def _schedule(outbox_id: int) -> None:
    from nationalsync.tasks import sync_push_one

    sync_push_one.delay(outbox_id)


def _post(payload: dict[str, Any], key: str) -> dict[str, Any]:
    base = settings.NATIONAL_PORTAL_URL.rstrip("/")
    if not base:
        raise SyncFailed("NATIONAL_PORTAL_URL is not configured")
    request = urllib.request.Request(  # noqa: S310 - the URL comes from our settings
        f"{base}{EVENTS_PATH}",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {settings.NATIONAL_PORTAL_TOKEN}",
            "Idempotency-Key": key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            body = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode(errors="replace")
        raise SyncFailed(f"portal {exc.code}: {detail}") from exc
    except (OSError, ValueError) as exc:
        raise SyncFailed(f"portal: {exc}") from exc
    if not isinstance(body, dict) or body.get("status") != "acknowledged":
        raise SyncFailed(f"portal did not acknowledge: {str(body)[:300]}")
    return body


AGENCY_MERGED = "agency_merged"
AGENCY_SPLIT = "agency_split"
REORGANISATIONS = (AGENCY_MERGED, AGENCY_SPLIT)  # rows about an agency, not one dossier


def sync_agency_merged(
    *, merge_id: int, source: Agency, target: Agency, effective_on: dt.date
) -> PortalOutbox:
    """Tell the national portal an agency merged into another from a date (reorg). Once per
    merge and source (a re-run finds the row). In the caller's transaction."""
    key = f"merge:{merge_id}:{source.schema_name}"[:80]
    payload = {
        "key": key,
        "agency": source.slug,
        "province": source.province_code,
        "action": AGENCY_MERGED,
        "into": target.slug,
        "into_province": target.province_code,
        "effective_on": effective_on.isoformat(),
        "at": timezone.now().isoformat(),
    }
    row, created = PortalOutbox.objects.get_or_create(
        key=key,
        defaults={
            "agency": source,
            "event_id": -merge_id,
            "dossier_id": 0,
            "payload": payload,
            "next_attempt_at": timezone.now(),
        },
    )
    if created and settings.NATIONAL_PORTAL_URL:
        transaction.on_commit(lambda: _schedule(row.pk))
    return row


def sync_agency_split(
    *,
    split_id: int,
    source: Agency,
    target: Agency,
    effective_on: dt.date,
    procedures: list[str],
) -> PortalOutbox:
    """Tell the national portal that procedures of an agency (with their dossiers) moved to
    another from a date (reorg split). Once per split; in the caller's transaction."""
    key = f"split:{split_id}:{source.schema_name}"[:80]
    payload = {
        "key": key,
        "agency": source.slug,
        "province": source.province_code,
        "action": AGENCY_SPLIT,
        "into": target.slug,
        "into_province": target.province_code,
        "procedures": sorted(procedures),
        "effective_on": effective_on.isoformat(),
        "at": timezone.now().isoformat(),
    }
    row, created = PortalOutbox.objects.get_or_create(
        key=key,
        defaults={
            "agency": source,
            "event_id": -1_000_000 - split_id,
            "dossier_id": 0,
            "payload": payload,
            "next_attempt_at": timezone.now(),
        },
    )
    if created and settings.NATIONAL_PORTAL_URL:
        transaction.on_commit(lambda: _schedule(row.pk))
    return row


def sync_push(*, outbox_id: int) -> str:
    """Send one row; ``acknowledged``, ``already`` (done before), ``busy`` (another worker
    holds it) or raises ``SyncFailed`` after recording the failure."""
    with transaction.atomic():
        row = PortalOutbox.objects.select_for_update(skip_locked=True).filter(pk=outbox_id).first()
        if row is None:
            return "busy"
        if row.status == OutboxStatus.ACKNOWLEDGED:
            return "already"
        extra: dict[str, Any] = {}
        code = ""
        if row.payload.get("action") not in REORGANISATIONS:  # these concern no one dossier
            with agency_context(row.agency):
                code, procedure = Dossier.objects.values_list("code", "procedure__code").get(
                    pk=row.dossier_id
                )
            extra = {"dossier": code, "procedure": procedure}
        row.dossier_code = code
        try:
            body = _post({**row.payload, **extra}, row.key)
        except SyncFailed as exc:
            row.attempts += 1
            row.last_error = str(exc)[:1000]
            row.next_attempt_at = timezone.now() + backoff(row.attempts)
            if row.attempts >= MAX_ATTEMPTS:
                row.status = OutboxStatus.FAILED
            row.save(update_fields=[*FAILURE_FIELDS, "dossier_code"])
            failure = exc
        else:
            row.status = OutboxStatus.ACKNOWLEDGED
            row.attempts += 1
            row.receipt = str(body.get("receipt", ""))[:100]
            row.acknowledged_at = timezone.now()
            row.last_error = ""
            row.save(update_fields=[*SUCCESS_FIELDS, "dossier_code"])
            return "acknowledged"
    raise failure


def sync_push_due(*, limit: int = 500) -> dict[str, int]:
    """Push the pending rows whose next attempt is due (the periodic sweep behind the
    per-row tasks: it also catches rows whose task was lost)."""
    due = PortalOutbox.objects.filter(
        status=OutboxStatus.PENDING, next_attempt_at__lte=timezone.now()
    ).order_by("next_attempt_at", "pk")
    counts = {"acknowledged": 0, "failed": 0, "skipped": 0}
    for pk in list(due.values_list("pk", flat=True)[:limit]):
        try:
            result = sync_push(outbox_id=pk)
        except SyncFailed:
            counts["failed"] += 1
        else:
            counts["acknowledged" if result == "acknowledged" else "skipped"] += 1
    return counts


def sync_requeue_failed(*, agency: Agency | None = None) -> int:
    """Give failed rows a fresh set of attempts (after the portal is fixed)."""
    rows = PortalOutbox.objects.filter(status=OutboxStatus.FAILED)
    if agency is not None:
        rows = rows.filter(agency=agency)
    return rows.update(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=timezone.now())


def portal_acknowledged_keys() -> set[str]:
    """The keys the portal says it holds (its listing endpoint)."""
    base = settings.NATIONAL_PORTAL_URL.rstrip("/")
    if not base:
        raise SyncFailed("NATIONAL_PORTAL_URL is not configured")
    request = urllib.request.Request(  # noqa: S310 - the URL comes from our settings
        f"{base}{EVENTS_PATH}",
        headers={"Authorization": f"Bearer {settings.NATIONAL_PORTAL_TOKEN}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            body = json.loads(response.read() or b"{}")
    except (OSError, ValueError) as exc:
        raise SyncFailed(f"portal: {exc}") from exc
    return {str(k) for k in body.get("keys", [])}
