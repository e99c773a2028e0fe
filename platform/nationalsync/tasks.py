"""Celery tasks of the national-portal sync: thin."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from nationalsync.services import SyncFailed, backoff, sync_push, sync_push_due


@shared_task(name="nationalsync.tasks.sync_push_one", bind=True, acks_late=True, max_retries=7)
def sync_push_one(self: Any, outbox_id: int) -> str:
    try:
        return sync_push(outbox_id=outbox_id)
    except SyncFailed as exc:
        raise self.retry(countdown=backoff(self.request.retries + 1).total_seconds()) from exc


@shared_task(name="nationalsync.tasks.sync_push_due", acks_late=True)
def sync_push_due_task() -> dict[str, int]:
    return sync_push_due()
