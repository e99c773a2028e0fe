"""Celery task of a merge (public schema): run it, or finish it after a crash."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from reorg import services
from reorg.models import Merge


@shared_task(name="reorg.tasks.merge_run", acks_late=True)
def merge_run(merge_id: int) -> dict[str, Any]:
    """Safe to deliver twice: done steps are skipped, a second run at once is refused."""
    merge = Merge.objects.get(pk=merge_id)
    try:
        merge = services.merge_run(merge)
    except services.MergeBusy:
        return {"merge": merge_id, "status": "busy"}
    return {"merge": merge.pk, "status": merge.status}


@shared_task(name="reorg.tasks.split_run", acks_late=True)
def split_run(split_id: int) -> dict[str, Any]:
    """Safe to deliver twice, as a merge's."""
    from reorg import splits
    from reorg.models import Split

    split = Split.objects.get(pk=split_id)
    try:
        split = splits.split_run(split)
    except services.MergeBusy:
        return {"split": split_id, "status": "busy"}
    return {"split": split.pk, "status": split.status}
