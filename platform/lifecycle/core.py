"""The plumbing every lifecycle action shares: lock, guards, the one status write, the trail.

Each action locks the dossier row (``select_for_update``), validates the dossier's status
(against ``TRANSITIONS``), step and the actor's role against the fresh row, then writes the
new state (:func:`move`, the only assignment of ``Dossier.status`` in the code base), a line
of the hand-over trail (Form 06) and, when the applicant should see it, a ``DossierEvent``,
all in the caller's transaction. Two officers racing on one dossier queue on the lock; the
second one is checked against what the first one left and gets a clear refusal.

A refusal is a ``ValidationError`` with a code: ``missing``, ``status``, ``role``,
``assignee``, ``moved``, ``input``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from catalog.spec import Step
from dossiers import engine
from dossiers.models import Dossier, DossierEvent, DossierProcess, HandOver, StepAssignment
from lifecycle import effects
from lifecycle.table import ANY, Transition, allowed_sources, transition
from procedures.models import AgencyProcedure

MAX_NOTE = 4000

#: Test hook: called with every transition executed (see tests of the lifecycle table).
_recorders: list[Callable[[Transition], None]] = []


def add_recorder(recorder: Callable[[Transition], None]) -> Callable[[], None]:
    """Call ``recorder`` with each transition executed from now on; returns the remover."""
    _recorders.append(recorder)
    return lambda: _recorders.remove(recorder)


@dataclass
class LockedDossier:
    """A dossier's fresh row, locked until the transaction ends, with its process.

    Only valid inside the transaction that locked it (:func:`lock`)."""

    dossier: Dossier
    process: DossierProcess
    steps: tuple[Step, ...]
    roles: frozenset[str]
    now: dt.datetime

    @property
    def here(self) -> tuple[int | None, str]:
        return self.process.step_position, self.process.step_name


def denial(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def lock(dossier: Dossier, actor: User | None, *, at: dt.datetime | None = None) -> LockedDossier:
    """The dossier's fresh row, locked until the transaction ends, with its process.

    Looked up by primary key *and* code: ids repeat across agency schemas, so a dossier
    object from another agency never resolves to this agency's dossier."""
    return lock_by_id(dossier.pk, dossier.code, actor, at=at)


def lock_by_id(
    pk: int, code: str, actor: User | None, *, at: dt.datetime | None = None
) -> LockedDossier:
    try:
        fresh = (
            Dossier.objects.select_for_update(of=("self",))
            .select_related("procedure_version")
            .get(pk=pk, code=code)
        )
    except Dossier.DoesNotExist:
        raise denial(_("This dossier does not exist in this agency."), "missing") from None
    process = DossierProcess.objects.get(dossier=fresh)
    return LockedDossier(
        fresh, process, engine.steps_of(fresh), engine.roles_of(actor), at or timezone.now()
    )


def require(ctx: LockedDossier, action: str) -> None:
    """The dossier's status allows ``action`` (some row of ``TRANSITIONS`` starts there)."""
    if ctx.dossier.status not in allowed_sources(action):
        raise denial(
            _("This is not possible while the dossier is “%(status)s”.")
            % {"status": ctx.dossier.get_status_display()},
            "status",
        )


def move(ctx: LockedDossier, action: str, target: str | None = None) -> Transition:
    """Put the dossier in ``target`` (None: keep its status) by ``action``: the one place a
    dossier's status is assigned. Refuses a move that is not in ``TRANSITIONS``."""
    row = transition(ctx.dossier.status, action, target)
    if row is None:
        raise denial(
            _("This is not possible while the dossier is “%(status)s”.")
            % {"status": ctx.dossier.get_status_display()},
            "status",
        )
    if row.target != ANY:
        ctx.dossier.status = row.target
    for recorder in list(_recorders):
        recorder(row)
    return row


def record_new(row: Transition) -> None:
    """A transition made without a locked dossier (a new dossier's ``receive``, dossiers
    moved out in bulk by a split), for the recorders."""
    for recorder in list(_recorders):
        recorder(row)


def require_step(ctx: LockedDossier, expected_step: int | None) -> None:
    if ctx.process.step_position is None:
        raise denial(_("This dossier is no longer in processing."), "status")
    if expected_step is not None and expected_step != ctx.process.step_position:
        raise denial(
            _("This dossier has moved on since you opened it; reload it and try again."),
            "moved",
        )


