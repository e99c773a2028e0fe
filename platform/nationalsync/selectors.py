"""The reconciliation report: what the portal should have (every outbox row: each dossier
status change) against what it acknowledged, per agency. With the portal's own listing, rows
we hold as acknowledged that the portal no longer lists are reported as missing."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from nationalsync.models import OutboxStatus, PortalOutbox
from tenants.models import Agency


@dataclass
class AgencySync:
    agency: Agency
    should_have: int
    acknowledged: int
    pending: int
    failed: int
    missing: list[str] = field(default_factory=list)

    @property
    def in_order(self) -> bool:
        return self.should_have == self.acknowledged and not self.missing


def reconciliation(*, portal_keys: set[str] | None = None) -> list[AgencySync]:
    """One grouped query over the outbox; with ``portal_keys`` one more over the
    acknowledged keys."""
    counts = (
        PortalOutbox.objects.values("agency_id")
        .annotate(
            total=Count("pk"),
            acked=Count("pk", filter=Q(status=OutboxStatus.ACKNOWLEDGED)),
            pending=Count("pk", filter=Q(status=OutboxStatus.PENDING)),
            failed=Count("pk", filter=Q(status=OutboxStatus.FAILED)),
        )
        .order_by()
    )
    rows = {c["agency_id"]: c for c in counts}
    agencies = Agency.objects.only("pk", "slug", "name").in_bulk(list(rows))
    result = {
        pk: AgencySync(agencies[pk], c["total"], c["acked"], c["pending"], c["failed"])
        for pk, c in rows.items()
        if pk in agencies
    }
    if portal_keys is not None:
        acked = PortalOutbox.objects.filter(status=OutboxStatus.ACKNOWLEDGED).values_list(
            "agency_id", "key"
        )
        for agency_id, key in acked.iterator(chunk_size=5000):
            if key not in portal_keys and agency_id in result:
                result[agency_id].missing.append(key)
    return sorted(result.values(), key=lambda s: (s.in_order, s.agency.slug))


def failed_rows(*, limit: int = 50) -> list[PortalOutbox]:
    return list(
        PortalOutbox.objects.filter(status=OutboxStatus.FAILED)
        .select_related("agency")
        .order_by("-next_attempt_at")[:limit]
    )
