"""Every change to a dossier's processing, in the active agency's schema.

Each transition locks the dossier row (``select_for_update``), validates the
dossier's status and step and the actor's role against the fresh row, then
writes the new state, a line of the hand-over trail (Form 06) and, when the
applicant should see it, a ``DossierEvent`` — all in one transaction. Two
officers racing on one dossier queue on the lock; the second one is checked
against what the first one left and gets a clear refusal.

A refusal is a ``ValidationError`` with a code: ``missing``, ``status``,
``role``, ``assignee``, ``moved``, ``input``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from audit.services import audit_record
from catalog.spec import Step
from desk import engine
from desk.models import (
    Decision,
    DossierProcess,
    HandOver,
    HandOverAction,
    Refusal,
    ResultDocument,
    ReturnMethod,
    StepAssignment,
    StopNotice,
    SupplementRequest,
)
from dossiers.fees import fee_settled_required
from dossiers.files import CheckedFile, check_file, files_delete
from dossiers.models import Channel, Dossier, DossierEvent, DossierStatus
from dossiers.services import Applicant, SubmitResult, documents_store, dossier_submit
from notifications.services import notify_applicant
from procedures.models import AgencyProcedure
from reports.models import Metric
from reports.services import stats_dossier_event, stats_dossier_resolved
from tenants.db import connection
from tenants.models import Agency
from workdays.calendar import WorkCalendar, agency_calendar

logger = logging.getLogger(__name__)

S = DossierStatus
OPEN = (S.RECEIVED, S.IN_PROCESSING, S.SUPPLEMENT_REQUESTED)
MAX_NOTE = 4000


# -- Plumbing ------------------------------------------------------------------------------


@dataclass
class _Locked:
    dossier: Dossier
    process: DossierProcess
    steps: tuple[Step, ...]
    roles: frozenset[str]
    now: dt.datetime


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _lock(dossier: Dossier, actor: Any, *, at: dt.datetime | None = None) -> _Locked:
    """The dossier's fresh row, locked until the transaction ends, with its process.

    Looked up by primary key *and* code: ids repeat across agency schemas, so a dossier
    object from another agency never resolves to this agency's dossier."""
    try:
        fresh = (
            Dossier.objects.select_for_update(of=("self",))
            .select_related("procedure_version")
            .get(pk=dossier.pk, code=dossier.code)
        )
    except Dossier.DoesNotExist:
        raise _refuse(_("This dossier does not exist in this agency."), "missing") from None
    process = DossierProcess.objects.get(dossier=fresh)
    return _Locked(
        fresh, process, engine.steps_of(fresh), engine.roles_of(actor), at or timezone.now()
    )


def _require_status(ctx: _Locked, *allowed: str) -> None:
    if ctx.dossier.status not in allowed:
        raise _refuse(
            _("This is not possible while the dossier is “%(status)s”.")
            % {"status": ctx.dossier.get_status_display()},
            "status",
        )


def _require_step(ctx: _Locked, expected_step: int | None) -> None:
    if ctx.process.step_position is None:
        raise _refuse(_("This dossier is no longer in processing."), "status")
    if expected_step is not None and expected_step != ctx.process.step_position:
        raise _refuse(
            _("This dossier has moved on since you opened it; reload it and try again."),
            "moved",
        )


def _require_assignee(ctx: _Locked, actor: Any, expected_step: int | None) -> None:
    """Only the officer holding the current step acts on it, and only while they hold the
    step's role."""
    _require_step(ctx, expected_step)
    process = ctx.process
    if process.step_role not in ctx.roles:
        raise _refuse(
            _("You do not have the role the step “%(step)s” needs (%(role)s).")
            % {"step": process.step_name, "role": Role(process.step_role).label},
            "role",
        )
    if process.assignee_id is None:
        raise _refuse(
            _("Nobody has taken this dossier at “%(step)s” yet: take it first.")
            % {"step": process.step_name},
            "assignee",
        )
    if process.assignee_id != actor.pk:
        raise _refuse(
            _("This dossier is with another officer at “%(step)s”; only they can act on it.")
            % {"step": process.step_name},
            "assignee",
        )


def _require_role(ctx: _Locked, *roles: str) -> None:
    if not ctx.roles & set(roles):
        raise _refuse(_("Your role in this agency does not allow this action."), "role")


