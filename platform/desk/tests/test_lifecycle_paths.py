"""Every row of the lifecycle's table, driven through its public function.

For each transition of ``lifecycle.TRANSITIONS`` a household-business dossier is
brought to the row's status by the lifecycle's own functions, the row's action is done, and
the lifecycle must report exactly that row as executed. The transfer rows are driven by the
exchange's tests (``exchange/tests``) and the fee by ``dossiers/tests/test_fees.py``; the
suite-wide recorder (``tests/fixtures/lifecycle.py``) checks those on a whole-suite run.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

import lifecycle
from dossiers.models import Apology, Dossier, DossierProcess, DossierStatus
from lifecycle.core import add_recorder
from tenants.context import agency_context
from workdays.calendar import agency_calendar

S = DossierStatus
# sign_result needs key material and a timestamp server: documents/tests/test_issuing.py;
# move_out is a split of the agency (reorg/tests/test_split.py)
ELSEWHERE = {"transfer_out", "transfer_in", "pay_fee", "sign_result", "move_out"}


def _fresh(d: Dossier) -> Dossier:
    return Dossier.objects.get(pk=d.pk)


def reach(status: str, submit: Callable[[], Dossier], staff: SimpleNamespace) -> Dossier:
    """A dossier in ``status``, by the lifecycle's functions (reception by the receptionist,
    appraisal by the officer, decision by the leader)."""
    d = submit()
    if status == S.RECEIVED:
        return d
    lifecycle.dossier_claim(dossier=d, actor=staff.receptionist)
    if status == "supplement_from_received":
        lifecycle.supplement_request(dossier=d, actor=staff.receptionist, items=["CCCD"])
        return _fresh(d)
    lifecycle.dossier_forward(dossier=d, actor=staff.receptionist, to=staff.officer)
    if status == S.IN_PROCESSING:
        return _fresh(d)
    if status == S.SUPPLEMENT_REQUESTED:
        lifecycle.supplement_request(dossier=d, actor=staff.officer, items=["CCCD"])
        return _fresh(d)
    if status == S.TRANSFERRED:
        # Set-up only: the transfer itself is the exchange's (and its tests').
        Dossier.objects.filter(pk=d.pk).update(status=S.TRANSFERRED)
        return _fresh(d)
    lifecycle.dossier_forward(dossier=d, actor=staff.officer, to=staff.leader)
    if status == "at_decision":
        return _fresh(d)
    lifecycle.result_attach(dossier=d, actor=staff.leader, file=_pdf(), number="01/GP")
    lifecycle.dossier_approve(dossier=d, actor=staff.leader)
    assert status == S.RESULT_READY
    return _fresh(d)


def _pdf() -> Any:
    from tests.files import pdf

    return pdf()


def _unheld(d: Dossier) -> Dossier:
    DossierProcess.objects.filter(dossier=d).update(assignee=None)
    return d


def _draft_apology(d: Dossier) -> Dossier:
    Apology.objects.create(
        dossier=d,
        reason="Chưa kịp thẩm định",
        old_due_date=d.due_date,
        new_due_date=agency_calendar().add_working_days(d.due_date, 2),
        prepared_at=timezone.now(),
    )
    return d


Scenario = Callable[[Callable[[], Dossier], SimpleNamespace, Any], None]


def _claim(status: str) -> Scenario:
    def run(submit: Any, staff: SimpleNamespace, citizen: Any) -> None:
        start = "supplement_from_received" if status == S.SUPPLEMENT_REQUESTED else status
        d = _unheld(reach(start, submit, staff))
        who = staff.officer if status == S.IN_PROCESSING else staff.receptionist
        lifecycle.dossier_claim(dossier=d, actor=who)

    return run


def _assign(status: str) -> Scenario:
    def run(submit: Any, staff: SimpleNamespace, citizen: Any) -> None:
        start = "supplement_from_received" if status == S.SUPPLEMENT_REQUESTED else status
        d = reach(start, submit, staff)
        to = staff.officer2 if status == S.IN_PROCESSING else staff.receptionist
        lifecycle.dossier_assign(dossier=d, actor=staff.leader, to=to)

    return run


def _stop(status: str) -> Scenario:
    def run(submit: Any, staff: SimpleNamespace, citizen: Any) -> None:
        d = reach(status, submit, staff)
        lifecycle.dossier_stop(dossier=d, actor=staff.leader, reason="Theo yêu cầu")

    return run


def _withdraw(status: str) -> Scenario:
    def run(submit: Any, staff: SimpleNamespace, citizen: Any) -> None:
        d = reach(status, submit, staff)
        lifecycle.dossier_withdraw(dossier=d, actor=citizen, reason="Không cần nữa")

    return run


def _extend(status: str) -> Scenario:
    def run(submit: Any, staff: SimpleNamespace, citizen: Any) -> None:
        d = _draft_apology(reach(status, submit, staff))
        lifecycle.apology_sign(dossier=d, actor=staff.leader)

    return run


def _supplement_request(status: str) -> Scenario:
    def run(submit: Any, staff: SimpleNamespace, citizen: Any) -> None:
        if status == S.RECEIVED:
            reach("supplement_from_received", submit, staff)
        else:
            reach(S.SUPPLEMENT_REQUESTED, submit, staff)

    return run


def _supplement_response(target: str) -> Scenario:
    def run(submit: Any, staff: SimpleNamespace, citizen: Any) -> None:
        start = "supplement_from_received" if target == S.RECEIVED else S.SUPPLEMENT_REQUESTED
        d = reach(start, submit, staff)
        lifecycle.supplement_receive(dossier=d, actor=citizen, note="Đã bổ sung bản sao CCCD")

    return run


def _refuse(submit: Any, staff: SimpleNamespace, citizen: Any) -> None:
    d = submit()
    lifecycle.dossier_claim(dossier=d, actor=staff.receptionist)
    lifecycle.dossier_refuse(dossier=d, actor=staff.receptionist, reasons=["Sai mẫu đơn"])


def _forward(status: str) -> Scenario:
    def run(submit: Any, staff: SimpleNamespace, citizen: Any) -> None:
        reach(S.IN_PROCESSING if status == S.RECEIVED else "at_decision", submit, staff)

    return run


def _send_back(submit: Any, staff: SimpleNamespace, citizen: Any) -> None:
    d = reach("at_decision", submit, staff)
    lifecycle.dossier_send_back(dossier=d, actor=staff.leader, to_step=1, note="Thẩm định lại")


def _attach(submit: Any, staff: SimpleNamespace, citizen: Any) -> None:
    d = reach("at_decision", submit, staff)
    lifecycle.result_attach(dossier=d, actor=staff.leader, file=_pdf())


def _approve(submit: Any, staff: SimpleNamespace, citizen: Any) -> None:
    reach(S.RESULT_READY, submit, staff)


def _reject(submit: Any, staff: SimpleNamespace, citizen: Any) -> None:
    d = reach("at_decision", submit, staff)
    lifecycle.dossier_reject(dossier=d, actor=staff.leader, reason="Không đủ điều kiện")


def _return(submit: Any, staff: SimpleNamespace, citizen: Any) -> None:
    d = reach(S.RESULT_READY, submit, staff)
    lifecycle.dossier_claim(dossier=d, actor=staff.receptionist)
    lifecycle.result_return(dossier=d, actor=staff.receptionist, method="desk")


def _receive(submit: Any, staff: SimpleNamespace, citizen: Any) -> None:
    submit()


def scenario(row: lifecycle.Transition) -> Scenario:
    simple: dict[str, Scenario] = {
        "receive": _receive,
        "refuse": _refuse,
        "send_back": _send_back,
        "attach_result": _attach,
        "approve": _approve,
        "reject": _reject,
        "return_result": _return,
    }
    per_source: dict[str, Callable[[str], Scenario]] = {
        "claim": _claim,
        "assign": _assign,
        "forward": _forward,
        "stop": _stop,
        "withdraw": _withdraw,
        "extend": _extend,
        "supplement_request": _supplement_request,
    }
    if row.action in simple:
        return simple[row.action]
    if row.action == "supplement_response":
        return _supplement_response(row.target)
    return per_source[row.action](row.source)


ROWS = [row for row in lifecycle.TRANSITIONS if row.action not in ELSEWHERE]


def test_every_row_has_a_scenario_here_or_elsewhere() -> None:
    for row in lifecycle.TRANSITIONS:
        assert row.action in ELSEWHERE or scenario(row) is not None


@pytest.mark.django_db
@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.source or 'new'}-{r.action}-{r.target}")
def test_each_transition_through_its_public_function(
    row: lifecycle.Transition, commune: Any, staff: SimpleNamespace, submit_shop: Any, citizen: Any
) -> None:
    seen: list[tuple[str, str, str]] = []
    with agency_context(commune):
        run = scenario(row)
        remove = add_recorder(lambda t: seen.append(t.key))
        try:
            run(submit_shop, staff, citizen)
        finally:
            remove()
    assert row.key in seen, f"{row.key} not executed; executed: {seen}"
