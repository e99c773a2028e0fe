"""Celery tasks of the audit trail."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from audit.services import audit_record


@shared_task(name="audit.tasks.record", acks_late=True)
def record(action: str, target: str = "", detail: dict[str, Any] | None = None) -> int:
    """Append an audit entry in the schema the task was sent from (tenant-schemas-celery)."""
    return audit_record(action=action, target=target, **(detail or {})).pk
