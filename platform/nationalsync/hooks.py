"""Every dossier status change enqueues an outbox row, whichever service wrote the event:
a post_save hook on ``DossierEvent`` (events are append-only and saved one by one), so it
runs inside the writing service's transaction."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

DISPATCH_UID = "nationalsync-dossier-event"


def _on_event_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created and instance.to_status:
        from nationalsync.services import sync_enqueue

        sync_enqueue(event=instance)


def connect() -> None:
    post_save.connect(_on_event_saved, sender="dossiers.DossierEvent", dispatch_uid=DISPATCH_UID)
