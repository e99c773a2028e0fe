"""The dossier lifecycle as data: which action may move a dossier from which status to which.

Every public function of ``lifecycle`` looks its move up here
(:func:`transition`) before it writes anything; a move that is not a row of
``TRANSITIONS`` is refused with the ``status`` code. ``LIFECYCLE.md`` beside the app is
generated from this table (:func:`mermaid`), and a test keeps the two equal.

Columns: the status a dossier is in, the action, who may do it, the status it is in
afterwards, the form (Decision 822/QĐ-VPCP numbering: 01 receipt, 02 supplement request, 03
refusal, 04 apology and new appointment, 05 stop notice, 06 hand-over trail) the action
writes, whether the legal clock stands still afterwards, and the statistics metric it
counts. Actions that keep the status (taking, assigning, sending back, attaching or signing a
result, a fee paid, a Form 04) are rows too, from a status to itself (``ANY`` to ``ANY``: in
whatever status the dossier is).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dossiers.models import DossierStatus

S = DossierStatus

#: Who acts: the officer holding the dossier's current step, or anyone with these roles.
HOLDER = "step holder"
APPLICANT = "applicant"
RECEPTIONIST = "receptionist"
LEADER = "leader"
ADMIN = "admin"
RECEIVING_AGENCY = "receiving agency"
GATEWAY = "payment gateway"
PROVIDER = "provider (reorganisation)"


@dataclass(frozen=True)
class Transition:
    source: str  # DossierStatus, or "" for a dossier that does not exist yet
    action: str
    roles: tuple[str, ...]
    target: str
    form: str = ""  # "01" … "06"
    clock_paused: bool = False
    metric: str = ""  # reports.models.Metric counted by stats_dossier_event, if any

    @property
    def key(self) -> tuple[str, str, str]:
        return self.source, self.action, self.target


OPEN = (S.RECEIVED, S.IN_PROCESSING, S.SUPPLEMENT_REQUESTED)
HELD = (S.RECEIVED, S.IN_PROCESSING, S.SUPPLEMENT_REQUESTED, S.RESULT_READY)
#: A row from ``ANY`` status to ``ANY`` keeps whatever status the dossier is in.
ANY = "*"


def _rows(
    sources: Iterable[str],
    action: str,
    roles: tuple[str, ...],
    target: str | None = None,
    **kw: object,
) -> list[Transition]:
    """One row per source; ``target=None`` keeps the status."""
    return [
        Transition(source, action, roles, source if target is None else target, **kw)  # type: ignore[arg-type]
        for source in sources
    ]


TRANSITIONS: tuple[Transition, ...] = (
    # Intake
    Transition("", "receive", (APPLICANT, RECEPTIONIST), S.RECEIVED, form="01"),
    Transition(S.RECEIVED, "refuse", (HOLDER,), S.REFUSED, form="03", metric="refused"),
    # Taking and handing over (Form 06)
    *_rows(HELD, "claim", (HOLDER,), form="06"),
    *_rows(HELD, "assign", (HOLDER, LEADER, ADMIN), form="06"),
    Transition(S.RECEIVED, "forward", (HOLDER,), S.IN_PROCESSING, form="06"),
    Transition(S.IN_PROCESSING, "forward", (HOLDER,), S.IN_PROCESSING, form="06"),
    Transition(S.IN_PROCESSING, "send_back", (HOLDER,), S.IN_PROCESSING, form="06"),
    # Supplements (Form 02): the clock stops until the applicant supplements
    *_rows(
        (S.RECEIVED, S.IN_PROCESSING),
        "supplement_request",
        (HOLDER,),
        S.SUPPLEMENT_REQUESTED,
        form="02",
        clock_paused=True,
        metric="supplement_paused",
    ),
    Transition(
        S.SUPPLEMENT_REQUESTED, "supplement_response", (APPLICANT, RECEPTIONIST), S.RECEIVED
    ),
    Transition(
        S.SUPPLEMENT_REQUESTED, "supplement_response", (APPLICANT, RECEPTIONIST), S.IN_PROCESSING
    ),
    # Decision and result
    Transition(S.IN_PROCESSING, "attach_result", (HOLDER,), S.IN_PROCESSING, form="06"),
    # The leader holding the decision step signs the attached result with their own
    # certificate; the approval then seals it with the agency's (documents.services)
    Transition(S.IN_PROCESSING, "sign_result", (HOLDER, LEADER), S.IN_PROCESSING, form="06"),
    Transition(S.IN_PROCESSING, "approve", (HOLDER,), S.RESULT_READY, form="06"),
    Transition(S.IN_PROCESSING, "reject", (HOLDER,), S.REJECTED, form="06"),
    Transition(S.RESULT_READY, "return_result", (HOLDER,), S.RETURNED, form="06"),
    # Inter-agency transfer: the dossier waits while the other agency does its part
    Transition(
        S.IN_PROCESSING, "transfer_out", (HOLDER,), S.TRANSFERRED, form="06", metric="transferred"
    ),
    Transition(S.TRANSFERRED, "transfer_in", (RECEIVING_AGENCY,), S.IN_PROCESSING, form="06"),
    # Ending early
    *_rows(OPEN, "stop", (LEADER, ADMIN), S.STOPPED, form="05", metric="stopped"),
    *_rows(
        OPEN,
        "withdraw",
        (APPLICANT, RECEPTIONIST, ADMIN),
        S.WITHDRAWN,
        form="06",
        metric="withdrawn",
    ),
    # Late: Form 04 moves the due date (any open dossier with a draft apology)
    *_rows(
        (S.RECEIVED, S.IN_PROCESSING, S.SUPPLEMENT_REQUESTED, S.TRANSFERRED),
        "extend",
        (LEADER,),
        form="04",
    ),
    # The fee, paid online in any status (it is recorded even after the dossier closed)
    Transition(ANY, "pay_fee", (GATEWAY,), ANY, metric="paid_online"),
    # A split took the dossier to another agency (reorg): its copy here ends, in any status
    Transition(ANY, "move_out", (PROVIDER,), S.MOVED),
)

_BY_KEY = {t.key: t for t in TRANSITIONS}
ACTIONS = tuple(dict.fromkeys(t.action for t in TRANSITIONS))


def transition(source: str, action: str, target: str | None = None) -> Transition | None:
    """The row for this move (``target=None``: the action keeps the status), or None."""
    row = _BY_KEY.get((source, action, source if target is None else target))
    if row is None and source in S.values:
        # A row from ANY status: to ANY (keeping it), or to one status the dossier is not in.
        row = _BY_KEY.get((ANY, action, ANY if target is None or target == source else target))
    return row


def allowed_sources(action: str) -> tuple[str, ...]:
    sources = [t.source for t in TRANSITIONS if t.action == action]
    if ANY in sources:  # every status, but the one a row from ANY leads to (moved: not again)
        ends = {t.target for t in TRANSITIONS if t.action == action and t.source == ANY}
        return tuple(v for v in S.values if v not in ends)
    return tuple(dict.fromkeys(sources))


# -- The diagram -------------------------------------------------------------------------

#: Actions that keep the status and happen in (nearly) every status: listed once under the
#: diagram instead of drawn as a loop on each state.
UNDRAWN = ("claim", "assign", "pay_fee", "extend")


def mermaid() -> str:
    """The state diagram of ``TRANSITIONS`` (Mermaid ``stateDiagram-v2``)."""
    lines = ["stateDiagram-v2"]
    if any(t.source == ANY and t.target != ANY for t in TRANSITIONS):
        lines.append('    state "any status" as any_status')
    edges: dict[tuple[str, str], list[str]] = {}
    for t in TRANSITIONS:
        if t.action in UNDRAWN:
            continue
        label = t.action + (f" (Form {t.form})" if t.form and t.form != "06" else "")
        if t.clock_paused:
            label += " ⏸"
        source = "any_status" if t.source == ANY else (t.source or "[*]")
        edges.setdefault((source, t.target), [])
        if label not in edges[(source, t.target)]:
            edges[(source, t.target)].append(label)
    for (source, target), labels in edges.items():
        lines.append(f"    {source} --> {target}: {', '.join(labels)}")
    for status in (S.REFUSED, S.REJECTED, S.RETURNED, S.STOPPED, S.WITHDRAWN, S.MOVED):
        lines.append(f"    {status} --> [*]")
    return "\n".join(lines)


def markdown_table() -> str:
    """The table itself, one row per transition."""
    rows = [
        "| from | action | who | to | form | clock |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for t in TRANSITIONS:
        rows.append(
            f"| {t.source or '(new)'} | `{t.action}` | {', '.join(t.roles)} "
            f"| {'(same)' if t.target == ANY else t.target} "
            f"| {t.form or ''} | {'paused' if t.clock_paused else ''} |"
        )
    return "\n".join(rows)
