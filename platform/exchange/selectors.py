"""Reading inter-agency transfers. Every read names the agency asking: an agency sees
the transfers it sent and the ones sent to it, nothing else."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from catalog.models import CatalogVersion
from dossiers.models import Dossier
from exchange.models import OPEN_STATES, Exchange
from tenants.models import Agency, AgencyStatus


def exchange_receivers(*, sender: Agency, dossier: Dossier) -> QuerySet[Agency]:
    """The agencies this dossier may be transferred to: active, not the sender, and of a
    kind the procedure names (``transfer_to_kinds``; any kind when it names none)."""
    kinds = transfer_kinds(dossier)
    agencies = Agency.objects.filter(status=AgencyStatus.ACTIVE).exclude(pk=sender.pk)
    if kinds:
        agencies = agencies.filter(kind__in=kinds)
    return agencies.order_by("name", "pk")


def transfer_kinds(dossier: Dossier) -> tuple[str, ...]:
    """The agency kinds the dossier's procedure transfers to: from its pinned version, else
    from the national catalog version that version follows (an agency's published
    configuration does not carry them)."""
    version = dossier.procedure_version
    if version.spec.transfer_to_kinds:
        return version.spec.transfer_to_kinds
    catalog = CatalogVersion.objects.filter(
        procedure_id=dossier.procedure.catalog_procedure_id, number=version.catalog_version
    ).first()
    return catalog.spec.transfer_to_kinds if catalog is not None else ()


def _open_first(exchanges: QuerySet[Exchange]) -> QuerySet[Exchange]:
    return exchanges.annotate(
        closed=Case(
            When(state__in=OPEN_STATES, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("closed", "-sent_at", "-id")


def exchange_inbox(*, agency: Agency) -> QuerySet[Exchange]:
    """Transfers sent to the agency, those still to do first."""
    return _open_first(Exchange.objects.filter(receiver=agency).select_related("sender"))


def exchange_outbox(*, agency: Agency) -> QuerySet[Exchange]:
    """Transfers the agency sent, those still out first."""
    return _open_first(Exchange.objects.filter(sender=agency).select_related("receiver"))


def exchange_for_agency(*, agency: Agency, pk: int) -> Exchange | None:
    """One transfer, if the agency sent or received it."""
    return (
        Exchange.objects.filter(Q(sender=agency) | Q(receiver=agency), pk=pk)
        .select_related("sender", "receiver", "owner")
        .first()
    )


def exchanges_of_dossier(*, agency: Agency, dossier: Dossier) -> QuerySet[Exchange]:
    """The transfers of one of the agency's own dossiers."""
    return Exchange.objects.filter(
        sender=agency, dossier_id=dossier.pk, dossier_code=dossier.code
    ).select_related("receiver")
