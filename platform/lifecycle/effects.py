"""Everything a lifecycle action causes outside the dossier, in one visible place.

Called by the actions of ``lifecycle`` inside their transaction (so a rolled-back
action leaves none of these behind), never by signals:

- the national-portal outbox: one row per event that changes (or restates) a status;
- the statistics rollups (public schema): the metric of the transition's table row, the
  outcome of a decision, a new dossier;
- the usage ledger (billing): a dossier received, and received online;
- the notifications outbox: the applicant's receipt, supplement request, result, Form 04;
- the audit trail: refusals at the desk and signed apologies;
- the issued documents (``documents.services``): the result signed by a leader, the result
  sealed by the agency when it is issued, Form 04 signed. Their files are listed in
  ``written`` so the action deletes them when its transaction rolls back;
- the citizen's document store (``docstore``): a result returned into their account.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from audit.services import audit_record
from billing.models import Metric as UsageMetric
from billing.services import usage_record
from docstore.services import stored_document_add_result
from documents import services as documents
from documents.models import IssuedDocument
from documents.signing import Signer
from dossiers.models import Channel, Dossier, DossierEvent
from lifecycle.table import Transition
from nationalsync.services import sync_enqueue
from notifications.services import notify_applicant
from reports.services import stats_dossier_event, stats_dossier_received, stats_dossier_resolved
from tenants.models import Agency

if TYPE_CHECKING:
    from accounts.models import User

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


def audited(*, action: str, actor: User, target: str, **details: Any) -> None:
    """A line of the agency's audit trail."""
    audit_record(action=action, actor=actor, target=target, **details)


def _signature(user: User, signer: Signer | None) -> documents.Signature:
    """The person's signature: the given signer, or their own certificate in this agency."""
    if signer is not None:
        return documents.Signature(signer, documents.PERSON_FIELD, user)
    return documents.person_signature(user)


def result_signed(
    *, agency: Agency, result: Any, actor: User, signer: Signer | None, written: list[str]
) -> IssuedDocument:
    """A leader signed the result (SigningError: no certificate, or the signature failed)."""
    issued = documents.result_issue(
        agency=agency, result=result, person=_signature(actor, signer), written=written
    )
    assert issued is not None  # a person's signature always makes one
    return issued


def results_issued(*, agency: Agency, results: Any, written: list[str]) -> None:
    """Results were issued: each is laid out and sealed by the agency (on top of the
    leader's signature when there is one)."""
    for result in results:
        documents.result_issue(agency=agency, result=result, written=written)


def results_stored(*, agency: Agency, dossier: Dossier) -> None:
    """The result was returned into the applicant's account: each issued result (the signed
    PDF when there is one) goes to their document store, for reuse without a download."""
    if dossier.applicant is None:
        return
    for result in dossier.results.filter(issued_at__isnull=False):
        stored_document_add_result(
            owner=dossier.applicant,
            agency=agency,
            result=result,
            issued=documents.issued_result_for(dossier, result.pk),
        )


def apology_issued(
    *, agency: Agency, dossier: Dossier, actor: User, signer: Signer | None, written: list[str]
) -> IssuedDocument:
    """Form 04 signed: the leader's own certificate when they have one (or the signer given),
    then the agency's seal."""
    person = None
    if signer is not None or documents.has_person_certificate(actor):
        person = _signature(actor, signer)
    return documents.form_issue(
        agency=agency, dossier=dossier, form="04", person=person, written=written
    )
