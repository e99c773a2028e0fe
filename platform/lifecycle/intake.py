"""A dossier comes into being (``receive``), and its fee is paid (``pay_fee``).

``lifecycle.submit.dossier_submit`` checks a submission and then calls
:func:`dossier_receive`, which writes the dossier, its documents, its first history event,
its process at the first step with the trail's first line, and the effects (statistics,
usage ledger, receipt, national-portal outbox), in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import User
from core.failpoints import failpoint
from dossiers import codes, engine
from dossiers.models import (
    Dossier,
    DossierDocument,
    DossierProcess,
    DossierStatus,
    DraftDocument,
    HandOver,
    HandOverAction,
)
from dossiers.submission import Applicant, CheckedSubmission, documents_store
from lifecycle import effects
from lifecycle.core import public_event, record_new
from lifecycle.table import transition
from tenants.models import Agency
from workdays.calendar import agency_calendar

S = DossierStatus


def dossier_receive(
    *,
    agency: Agency,
    procedure_id: int,
    applicant: Applicant,
    submission: CheckedSubmission,
    channel: str,
    received: dt.datetime,
    received_by: User | None,
    external_id: str | None,
    external_fingerprint: str,
    written: list[str],
    draft_documents: list[DraftDocument],
) -> tuple[Dossier, list[DossierDocument]]:
    """Write a checked submission as a new dossier (the caller holds the transaction and
    removes the files listed in ``written`` if it fails)."""
    row = transition("", "receive", S.RECEIVED)
    assert row is not None
    version, spec = submission.version, submission.version.spec
    calendar = agency_calendar()
    dossier = Dossier.objects.create(
        code=codes.provisional_code(),
        lookup_secret=codes.new_secret(),
        procedure_id=procedure_id,
        procedure_version=version,
        channel=channel,
        external_id=external_id or None,
        external_fingerprint=external_fingerprint if external_id else "",
        applicant=applicant.user,
        applicant_name=applicant.name.strip(),
        applicant_id_number=applicant.id_number,
        applicant_phone=applicant.phone,
        applicant_email=applicant.email,
        applicant_address=applicant.address,
        form_data=submission.cleaned,
        status=row.target,
        received_at=received,
        counting_start=calendar.counting_start(received, spec.cutoff_hour),
        due_date=calendar.due_date(received, spec.processing_days, spec.cutoff_hour),
        fee_amount=spec.fee,
        received_by=received_by,
    )
    record_new(row)
    documents = documents_store(dossier, version, submission.files, written, draft_documents)
    failpoint("dossier.after_documents")
    event = public_event(
        dossier,
        received_by or applicant.user,
        "received",
        at=received,
        to_status=S.RECEIVED,
        # Language-neutral: rendered in the reader's language (DossierEvent.summary).
        details={"channel": channel},
    )
    _process_start(dossier=dossier, received_by=received_by)
    effects.received(agency=agency, dossier=dossier, channel=channel, at=received)
    # The sequence number comes last: its counter row stays locked until commit,
    # so concurrent submissions queue only for this step and the commit.
    dossier.code = codes.next_code(
        pattern=agency.dossier_code_pattern,
        agency_code=codes.agency_code_prefix(agency),
        on=timezone.localtime(received).date(),
    )
    Dossier.objects.filter(pk=dossier.pk).update(code=dossier.code)
    effects.applicant_notified(dossier=dossier, key="receipt")
    effects.event_recorded(event)
    return dossier, documents


def _process_start(*, dossier: Dossier, received_by: User | None = None) -> DossierProcess:
    """Open the process of a newly received dossier at its first step. A dossier received at
    the desk stays with the receptionist who took it; an online one waits for the desk."""
    steps = engine.steps_of(dossier)
    process = DossierProcess(dossier=dossier, procedure_id=dossier.procedure_id)
    step = engine.enter_step(process, steps, 0, at=dossier.received_at, assignee=received_by)
    # The first step counts from the dossier's counting start (the cut-off hour applies).
    process.step_due_date = agency_calendar().add_working_days(dossier.counting_start, step.days)
    process.save(force_insert=True)
    HandOver.objects.create(
        dossier=dossier,
        at=dossier.received_at,
        actor=received_by or dossier.applicant,
        action=HandOverAction.RECEIVED,
        to_step=0,
        to_step_name=step.name,
        to_status=DossierStatus.RECEIVED,
        assignee=received_by,
    )
    return process


def dossier_fee_paid(*, dossier: Dossier, amount: int, reference: str, at: dt.datetime) -> bool:
    """The fee was paid online (``dossier`` locked by the caller, in its transaction): marked
    paid once, with a history line and the statistics. False if it was already paid."""
    if dossier.fee_paid:
        return False
    row = transition(dossier.status, "pay_fee")
    assert row is not None
    dossier.fee_paid = True
    dossier.save(update_fields=["fee_paid", "updated_at"])
    record_new(row)
    event = public_event(
        dossier, None, "fee_paid_online", at=at, note=f"{amount} VND ({reference})"
    )
    effects.event_recorded(event)
    effects.transition_done(row, procedure_id=dossier.procedure_id, at=at)
    return True
