"""Read-side queries of an agency's procedures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from catalog.models import CatalogProcedure, CatalogVersion
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


@dataclass(frozen=True)
class AdminProcedureRow:
    procedure: AgencyProcedure
    update_number: int | None  # a newer catalog version, if any
    update_in_effect: bool
    update_effective_from: dt.date | None


def procedures_for_admin() -> list[AdminProcedureRow]:
    """Every adopted procedure with its status and whether the catalog has a newer version.

    Two queries whatever the number of procedures (the catalog lives in the public schema).
    """
    procedures = list(
        AgencyProcedure.objects.select_related("published_version").order_by("sector", "name")
    )
    today = timezone.localdate()
    versions: dict[int, list[tuple[int, dt.date]]] = {}
    for catalog_id, number, effective_from in CatalogVersion.objects.filter(
        procedure_id__in={p.catalog_procedure_id for p in procedures}
    ).values_list("procedure_id", "number", "effective_from"):
        versions.setdefault(catalog_id, []).append((number, effective_from))
    rows = []
    for procedure in procedures:
        newer = [
            v
            for v in versions.get(procedure.catalog_procedure_id, [])
            if v[0] > procedure.catalog_version
        ]
        in_effect = [v for v in newer if v[1] <= today]
        pick = max(in_effect) if in_effect else min(newer, key=lambda v: v[1]) if newer else None
        rows.append(
            AdminProcedureRow(
                procedure=procedure,
                update_number=pick[0] if pick else None,
                update_in_effect=bool(in_effect),
                update_effective_from=pick[1] if pick else None,
            )
        )
    return rows


def catalog_not_adopted(
    *, kind: str, search: str = "", all_kinds: bool = False
) -> QuerySet[CatalogProcedure]:
    """Catalog procedures this agency has not adopted yet: its kind's by default, or a search
    over the whole catalog."""
    adopted = list(AgencyProcedure.objects.values_list("code", flat=True))
    qs = CatalogProcedure.objects.select_related("sector").exclude(code__in=adopted)
    terms = search.strip()
    if terms:
        qs = qs.filter(
            Q(name__unaccent__icontains=terms)
            | Q(name_en__icontains=terms)
            | Q(code__iexact=terms)
            | Q(sector__name__unaccent__icontains=terms)
        )
    elif not all_kinds:
        qs = qs.filter(agency_kinds__contains=[kind])
    return qs.order_by("sector__name", "code")