def _text(value: str, *, required: str | None = None) -> str:
    text = (value or "").strip()[:MAX_NOTE]
    if required is not None and not text:
        raise _refuse(required, "input")
    return text


def _lines(values: Iterable[str], *, required: str) -> list[str]:
    cleaned = [v.strip()[:500] for v in values if v and v.strip()]
    if not cleaned:
        raise _refuse(required, "input")
    return cleaned


def _trail(
    ctx: _Locked,
    actor: Any,
    action: str,
    *,
    from_step: tuple[int | None, str],
    from_status: str,
    note: str = "",
) -> HandOver:
    process, dossier = ctx.process, ctx.dossier
    return HandOver.objects.create(
        dossier=dossier,
        at=ctx.now,
        actor=actor,
        action=action,
        from_step=from_step[0],
        from_step_name=from_step[1],
        to_step=process.step_position,
        to_step_name=process.step_name if process.step_position is not None else "",
        from_status=from_status,
        to_status=dossier.status,
        assignee_id=process.assignee_id,
        note=note,
    )


def _public_event(ctx: _Locked, actor: Any, action: str, from_status: str, note: str) -> None:
    """What the applicant sees in their dossier's history."""
    DossierEvent.objects.create(
        dossier=ctx.dossier,
        at=ctx.now,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=ctx.dossier.status,
        note=note,
    )


def _save(ctx: _Locked, *dossier_fields: str) -> None:
    ctx.process.save()
    if dossier_fields:
        ctx.dossier.save(update_fields=[*dossier_fields, "updated_at"])


def _close(process: DossierProcess) -> None:
    process.step_position = None
    process.step_name = ""
    process.step_role = ""
    process.assignee = None
    process.step_due_date = None
    process.paused_at = None
    process.status_before_pause = ""


def _here(ctx: _Locked) -> tuple[int | None, str]:
    return ctx.process.step_position, ctx.process.step_name


# -- Intake --------------------------------------------------------------------------------


def desk_receive(
    *,
    agency: Agency,
    actor: Any,
    procedure: AgencyProcedure,
    applicant: Applicant,
    form_data: Mapping[str, Any],
    files: Mapping[int, Sequence[UploadedFile]] | None = None,
    received_at: dt.datetime | None = None,
) -> SubmitResult:
    """Receive a dossier in person at the one-stop desk: the same checks, code and deadline
    as online, channel ``desk``, received by (and left with) the receptionist."""
    _check_agency(agency)
    if Role.RECEPTIONIST not in engine.roles_of(actor):
        raise _refuse(_("Only the one-stop desk's receptionists receive dossiers."), "role")
    return dossier_submit(
        agency=agency,
        procedure=procedure,
        applicant=applicant,
        form_data=form_data,
        files=files,
        channel=Channel.DESK,
        received_by=actor,
        received_at=received_at,
    )


def desk_refuse(
    *,
    agency: Agency,
    actor: Any,
    procedure: AgencyProcedure,
    applicant: Applicant,
    reasons: Iterable[str],
    at: dt.datetime | None = None,
) -> Refusal:
    """Refuse to receive at the desk (Form 03): nothing is received, the reasons are kept."""
    _check_agency(agency)
    if Role.RECEPTIONIST not in engine.roles_of(actor):
        raise _refuse(_("Only the one-stop desk's receptionists receive dossiers."), "role")
    cleaned = _lines(reasons, required=_("Give at least one reason for the refusal."))
    if not applicant.name.strip():
        raise _refuse(_("The applicant's full name is required."), "input")
    with transaction.atomic():
        refusal = Refusal.objects.create(
            dossier=None,
            procedure=procedure,
            applicant_name=applicant.name.strip()[:200],
            applicant_id_number=applicant.id_number[:12],
            applicant_phone=applicant.phone[:20],
            channel=Channel.DESK,
            reasons=cleaned,
            refused_at=at or timezone.now(),
            refused_by=actor,
        )
        audit_record(action="desk.refused", actor=actor, target=procedure.code)
        stats_dossier_event(procedure_id=procedure.pk, metric=Metric.REFUSED, at=refusal.refused_at)
    return refusal


def _check_agency(agency: Agency) -> None:
    if getattr(connection.tenant, "pk", None) != agency.pk:
        raise RuntimeError("the agency's schema must be active")


