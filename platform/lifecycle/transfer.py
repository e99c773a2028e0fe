"""Inter-agency transfer (liên thông), the dossier's side: out to the other agency, back in.

``exchange.services`` owns the transfer itself (the ``Exchange`` row, its documents, the
receiving agency's part); these are the only writes it makes to the sender's dossier. Both
run in the caller's transaction, with the sender's schema active.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from accounts.models import User
from catalog.spec import Step
from dossiers import engine
from dossiers.models import Dossier, DossierProcess, DossierStatus, HandOverAction
from lifecycle import effects
from lifecycle.core import (
    LockedDossier,
    announce,
    clean_text,
    close,
    denial,
    lock,
    move,
    require,
    require_assignee,
    save,
    trail,
)

S = DossierStatus


def transfer_begin(
    *, dossier: Dossier, actor: User, expected_step: int | None = None
) -> LockedDossier:
    """Lock the dossier for sending it to another agency: in processing, with ``actor``
    holding a transfer step. Call :func:`dossier_transfer_out` in the same transaction."""
    ctx = lock(dossier, actor)
    require(ctx, "transfer_out")
    require_assignee(ctx, actor, expected_step)
    position = ctx.process.step_position
    assert position is not None
    if not engine.step_at(ctx.steps, position).transfer:
        raise denial(
            _("The step “%(step)s” does not hand dossiers to another agency.")
            % {"step": ctx.process.step_name},
            "status",
        )
    return ctx


def dossier_transfer_out(
    ctx: LockedDossier, *, actor: User, receiver_name: str, note: str = ""
) -> None:
    """The dossier leaves the sender's worklists (status ``transferred``), with its trail."""
    d = ctx.dossier
    text = clean_text(note)
    before, here = d.status, ctx.here
    close(ctx.process)
    row = move(ctx, "transfer_out", S.TRANSFERRED)
    save(ctx, "status")
    trail_note = receiver_name + (f": {text}" if text else "")
    trail(
        ctx, actor, HandOverAction.TRANSFERRED, from_step=here, from_status=before, note=trail_note
    )
    announce(ctx, actor, "transferred", before, receiver_name)
    effects.transition_done(row, procedure_id=d.procedure_id, at=ctx.now)


def dossier_transfer_in(
    *,
    dossier_id: int,
    dossier_code: str,
    actor: User,
    returned: bool,
    step_position: int,
    sent_by_id: int | None,
    receiver_name: str,
    note: str,
    at: dt.datetime,
) -> LockedDossier:
    """The other agency answered (``returned``: it did its part; else it refused the
    transfer): the dossier comes back into processing, and its trail says so.

    Returned: the step after the transfer step, or the transfer step itself when it is the
    decision step (its officer then decides with the result in hand). Refused: the
    transfer step, back with the officer who sent it if they still may take it."""
    try:
        d = (
            Dossier.objects.select_for_update(of=("self",))
            .select_related("procedure_version")
            .get(pk=dossier_id, code=dossier_code)
        )
    except Dossier.DoesNotExist:  # pragma: no cover - the sender cannot delete dossiers
        raise RuntimeError(f"transferred dossier {dossier_code} is missing") from None
    if d.status != S.TRANSFERRED:  # pragma: no cover - guarded by the exchange's state
        raise RuntimeError(f"dossier {d.code} is {d.status}, not transferred")
    process = DossierProcess.objects.get(dossier=d)
    steps = engine.steps_of(d)
    position = step_position
    holder: User | None = None
    if returned and position < engine.decision_position(steps):
        position += 1
    else:
        holder = _still_eligible(sent_by_id, d, position, steps)
    ctx = LockedDossier(d, process, steps, frozenset(), at)
    engine.enter_step(process, steps, position, at=at, assignee=holder)
    move(ctx, "transfer_in", S.IN_PROCESSING)
    save(ctx, "status")
    action = HandOverAction.TRANSFER_RETURNED if returned else HandOverAction.TRANSFER_REFUSED
    trail(ctx, actor, action, from_step=(None, ""), from_status=S.TRANSFERRED, note=note)
    announce(ctx, actor, action, S.TRANSFERRED, receiver_name)
    return ctx


def _still_eligible(
    user_id: int | None, dossier: Dossier, position: int, steps: tuple[Step, ...]
) -> User | None:
    if user_id is None:
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    step = engine.step_at(steps, position)
    if user is not None and engine.may_take_step(
        user, procedure_id=dossier.procedure_id, position=position, role=step.role
    ):
        return user
    return None
