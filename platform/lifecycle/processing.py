"""The dossier's processing at the agency: refusal (Form 03), hand-over (Form 06),
supplements (Form 02), decision and result, stop (Form 05) and withdrawal.

One public function per action of ``TRANSITIONS``, each in one transaction; see ``core``
for the locking and the refusals, ``effects`` for what else each action writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from documents.models import IssuedDocument
from documents.signing import Signer, SigningError
from dossiers import engine
from dossiers.files import CheckedFile, check_file, files_delete
from dossiers.models import (
    Channel,
    Decision,
    Dossier,
    DossierStatus,
    HandOver,
    HandOverAction,
    Refusal,
    ResultDocument,
    ReturnMethod,
    StopNotice,
    SupplementRequest,
)
from dossiers.submission import Applicant, documents_store
from lifecycle import effects
from lifecycle.core import (
    LockedDossier,
    announce,
    clean_lines,
    clean_text,
    close,
    denial,
    lock,
    move,
    require,
    require_assignee,
    require_eligible,
    require_fee_settled,
    require_role,
    require_step,
    save,
    trail,
)
from procedures.models import AgencyProcedure
from reports.models import Metric
from tenants.db import connection
from tenants.models import Agency
from workdays.calendar import WorkCalendar, agency_calendar

S = DossierStatus


# -- Intake --------------------------------------------------------------------------------


def desk_refuse(
    *,
    agency: Agency,
    actor: User,
    procedure: AgencyProcedure,
    applicant: Applicant,
    reasons: Iterable[str],
    at: dt.datetime | None = None,
) -> Refusal:
    """Refuse to receive at the desk (Form 03): nothing is received, the reasons are kept."""
    _check_agency(agency)
    if Role.RECEPTIONIST not in engine.roles_of(actor):
        raise denial(_("Only the one-stop desk's receptionists receive dossiers."), "role")
    cleaned = clean_lines(reasons, required=_("Give at least one reason for the refusal."))
    if not applicant.name.strip():
        raise denial(_("The applicant's full name is required."), "input")
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
        effects.audited(action="desk.refused", actor=actor, target=procedure.code)
        effects.counted(procedure_id=procedure.pk, metric=Metric.REFUSED, at=refusal.refused_at)
    return refusal


def _check_agency(agency: Agency) -> None:
    if getattr(connection.tenant, "pk", None) != agency.pk:
        raise RuntimeError("the agency's schema must be active")


def dossier_refuse(
    *,
    dossier: Dossier,
    actor: User,
    reasons: Iterable[str],
    expected_step: int | None = None,
) -> Refusal:
    """Refuse a dossier received online, at the reception step (Form 03)."""
    cleaned = clean_lines(reasons, required=_("Give at least one reason for the refusal."))
    with transaction.atomic():
        ctx = lock(dossier, actor)
        require(ctx, "refuse")
        require_assignee(ctx, actor, expected_step)
        if ctx.process.step_position != 0:
            raise denial(_("Only the reception step can refuse a dossier."), "status")
        d, before, here = ctx.dossier, ctx.dossier.status, ctx.here
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
        row = move(ctx, "refuse", S.REFUSED)
        close(ctx.process)
        save(ctx, "status")
        note = "; ".join(cleaned)
        trail(ctx, actor, HandOverAction.REFUSED, from_step=here, from_status=before, note=note)
        announce(ctx, actor, "refused", before, note)
        effects.transition_done(row, procedure_id=d.procedure_id, at=ctx.now)
    return refusal


# -- Taking and handing over ---------------------------------------------------------------


def dossier_claim(*, dossier: Dossier, actor: User, expected_step: int | None = None) -> None:
    """Take the current step of a dossier for oneself."""
    with transaction.atomic():
        ctx = lock(dossier, actor)
        require(ctx, "claim")
        require_step(ctx, expected_step)
        process = ctx.process
        if process.assignee_id == actor.pk:
            return
        if process.assignee_id is not None:
            raise denial(
                _("Another officer has already taken this dossier at “%(step)s”.")
                % {"step": process.step_name},
                "assignee",
            )
        require_eligible(ctx, actor)
        process.assignee = actor
        move(ctx, "claim")
        save(ctx)
        trail(
            ctx, actor, HandOverAction.CLAIMED, from_step=ctx.here, from_status=ctx.dossier.status
        )


def dossier_assign(
    *,
    dossier: Dossier,
    actor: User,
    to: User,
    note: str = "",
    expected_step: int | None = None,
) -> None:
    """Give the current step to an officer who may take it. Leaders and administrators
    assign; the officer holding the step may hand it to a colleague."""
    with transaction.atomic():
        ctx = lock(dossier, actor)
        require(ctx, "assign")
        require_step(ctx, expected_step)
        holder = ctx.process.assignee_id == actor.pk and ctx.process.step_role in ctx.roles
        if not holder:
            require_role(ctx, Role.LEADER, Role.ADMIN)
        require_eligible(ctx, to)
        ctx.process.assignee = to
        move(ctx, "assign")
        save(ctx)
        trail(
            ctx,
            actor,
            HandOverAction.ASSIGNED,
            from_step=ctx.here,
            from_status=ctx.dossier.status,
            note=clean_text(note),
        )


def dossier_forward(
    *,
    dossier: Dossier,
    actor: User,
    note: str = "",
    to: User | None = None,
    expected_step: int | None = None,
) -> None:
    """Finish the current step and hand the dossier to the next one (to ``to``, or to the
    next step's team). Forwarding from the reception step accepts the dossier."""
    with transaction.atomic():
        ctx = lock(dossier, actor)
        require(ctx, "forward")
        require_assignee(ctx, actor, expected_step)
        position = ctx.process.step_position
        assert position is not None
        if position >= engine.decision_position(ctx.steps):
            raise denial(
                _("This is the decision step: approve or reject the dossier instead."), "status"
            )
        nxt = position + 1
        if to is not None:
            require_eligible(ctx, to, position=nxt)
        d, before, here = ctx.dossier, ctx.dossier.status, ctx.here
        engine.enter_step(ctx.process, ctx.steps, nxt, at=ctx.now, assignee=to)
        move(ctx, "forward", S.IN_PROCESSING)
        save(ctx, "status")
        trail(
            ctx,
            actor,
            HandOverAction.FORWARDED,
            from_step=here,
            from_status=before,
            note=clean_text(note),
        )
        if before != d.status:
            announce(ctx, actor, "accepted", before, "")


def dossier_send_back(
    *,
    dossier: Dossier,
    actor: User,
    to_step: int,
    note: str,
    expected_step: int | None = None,
) -> None:
    """Return the dossier to an earlier step, saying why; it goes back to whoever last
    handled that step if they still may take it."""
    reason = clean_text(note, required=_("Say why the dossier is sent back."))
    with transaction.atomic():
        ctx = lock(dossier, actor)
        require(ctx, "send_back")
        require_assignee(ctx, actor, expected_step)
        position = ctx.process.step_position
        assert position is not None
        if not 0 <= to_step < position:
            raise denial(_("Choose an earlier step to send the dossier back to."), "input")
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
            candidate = User.objects.filter(pk=last, is_active=True).first()
            step = engine.step_at(ctx.steps, to_step)
            if candidate is not None and engine.may_take_step(
                candidate, procedure_id=ctx.dossier.procedure_id, position=to_step, role=step.role
            ):
                back_to = candidate
        here = ctx.here
        engine.enter_step(ctx.process, ctx.steps, to_step, at=ctx.now, assignee=back_to)
        move(ctx, "send_back")
        save(ctx)
        trail(
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
    actor: User,
    items: Iterable[str],
    note: str = "",
    expected_step: int | None = None,
    at: dt.datetime | None = None,
) -> SupplementRequest:
    """Ask the applicant for everything missing, in one complete request (the law allows
    one). The deadline clock stops until the applicant supplements."""
    missing = clean_lines(items, required=_("List what the applicant must supplement."))
    with transaction.atomic():
        ctx = lock(dossier, actor, at=at)
        if SupplementRequest.objects.filter(dossier=ctx.dossier).exists():
            raise denial(
                _(
                    "A supplement was already requested for this dossier; the request must be "
                    "complete and is given only once."
                ),
                "status",
            )
        require(ctx, "supplement_request")
        require_assignee(ctx, actor, expected_step)
        d, before = ctx.dossier, ctx.dossier.status
        request = SupplementRequest.objects.create(
            dossier=d,
            items=missing,
            note=clean_text(note),
            step_position=ctx.process.step_position,
            requested_at=ctx.now,
            requested_by=actor,
        )
        ctx.process.paused_at = ctx.now
        ctx.process.status_before_pause = before
        row = move(ctx, "supplement_request", S.SUPPLEMENT_REQUESTED)
        save(ctx, "status")
        listing = "; ".join(missing)
        trail(
            ctx,
            actor,
            HandOverAction.SUPPLEMENT_REQUESTED,
            from_step=ctx.here,
            from_status=before,
            note=listing,
        )
        announce(ctx, actor, "supplement_requested", before, listing)
        effects.transition_done(row, procedure_id=d.procedure_id, at=ctx.now)
        effects.applicant_notified(dossier=d, key="supplement", items=missing, reason=request.note)
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
    actor: User,
    files: Mapping[int, Sequence[UploadedFile]] | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> SupplementRequest:
    """The applicant supplements (online, or a receptionist at the desk on their behalf):
    the documents are added, the clock restarts and every due date moves by the working
    days it was paused."""
    text = clean_text(note)
    if not files and not text:
        raise denial(_("Attach the missing documents or describe what was supplemented."), "input")
    written: list[str] = []
    try:
        with transaction.atomic():
            ctx = lock(dossier, actor, at=at)
            d = ctx.dossier
            if d.applicant_id is not None and d.applicant_id == actor.pk:
                channel = Channel.ONLINE
            elif Role.RECEPTIONIST in ctx.roles:
                channel = Channel.DESK
            else:
                raise denial(
                    _("Only the applicant or the one-stop desk can supplement a dossier."), "role"
                )
            require(ctx, "supplement_response")
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
            move(ctx, "supplement_response", process.status_before_pause or S.IN_PROCESSING)
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
            save(ctx, "status", "due_date")
            trail(
                ctx,
                actor,
                HandOverAction.SUPPLEMENTED,
                from_step=ctx.here,
                from_status=before,
                note=text,
            )
            announce(ctx, actor, "supplemented", before, text)
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
    actor: User,
    file: UploadedFile,
    number: str = "",
    expected_step: int | None = None,
) -> ResultDocument:
    """Attach the (draft) result document; the leader's approval issues it."""
    checked = check_file(file, component=_("Result"))
    written: list[str] = []
    try:
        with transaction.atomic():
            ctx = lock(dossier, actor)
            require(ctx, "attach_result")
            require_assignee(ctx, actor, expected_step)
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
            move(ctx, "attach_result")
            trail(
                ctx,
                actor,
                HandOverAction.RESULT_ATTACHED,
                from_step=ctx.here,
                from_status=ctx.dossier.status,
                note=row.number or row.original_name,
            )
    except BaseException:
        files_delete(written)
        raise
    return row


