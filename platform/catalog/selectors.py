"""Read-side queries of the catalog."""

from __future__ import annotations

from django.db.models import QuerySet

from catalog.models import CatalogProcedure, CatalogVersion

# A public administrative service centre receives, at its one-stop desks, the dossiers of the
# provincial departments as well as its own procedures.
KINDS_SERVED = {"service_centre": ["service_centre", "department"]}


def catalog_for_kind(kind: str) -> QuerySet[CatalogProcedure]:
    """Procedures an agency of this kind implements by default."""
    return CatalogProcedure.objects.filter(
        agency_kinds__overlap=KINDS_SERVED.get(kind, [kind])
    ).select_related("sector")


def latest_version(procedure: CatalogProcedure) -> CatalogVersion:
    return procedure.versions.order_by("-number")[0]