def dossier_refuse(
    *,
    dossier: Dossier,
    actor: Any,
    reasons: Iterable[str],
    expected_step: int | None = None,
) -> Refusal:
    """Refuse a dossier received online, at the reception step (Form 03)."""
    cleaned = _lines(reasons, required=_("Give at least one reason for the refusal."))
    with transaction.atomic():
        ctx = _lock(dossier, actor)
        _require_status(ctx, S.RECEIVED)
        _require_assignee(ctx, actor, expected_step)
        if ctx.process.step_position != 0:
            raise _refuse(_("Only the reception step can refuse a dossier."), "status")
        d, before, here = ctx.dossier, ctx.dossier.status, _here(ctx)
        refusal = Refusal.objects.create(
            dossier=d,
            procedure_id=d.procedure_id,
            applicant_name=d.applicant_name,
            applicant_id_number=d.applicant_id_number,
            applicant_phone=d.applicant_phone,
            channel=d.channel,
            reasons=cleaned,
            refused_at=ctx.now,
            refused_by=actor,
        )
        d.status = S.REFUSED
        _close(ctx.process)
        _save(ctx, "status")
        note = "; ".join(cleaned)
        _trail(ctx, actor, HandOverAction.REFUSED, from_step=here, from_status=before, note=note)
        _public_event(ctx, actor, "refused", before, note)
        stats_dossier_event(procedure_id=d.procedure_id, metric=Metric.REFUSED, at=ctx.now)
    return refusal


# -- Taking and handing over ---------------------------------------------------------------


def dossier_claim(*, dossier: Dossier, actor: Any, expected_step: int | None = None) -> None:
    """Take the current step of a dossier for oneself."""
    with transaction.atomic():
        ctx = _lock(dossier, actor)
        _require_status(ctx, S.RECEIVED, S.IN_PROCESSING, S.SUPPLEMENT_REQUESTED, S.RESULT_READY)
        _require_step(ctx, expected_step)
        process = ctx.process
        if process.assignee_id == actor.pk:
            return
        if process.assignee_id is not None:
            raise _refuse(
                _("Another officer has already taken this dossier at “%(step)s”.")
                % {"step": process.step_name},
                "assignee",
            )
        _require_eligible(ctx, actor)
        process.assignee = actor
        _save(ctx)
        _trail(
            ctx, actor, HandOverAction.CLAIMED, from_step=_here(ctx), from_status=ctx.dossier.status
        )


def _require_eligible(ctx: _Locked, user: Any, *, position: int | None = None) -> None:
    position = ctx.process.step_position if position is None else position
    assert position is not None
    step = engine.step_at(ctx.steps, position)
    if not engine.may_take_step(
        user, procedure_id=ctx.dossier.procedure_id, position=position, role=step.role
    ):
        assigned = StepAssignment.objects.filter(
            procedure_id=ctx.dossier.procedure_id, step_position=position
        ).exists()
        if assigned and step.role in engine.roles_of(user):
            message = _(
                "%(person)s cannot take the step “%(step)s”: only the officers assigned to it can."
            )
        else:
            message = _("%(person)s cannot take the step “%(step)s”: it needs the role %(role)s.")
        raise _refuse(
            message % {"person": str(user), "step": step.name, "role": Role(step.role).label},
            "role",
        )


def dossier_assign(
    *,
    dossier: Dossier,
    actor: Any,
    to: Any,
    note: str = "",
    expected_step: int | None = None,
) -> None:
    """Give the current step to an officer who may take it. Leaders and administrators
    assign; the officer holding the step may hand it to a colleague."""
    with transaction.atomic():
        ctx = _lock(dossier, actor)
        _require_status(ctx, S.RECEIVED, S.IN_PROCESSING, S.SUPPLEMENT_REQUESTED, S.RESULT_READY)
        _require_step(ctx, expected_step)
        holder = ctx.process.assignee_id == actor.pk and ctx.process.step_role in ctx.roles
        if not holder:
            _require_role(ctx, Role.LEADER, Role.ADMIN)
        _require_eligible(ctx, to)
        ctx.process.assignee = to
        _save(ctx)
        _trail(
            ctx,
            actor,
            HandOverAction.ASSIGNED,
            from_step=_here(ctx),
            from_status=ctx.dossier.status,
            note=_text(note),
        )


