"""Read-side queries of an agency's procedures."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from procedures.models import AgencyProcedure


def published_procedures(*, search: str = "", sector: str = "") -> QuerySet[AgencyProcedure]:
    """Published procedures; search ignores Vietnamese diacritics ("dang ky" finds "đăng ký")."""
    qs = AgencyProcedure.objects.filter(is_published=True).select_related("published_version")
    if sector:
        qs = qs.filter(sector=sector)
    terms = search.strip()
    if terms:
        qs = qs.filter(
            Q(name__unaccent__icontains=terms)
            | Q(name_en__icontains=terms)
            | Q(code__iexact=terms)
            | Q(sector__unaccent__icontains=terms)
        )
    return qs.order_by("sector", "name")


def published_sectors() -> list[str]:
    return list(
        AgencyProcedure.objects.filter(is_published=True)
        .order_by("sector")
        .values_list("sector", flat=True)
        .distinct()
    )