def _require_decision_step(ctx: LockedDossier) -> None:
    if ctx.process.step_position != engine.decision_position(ctx.steps):
        raise denial(
            _("Only the step “%(step)s” decides on this dossier.")
            % {"step": ctx.steps[engine.decision_position(ctx.steps)].name},
            "status",
        )


def _complete(ctx: LockedDossier, actor: User, decision: str) -> None:
    d, process = ctx.dossier, ctx.process
    d.completed_at = ctx.now
    process.decision = decision
    process.decided_at = ctx.now
    process.decided_by = actor
    process.outcome = engine.classify_outcome(ctx.now, d.due_date)
    effects.resolved(dossier=d, outcome=process.outcome, at=ctx.now)


def result_sign(
    *,
    dossier: Dossier,
    actor: User,
    signer: Signer | None = None,
    expected_step: int | None = None,
) -> IssuedDocument:
    """The leader holding the decision step signs the attached result with their own
    certificate (``signer``: a token or remote-signing service; by default their PKCS#12 file
    in this agency). The approval then issues it, sealed by the agency on top."""
    if Role.LEADER not in engine.roles_of(actor):
        raise denial(_("Only a leader signs the result."), "role")
    written: list[str] = []
    try:
        with transaction.atomic():
            ctx = lock(dossier, actor)
            require(ctx, "sign_result")
            require_assignee(ctx, actor, expected_step)
            _require_decision_step(ctx)
            result = (
                ResultDocument.objects.filter(dossier=ctx.dossier, issued_at__isnull=True)
                .order_by("-attached_at", "-id")
                .first()
            )
            if result is None:
                raise denial(_("Attach the result document before signing it."), "input")
            if IssuedDocument.objects.filter(
                dossier=ctx.dossier, kind="result", ref=str(result.pk), signed_by_id__isnull=False
            ).exists():
                raise denial(_("This result is already signed."), "status")
            try:
                issued = effects.result_signed(
                    agency=connection.tenant,
                    result=result,
                    actor=actor,
                    signer=signer,
                    written=written,
                )
            except SigningError as exc:
                raise denial(
                    _("The result could not be signed: %(reason)s") % {"reason": exc}, "signing"
                ) from None
            move(ctx, "sign_result")
            trail(
                ctx,
                actor,
                HandOverAction.RESULT_SIGNED,
                from_step=ctx.here,
                from_status=ctx.dossier.status,
                note=issued.signer,
            )
            effects.audited(
                action="result.signed",
                actor=actor,
                target=ctx.dossier.code,
                result=result.pk,
                sha256=issued.sha256,
            )
    except BaseException:
        files_delete(written)
        raise
    return issued