def dossier_forward(
    *,
    dossier: Dossier,
    actor: Any,
    note: str = "",
    to: Any = None,
    expected_step: int | None = None,
) -> None:
    """Finish the current step and hand the dossier to the next one (to ``to``, or to the
    next step's team). Forwarding from the reception step accepts the dossier."""
    with transaction.atomic():
        ctx = _lock(dossier, actor)
        _require_status(ctx, S.RECEIVED, S.IN_PROCESSING)
        _require_assignee(ctx, actor, expected_step)
        position = ctx.process.step_position
        assert position is not None
        if position >= engine.decision_position(ctx.steps):
            raise _refuse(
                _("This is the decision step: approve or reject the dossier instead."), "status"
            )
        nxt = position + 1
        if to is not None:
            _require_eligible(ctx, to, position=nxt)
        d, before, here = ctx.dossier, ctx.dossier.status, _here(ctx)
        engine.enter_step(ctx.process, ctx.steps, nxt, at=ctx.now, assignee=to)
        d.status = S.IN_PROCESSING
        _save(ctx, "status")
        _trail(
            ctx,
            actor,
            HandOverAction.FORWARDED,
            from_step=here,
            from_status=before,
            note=_text(note),
        )
        if before != d.status:
            _public_event(ctx, actor, "accepted", before, "")


def dossier_send_back(
    *,
    dossier: Dossier,
    actor: Any,
    to_step: int,
    note: str,
    expected_step: int | None = None,
) -> None:
    """Return the dossier to an earlier step, saying why; it goes back to whoever last
    handled that step if they still may take it."""
    reason = _text(note, required=_("Say why the dossier is sent back."))
    with transaction.atomic():
        ctx = _lock(dossier, actor)
        _require_status(ctx, S.IN_PROCESSING)
        _require_assignee(ctx, actor, expected_step)
        position = ctx.process.step_position
        assert position is not None
        if not 0 <= to_step < position:
            raise _refuse(_("Choose an earlier step to send the dossier back to."), "input")
        last = (
            HandOver.objects.filter(
                dossier=ctx.dossier,
                from_step=to_step,
                action__in=[HandOverAction.FORWARDED, HandOverAction.SENT_BACK],
            )
            .order_by("-at", "-id")
            .values_list("actor_id", flat=True)
            .first()
        )
        back_to = None
        if last is not None:
            from accounts.models import User

            candidate = User.objects.filter(pk=last, is_active=True).first()
            step = engine.step_at(ctx.steps, to_step)
            if candidate is not None and engine.may_take_step(
                candidate, procedure_id=ctx.dossier.procedure_id, position=to_step, role=step.role
            ):
                back_to = candidate
        here = _here(ctx)
        engine.enter_step(ctx.process, ctx.steps, to_step, at=ctx.now, assignee=back_to)
        _save(ctx)
        _trail(
            ctx,
            actor,
            HandOverAction.SENT_BACK,
            from_step=here,
            from_status=S.IN_PROCESSING,
            note=reason,
        )


# -- Supplements (Form 02) -----------------------------------------------------------------


def supplement_request(
    *,
    dossier: Dossier,
    actor: Any,
    items: Iterable[str],
    note: str = "",
    expected_step: int | None = None,
    at: dt.datetime | None = None,
) -> SupplementRequest:
    """Ask the applicant for everything missing, in one complete request (the law allows
    one). The deadline clock stops until the applicant supplements."""
    missing = _lines(items, required=_("List what the applicant must supplement."))
    with transaction.atomic():
        ctx = _lock(dossier, actor, at=at)
        if SupplementRequest.objects.filter(dossier=ctx.dossier).exists():
            raise _refuse(
                _(
                    "A supplement was already requested for this dossier; the request must be "
                    "complete and is given only once."
                ),
                "status",
            )
        _require_status(ctx, S.RECEIVED, S.IN_PROCESSING)
        _require_assignee(ctx, actor, expected_step)
        d, before = ctx.dossier, ctx.dossier.status
        request = SupplementRequest.objects.create(
            dossier=d,
            items=missing,
            note=_text(note),
            step_position=ctx.process.step_position,
            requested_at=ctx.now,
            requested_by=actor,
        )
        ctx.process.paused_at = ctx.now
        ctx.process.status_before_pause = before
        d.status = S.SUPPLEMENT_REQUESTED
        _save(ctx, "status")
        listing = "; ".join(missing)
        _trail(
            ctx,
            actor,
            HandOverAction.SUPPLEMENT_REQUESTED,
            from_step=_here(ctx),
            from_status=before,
            note=listing,
        )
        _public_event(ctx, actor, "supplement_requested", before, listing)
        stats_dossier_event(
            procedure_id=d.procedure_id, metric=Metric.SUPPLEMENT_PAUSED, at=ctx.now
        )
        notify_applicant(dossier=d, key="supplement", items=missing, reason=request.note)
    return request


