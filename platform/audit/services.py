"""Write audit entries in the current agency's schema."""

from __future__ import annotations

from typing import Any

from audit.models import AuditEntry
from tenants.db import connection


def audit_record(*, action: str, actor: Any = None, target: str = "", **detail: Any) -> AuditEntry:
    """Append an entry to the trail of the agency whose schema is active."""
    if connection.schema_name == "public":
        raise RuntimeError("audit_record needs an agency schema to be active")
    actor_id = getattr(actor, "pk", None)
    return AuditEntry.objects.create(
        actor_id=actor_id, action=action, target=target[:200], detail=detail
    )