def dossier_approve(
    *, dossier: Dossier, actor: User, note: str = "", expected_step: int | None = None
) -> None:
    """The leader approves: the attached result is issued (sealed by the agency's
    certificate) and goes to the return step."""
    written: list[str] = []
    try:
        _approve(dossier, actor, note, expected_step, written)
    except BaseException:
        files_delete(written)
        raise


def _approve(
    dossier: Dossier, actor: User, note: str, expected_step: int | None, written: list[str]
) -> None:
    with transaction.atomic():
        ctx = lock(dossier, actor)
        require(ctx, "approve")
        require_assignee(ctx, actor, expected_step)
        _require_decision_step(ctx)
        pending = ResultDocument.objects.filter(dossier=ctx.dossier, issued_at__isnull=True)
        if not pending.exists():
            raise denial(_("Attach the result document before approving."), "input")
        issuing = list(pending.select_related("dossier"))
        pending.update(issued_at=ctx.now, issued_by_id=actor.pk)
        for result in issuing:
            result.issued_at, result.issued_by_id = ctx.now, actor.pk
        try:
            effects.results_issued(agency=connection.tenant, results=issuing, written=written)
        except SigningError as exc:
            raise denial(
                _("The result could not be signed: %(reason)s") % {"reason": exc}, "signing"
            ) from None
        d, before, here = ctx.dossier, ctx.dossier.status, ctx.here
        _complete(ctx, actor, Decision.APPROVED)
        position, _step = engine.return_step(ctx.steps)
        engine.enter_step(ctx.process, ctx.steps, position, at=ctx.now)
        move(ctx, "approve", S.RESULT_READY)
        save(ctx, "status", "completed_at")
        trail(
            ctx,
            actor,
            HandOverAction.APPROVED,
            from_step=here,
            from_status=before,
            note=clean_text(note),
        )
        announce(ctx, actor, "result_ready", before, "")
        effects.applicant_notified(dossier=d, key="result_ready")