def paused_working_days(calendar: WorkCalendar, paused: dt.datetime, resumed: dt.datetime) -> int:
    """Working days the clock stood still: those after the day it stopped, up to and
    including the day it restarted."""
    start = timezone.localtime(paused).date()
    end = timezone.localtime(resumed).date()
    return max(0, calendar.working_days_between(start, end))


def _shift(calendar: WorkCalendar, day: dt.date | None, days: int) -> dt.date | None:
    if day is None or days == 0:
        return day
    return calendar.add_working_days(engine.first_working_day(calendar, day), days)


def supplement_receive(
    *,
    dossier: Dossier,
    actor: Any,
    files: Mapping[int, Sequence[UploadedFile]] | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> SupplementRequest:
    """The applicant supplements (online, or a receptionist at the desk on their behalf):
    the documents are added, the clock restarts and every due date moves by the working
    days it was paused."""
    text = _text(note)
    if not files and not text:
        raise _refuse(_("Attach the missing documents or describe what was supplemented."), "input")
    written: list[str] = []
    try:
        with transaction.atomic():
            ctx = _lock(dossier, actor, at=at)
            d = ctx.dossier
            if d.applicant_id is not None and d.applicant_id == actor.pk:
                channel = Channel.ONLINE
            elif Role.RECEPTIONIST in ctx.roles:
                channel = Channel.DESK
            else:
                raise _refuse(
                    _("Only the applicant or the one-stop desk can supplement a dossier."), "role"
                )
            _require_status(ctx, S.SUPPLEMENT_REQUESTED)
            checked = _check_supplement_files(d, files or {})
            request = SupplementRequest.objects.select_for_update().get(dossier=d)
            process = ctx.process
            assert process.paused_at is not None
            calendar = agency_calendar()
            paused = paused_working_days(calendar, process.paused_at, ctx.now)
            d.due_date = _shift(calendar, d.due_date, paused) or d.due_date
            process.step_due_date = _shift(calendar, process.step_due_date, paused)
            process.paused_days_total += paused
            before = d.status
            d.status = process.status_before_pause or S.IN_PROCESSING
            process.paused_at = None
            process.status_before_pause = ""
            documents_store(d, d.procedure_version, checked, written)
            request.supplemented_at = ctx.now
            request.supplemented_by = actor
            request.supplement_channel = channel
            request.paused_working_days = paused
            request.save(
                update_fields=[
                    "supplemented_at",
                    "supplemented_by",
                    "supplement_channel",
                    "paused_working_days",
                ]
            )
            _save(ctx, "status", "due_date")
            _trail(
                ctx,
                actor,
                HandOverAction.SUPPLEMENTED,
                from_step=_here(ctx),
                from_status=before,
                note=text,
            )
            _public_event(ctx, actor, "supplemented", before, text)
    except BaseException:
        files_delete(written)
        raise
    return request


def _check_supplement_files(
    dossier: Dossier, files: Mapping[int, Sequence[UploadedFile]]
) -> dict[int, list[CheckedFile]]:
    components = dossier.procedure_version.spec.components
    errors: dict[str, list[str]] = {}
    checked: dict[int, list[CheckedFile]] = {}
    for position, uploads in files.items():
        if not 0 <= position < len(components):
            errors.setdefault("documents", []).append(
                _("Files were sent for a component that does not exist.")
            )
            continue
        for upload in uploads:
            try:
                checked.setdefault(position, []).append(
                    check_file(upload, component=components[position].name)
                )
            except ValidationError as exc:
                errors.setdefault(f"component_{position}", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    return checked


# -- Decision and result -------------------------------------------------------------------


def result_attach(
    *,
    dossier: Dossier,
    actor: Any,
    file: UploadedFile,
    number: str = "",
    expected_step: int | None = None,
) -> ResultDocument:
    """Attach the (draft) result document; the leader's approval issues it."""
    checked = check_file(file, component=_("Result"))
    written: list[str] = []
    try:
        with transaction.atomic():
            ctx = _lock(dossier, actor)
            _require_status(ctx, S.IN_PROCESSING)
            _require_assignee(ctx, actor, expected_step)
            row = ResultDocument(
                dossier=ctx.dossier,
                number=number.strip()[:60],
                original_name=checked.original_name,
                content_type=checked.content_type,
                size=checked.size,
                sha256=checked.sha256,
                attached_at=ctx.now,
                attached_by=actor,
            )
            row.file.save(checked.stored_name(), checked.upload, save=False)
            written.append(row.file.name)
            row.save()
            _trail(
                ctx,
                actor,
                HandOverAction.RESULT_ATTACHED,
                from_step=_here(ctx),
                from_status=ctx.dossier.status,
                note=row.number or row.original_name,
            )
    except BaseException:
        files_delete(written)
        raise
    return row


def _require_decision_step(ctx: _Locked) -> None:
    if ctx.process.step_position != engine.decision_position(ctx.steps):
        raise _refuse(
            _("Only the step “%(step)s” decides on this dossier.")
            % {"step": ctx.steps[engine.decision_position(ctx.steps)].name},
            "status",
        )


def _complete(ctx: _Locked, actor: Any, decision: str) -> None:
    d, process = ctx.dossier, ctx.process
    d.completed_at = ctx.now
    process.decision = decision
    process.decided_at = ctx.now
    process.decided_by = actor
    process.outcome = engine.classify_outcome(ctx.now, d.due_date)
    stats_dossier_resolved(dossier=d, outcome=process.outcome, at=ctx.now)


def dossier_approve(
    *, dossier: Dossier, actor: Any, note: str = "", expected_step: int | None = None
) -> None:
    """The leader approves: the attached result is issued and goes to the return step."""
    with transaction.atomic():
        ctx = _lock(dossier, actor)
        _require_status(ctx, S.IN_PROCESSING)
        _require_assignee(ctx, actor, expected_step)
        _require_decision_step(ctx)
        pending = ResultDocument.objects.filter(dossier=ctx.dossier, issued_at__isnull=True)
        if not pending.exists():
            raise _refuse(_("Attach the result document before approving."), "input")
        pending.update(issued_at=ctx.now, issued_by_id=actor.pk)
        d, before, here = ctx.dossier, ctx.dossier.status, _here(ctx)
        _complete(ctx, actor, Decision.APPROVED)
        position, _step = engine.return_step(ctx.steps)
        engine.enter_step(ctx.process, ctx.steps, position, at=ctx.now)
        d.status = S.RESULT_READY
        _save(ctx, "status", "completed_at")
        _trail(
            ctx,
            actor,
            HandOverAction.APPROVED,
            from_step=here,
            from_status=before,
            note=_text(note),
        )
        _public_event(ctx, actor, "result_ready", before, "")
        notify_applicant(dossier=d, key="result_ready")


def dossier_reject(
    *, dossier: Dossier, actor: Any, reason: str, expected_step: int | None = None
) -> None:
    """The leader does not grant what was applied for, with the reason the applicant gets."""
    text = _text(reason, required=_("Give the reason the applicant will read."))
    with transaction.atomic():
        ctx = _lock(dossier, actor)
        _require_status(ctx, S.IN_PROCESSING)
        _require_assignee(ctx, actor, expected_step)
        _require_decision_step(ctx)
        d, before, here = ctx.dossier, ctx.dossier.status, _here(ctx)
        _complete(ctx, actor, Decision.REJECTED)
        _close(ctx.process)
        d.status = S.REJECTED
        _save(ctx, "status", "completed_at")
        _trail(ctx, actor, HandOverAction.REJECTED, from_step=here, from_status=before, note=text)
        _public_event(ctx, actor, "rejected", before, text)


def result_return(
    *,
    dossier: Dossier,
    actor: Any,
    method: str,
    note: str = "",
    expected_step: int | None = None,
) -> None:
    """Hand the result to the applicant: at the desk, by post, or into their account."""
    if method not in ReturnMethod.values:
        raise _refuse(_("Choose how the result is returned."), "input")
    with transaction.atomic():
        ctx = _lock(dossier, actor)
        _require_status(ctx, S.RESULT_READY)
        _require_assignee(ctx, actor, expected_step)
        d, before, here = ctx.dossier, ctx.dossier.status, _here(ctx)
        if method == ReturnMethod.ELECTRONIC and d.applicant_id is None:
            raise _refuse(
                _("The applicant has no account to receive the result electronically."), "input"
            )
        fee_settled_required(dossier=d)  # issue 14 item 5; the only fee rule here
        ctx.process.return_method = method
        ctx.process.returned_at = ctx.now
        _close(ctx.process)
        d.status = S.RETURNED
        _save(ctx, "status")
        label = str(ReturnMethod(method).label)
        _trail(
            ctx,
            actor,
            HandOverAction.RETURNED,
            from_step=here,
            from_status=before,
            note=_text(note) or label,
        )
        _public_event(ctx, actor, "returned", before, label)


# -- Ending early --------------------------------------------------------------------------


def dossier_stop(*, dossier: Dossier, actor: Any, reason: str) -> StopNotice:
    """Stop processing (Form 05), decided by a leader, with the reason."""
    text = _text(reason, required=_("Give the reason processing is stopped."))
    with transaction.atomic():
        ctx = _lock(dossier, actor)
        _require_role(ctx, Role.LEADER, Role.ADMIN)
        _require_status(ctx, *OPEN)
        d, before, here = ctx.dossier, ctx.dossier.status, _here(ctx)
        notice = StopNotice.objects.create(
            dossier=d, reason=text, stopped_at=ctx.now, stopped_by=actor
        )
        _close(ctx.process)
        d.status = S.STOPPED
        _save(ctx, "status")
        _trail(ctx, actor, HandOverAction.STOPPED, from_step=here, from_status=before, note=text)
        _public_event(ctx, actor, "stopped", before, text)
        stats_dossier_event(procedure_id=d.procedure_id, metric=Metric.STOPPED, at=ctx.now)
    return notice


def dossier_withdraw(*, dossier: Dossier, actor: Any, reason: str = "") -> None:
    """Withdraw on the applicant's request: by the applicant online, or by the desk."""
    text = _text(reason)
    with transaction.atomic():
        ctx = _lock(dossier, actor)
        own = ctx.dossier.applicant_id is not None and ctx.dossier.applicant_id == actor.pk
        if not own:
            _require_role(ctx, Role.RECEPTIONIST, Role.ADMIN)
        _require_status(ctx, *OPEN)
        d, before, here = ctx.dossier, ctx.dossier.status, _here(ctx)
        _close(ctx.process)
        d.status = S.WITHDRAWN
        _save(ctx, "status")
        _trail(ctx, actor, HandOverAction.WITHDRAWN, from_step=here, from_status=before, note=text)
        _public_event(ctx, actor, "withdrawn", before, text)
        stats_dossier_event(procedure_id=d.procedure_id, metric=Metric.WITHDRAWN, at=ctx.now)


# -- Configuration -------------------------------------------------------------------------


def step_assignments_set(
    *, actor: Any, procedure: AgencyProcedure, step_position: int, users: Sequence[Any]
) -> list[StepAssignment]:
    """Which officers may take one step of one procedure (replaces the earlier list; an
    empty list opens the step to everyone with its role)."""
    if not engine.roles_of(actor) & {Role.ADMIN, Role.LEADER}:
        raise _refuse(_("Your role in this agency does not allow this action."), "role")
    steps = list(procedure.steps.all())
    if not 0 <= step_position < len(steps):
        raise _refuse(_("This procedure has no such step."), "input")
    step = steps[step_position]
    missing = [str(u) for u in users if step.role not in engine.roles_of(u)]
    if missing:
        raise _refuse(
            _("%(people)s do not have the role %(role)s this step needs.")
            % {"people": ", ".join(missing), "role": Role(step.role).label},
            "role",
        )
    with transaction.atomic():
        StepAssignment.objects.filter(procedure=procedure, step_position=step_position).delete()
        rows = StepAssignment.objects.bulk_create(
            StepAssignment(procedure=procedure, step_position=step_position, user=u)
            for u in {u.pk: u for u in users}.values()
        )
        audit_record(
            action="desk.step_assignments_set",
            actor=actor,
            target=f"{procedure.code}#{step_position}",
            users=[u.pk for u in users],
        )
    return rows
