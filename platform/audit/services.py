"""Write audit entries in the current agency's schema."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

from audit.labels import DOCUMENT_VIEWED, VIEWED
from audit.models import AuditEntry
from tenants.db import connection

logger = logging.getLogger(__name__)


def audit_record(*, action: str, actor: Any = None, target: str = "", **detail: Any) -> AuditEntry:
    """Append an entry to the trail of the agency whose schema is active."""
    if connection.schema_name == "public":
        raise RuntimeError("audit_record needs an agency schema to be active")
    actor_id = getattr(actor, "pk", None)
    return AuditEntry.objects.create(
        actor_id=actor_id, action=action, target=target[:200], detail=detail
    )


# Who opened what, once per person, dossier and document in this window: an officer going
# back and forth between the worklist and a dossier is one visit, not fifty rows.
VIEW_DEDUPE_SECONDS = 600


def dossier_view_record(*, dossier_code: str, actor: Any, document: Any = None) -> bool:
    """Record that ``actor`` opened a dossier (its desk page) or one of its documents.

    One INSERT per visit; a repeat within ``VIEW_DEDUPE_SECONDS`` by the same person is not
    recorded again (a tenant-prefixed cache key says so). If the cache is down, every open is
    recorded. Returns whether a row was written.
    """
    actor_id = getattr(actor, "pk", None)
    if actor_id is None:
        return False
    what = f"doc:{document.pk}" if document is not None else "page"
    key = f"audit:viewed:{actor_id}:{dossier_code}:{what}"
    try:
        first = cache.add(key, 1, VIEW_DEDUPE_SECONDS)
    except Exception:  # a cache outage must not hide who opened the dossier
        logger.warning("cache unavailable; recording the dossier view without deduplication")
        first = True
    if not first:
        return False
    if document is None:
        audit_record(action=VIEWED, actor=actor, target=dossier_code)
    else:
        audit_record(
            action=DOCUMENT_VIEWED,
            actor=actor,
            target=dossier_code,
            document=str(getattr(document, "original_name", ""))[:200],
            document_id=document.pk,
        )
    return True