def dossier_reject(
    *, dossier: Dossier, actor: User, reason: str, expected_step: int | None = None
) -> None:
    """The leader does not grant what was applied for, with the reason the applicant gets."""
    text = clean_text(reason, required=_("Give the reason the applicant will read."))
    with transaction.atomic():
        ctx = lock(dossier, actor)
        require(ctx, "reject")
        require_assignee(ctx, actor, expected_step)
        _require_decision_step(ctx)
        before, here = ctx.dossier.status, ctx.here
        _complete(ctx, actor, Decision.REJECTED)
        close(ctx.process)
        move(ctx, "reject", S.REJECTED)
        save(ctx, "status", "completed_at")
        trail(ctx, actor, HandOverAction.REJECTED, from_step=here, from_status=before, note=text)
        announce(ctx, actor, "rejected", before, text)


def result_return(
    *,
    dossier: Dossier,
    actor: User,
    method: str,
    note: str = "",
    expected_step: int | None = None,
) -> None:
    """Hand the result to the applicant: at the desk, by post, or into their account."""
    if method not in ReturnMethod.values:
        raise denial(_("Choose how the result is returned."), "input")
    with transaction.atomic():
        ctx = lock(dossier, actor)
        require(ctx, "return_result")
        require_assignee(ctx, actor, expected_step)
        d, before, here = ctx.dossier, ctx.dossier.status, ctx.here
        if method == ReturnMethod.ELECTRONIC and d.applicant_id is None:
            raise denial(
                _("The applicant has no account to receive the result electronically."), "input"
            )
        require_fee_settled(d)  # where the procedure says the fee comes first
        ctx.process.return_method = method
        ctx.process.returned_at = ctx.now
        close(ctx.process)
        move(ctx, "return_result", S.RETURNED)
        save(ctx, "status")
        label = str(ReturnMethod(method).label)
        trail(
            ctx,
            actor,
            HandOverAction.RETURNED,
            from_step=here,
            from_status=before,
            note=clean_text(note) or label,
        )
        announce(ctx, actor, "returned", before, label)
        if method == ReturnMethod.ELECTRONIC:
            effects.results_stored(agency=connection.tenant, dossier=d)


