"""Everything a lifecycle action causes outside the dossier, in one visible place.

Called by the actions of ``dossiers.lifecycle`` inside their transaction (so a rolled-back
action leaves none of these behind), never by signals:

- the national-portal outbox: one row per event that changes (or restates) a status;
- the statistics rollups (public schema): the metric of the transition's table row, the
  outcome of a decision, a new dossier;
- the usage ledger (billing): a dossier received, and received online;
- the notifications outbox: the applicant's receipt, supplement request, result, Form 04;
- the audit trail: refusals at the desk and signed apologies.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from audit.services import audit_record
from billing.models import Metric as UsageMetric
from billing.services import usage_record
from dossiers.lifecycle.table import Transition
from dossiers.models import Channel, Dossier, DossierEvent
from nationalsync.services import sync_enqueue
from notifications.services import notify_applicant
from reports.services import stats_dossier_event, stats_dossier_received, stats_dossier_resolved
from tenants.models import Agency

ONLINE_CHANNELS = (Channel.ONLINE, Channel.NATIONAL_PORTAL)


def event_recorded(event: DossierEvent) -> None:
    """A dossier event was written: a status change goes to the national portal's outbox."""
    if event.to_status:
        sync_enqueue(event=event)


def transition_done(
    row: Transition,
    *,
    procedure_id: int,
    at: dt.datetime,
) -> None:
    """The statistics metric the table gives this transition, if any."""
    if row.metric:
        stats_dossier_event(procedure_id=procedure_id, metric=row.metric, at=at)


def counted(*, procedure_id: int, metric: str, at: dt.datetime) -> None:
    """A statistics metric outside a dossier's transitions (a refusal at the desk)."""
    stats_dossier_event(procedure_id=procedure_id, metric=metric, at=at)


def resolved(*, dossier: Dossier, outcome: str, at: dt.datetime) -> None:
    """A decision was taken: early, on time or late, in the rollups."""
    stats_dossier_resolved(dossier=dossier, outcome=outcome, at=at)


def received(*, agency: Agency, dossier: Dossier, channel: str, at: dt.datetime) -> None:
    """A new dossier: the rollups and the usage ledger (what the agency is billed for)."""
    stats_dossier_received(dossier=dossier)
    key = f"{agency.schema_name}:dossier:{dossier.pk}"
    usage_record(
        agency=agency,
        metric=UsageMetric.DOSSIER_RECEIVED,
        idempotency_key=f"{key}:received",
        occurred_at=at,
    )
    if channel in ONLINE_CHANNELS:
        usage_record(
            agency=agency,
            metric=UsageMetric.DOSSIER_ONLINE,
            idempotency_key=f"{key}:online",
            occurred_at=at,
        )


def applicant_notified(*, dossier: Dossier, key: str, **context: Any) -> None:
    """A message to the applicant, queued in the notifications outbox."""
    notify_applicant(dossier=dossier, key=key, **context)


def audited(*, action: str, actor: Any, target: str, **details: Any) -> None:
    """A line of the agency's audit trail."""
    audit_record(action=action, actor=actor, target=target, **details)