def require_assignee(ctx: LockedDossier, actor: User, expected_step: int | None) -> None:
    """Only the officer holding the current step acts on it, and only while they hold the
    step's role."""
    require_step(ctx, expected_step)
    process = ctx.process
    if process.step_role not in ctx.roles:
        raise denial(
            _("You do not have the role the step “%(step)s” needs (%(role)s).")
            % {"step": process.step_name, "role": Role(process.step_role).label},
            "role",
        )
    if process.assignee_id is None:
        raise denial(
            _("Nobody has taken this dossier at “%(step)s” yet: take it first.")
            % {"step": process.step_name},
            "assignee",
        )
    if process.assignee_id != actor.pk:
        raise denial(
            _("This dossier is with another officer at “%(step)s”; only they can act on it.")
            % {"step": process.step_name},
            "assignee",
        )


def require_fee_settled(dossier: Dossier) -> None:
    """Refuse to return the result while a fee the procedure wants paid first is not: the
    procedure's ``fee_before_result`` says so; a dossier with no fee (or a fee waived to 0) is
    always settled."""
    required = (
        AgencyProcedure.objects.filter(pk=dossier.procedure_id)
        .values_list("fee_before_result", flat=True)
        .first()
    )
    if required and dossier.fee_amount > 0 and not dossier.fee_paid:
        raise denial(
            _(
                "The fee of %(amount)s VND is not paid yet: this procedure requires the fee "
                "to be settled before the result is returned."
            )
            % {"amount": f"{dossier.fee_amount:,}".replace(",", ".")},
            "fee_unpaid",
        )


def require_role(ctx: LockedDossier, *roles: str) -> None:
    if not ctx.roles & set(roles):
        raise denial(_("Your role in this agency does not allow this action."), "role")


def require_eligible(ctx: LockedDossier, user: User, *, position: int | None = None) -> None:
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
        raise denial(
            message % {"person": str(user), "step": step.name, "role": Role(step.role).label},
            "role",
        )


def clean_text(value: str, *, required: str | None = None) -> str:
    """A note or reason as stored: stripped, at most ``MAX_NOTE`` characters; ``required``
    is the refusal's message when it may not be empty."""
    text = (value or "").strip()[:MAX_NOTE]
    if required is not None and not text:
        raise denial(required, "input")
    return text


def clean_lines(values: Iterable[str], *, required: str) -> list[str]:
    cleaned = [v.strip()[:500] for v in values if v and v.strip()]
    if not cleaned:
        raise denial(required, "input")
    return cleaned


def trail(
    ctx: LockedDossier,
    actor: User | None,
    action: str,
    *,
    from_step: tuple[int | None, str],
    from_status: str,
    note: str = "",
) -> HandOver:
    """A line of the hand-over trail (Form 06): from where to where, by whom."""
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


def public_event(
    dossier: Dossier,
    actor: User | None,
    action: str,
    *,
    at: dt.datetime,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    details: dict[str, str] | None = None,
) -> DossierEvent:
    """What the applicant sees in their dossier's history. The national-portal outbox row of
    a status change is written by the action's effects (``effects.event_recorded``)."""
    return DossierEvent.objects.create(
        dossier=dossier,
        at=at,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
        details=details or {},
    )


def announce(
    ctx: LockedDossier, actor: User | None, action: str, from_status: str, note: str
) -> DossierEvent:
    """The applicant's history line of this action, from ``from_status`` to the dossier's
    status now, with its effects (the national-portal outbox)."""
    event = public_event(
        ctx.dossier,
        actor,
        action,
        at=ctx.now,
        from_status=from_status,
        to_status=ctx.dossier.status,
        note=note,
    )
    effects.event_recorded(event)
    return event


def save(ctx: LockedDossier, *dossier_fields: str) -> None:
    ctx.process.save()
    if dossier_fields:
        ctx.dossier.save(update_fields=[*dossier_fields, "updated_at"])


def close(process: DossierProcess) -> None:
    """The process leaves its steps: nobody holds the dossier any more."""
    process.step_position = None
    process.step_name = ""
    process.step_role = ""
    process.assignee = None
    process.step_due_date = None
    process.paused_at = None
    process.status_before_pause = ""
