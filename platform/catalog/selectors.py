"""Read-side queries of the catalog."""

from __future__ import annotations

from django.db.models import QuerySet

from catalog.models import CatalogProcedure, CatalogVersion


def catalog_for_kind(kind: str) -> QuerySet[CatalogProcedure]:
    """Procedures an agency of this kind implements by default."""
    return CatalogProcedure.objects.filter(agency_kinds__contains=[kind]).select_related("sector")


def latest_version(procedure: CatalogProcedure) -> CatalogVersion:
    return procedure.versions.order_by("-number")[0]