# -- Ending early --------------------------------------------------------------------------


def dossier_stop(*, dossier: Dossier, actor: User, reason: str) -> StopNotice:
    """Stop processing (Form 05), decided by a leader, with the reason."""
    text = clean_text(reason, required=_("Give the reason processing is stopped."))
    with transaction.atomic():
        ctx = lock(dossier, actor)
        require_role(ctx, Role.LEADER, Role.ADMIN)
        require(ctx, "stop")
        d, before, here = ctx.dossier, ctx.dossier.status, ctx.here
        notice = StopNotice.objects.create(
            dossier=d, reason=text, stopped_at=ctx.now, stopped_by=actor
        )
        close(ctx.process)
        row = move(ctx, "stop", S.STOPPED)
        save(ctx, "status")
        trail(ctx, actor, HandOverAction.STOPPED, from_step=here, from_status=before, note=text)
        announce(ctx, actor, "stopped", before, text)
        effects.transition_done(row, procedure_id=d.procedure_id, at=ctx.now)
    return notice


def dossier_withdraw(*, dossier: Dossier, actor: User, reason: str = "") -> None:
    """Withdraw on the applicant's request: by the applicant online, or by the desk."""
    text = clean_text(reason)
    with transaction.atomic():
        ctx = lock(dossier, actor)
        own = ctx.dossier.applicant_id is not None and ctx.dossier.applicant_id == actor.pk
        if not own:
            require_role(ctx, Role.RECEPTIONIST, Role.ADMIN)
        require(ctx, "withdraw")
        d, before, here = ctx.dossier, ctx.dossier.status, ctx.here
        close(ctx.process)
        row = move(ctx, "withdraw", S.WITHDRAWN)
        save(ctx, "status")
        trail(ctx, actor, HandOverAction.WITHDRAWN, from_step=here, from_status=before, note=text)
        announce(ctx, actor, "withdrawn", before, text)
        effects.transition_done(row, procedure_id=d.procedure_id, at=ctx.now)
