"""Read-side queries about agencies (public schema)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from tenants.models import Agency, AgencyStatus, Domain


def agency_list(
    *,
    province_code: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    search: str = "",
) -> QuerySet[Agency]:
    qs = Agency.objects.select_related("parent")
    if province_code:
        qs = qs.filter(province_code=province_code)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    return qs


def agency_counts_by_status() -> dict[str, int]:
    rows = Agency.objects.values("status").annotate(n=Count("id"))
    counts = {status: 0 for status in AgencyStatus.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def agency_primary_hostname(agency: Agency) -> str | None:
    domain = Domain.objects.filter(tenant=agency, is_primary=True).first()
    return domain.domain if domain else None
