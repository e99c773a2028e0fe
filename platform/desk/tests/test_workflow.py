"""The workflow engine: every transition, allowed and refused, with its trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from desk import services
from dossiers import engine
from dossiers.models import (
    Decision,
    Dossier,
    DossierEvent,
    DossierProcess,
    DossierStatus,
    HandOver,
    Outcome,
    ResultDocument,
    ReturnMethod,
    StepAssignment,
    StopNotice,
)
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.files import pdf
from workdays.calendar import agency_calendar

from .conftest import VN

S = DossierStatus


def fresh(dossier: Dossier) -> tuple[Dossier, DossierProcess]:
    d = Dossier.objects.get(pk=dossier.pk)
    return d, DossierProcess.objects.get(dossier=d)


def refused(code: str, func, **kwargs) -> str:
    """Run a transition that must be refused; return the message; nothing may change."""
    dossier = kwargs["dossier"]
    before = (fresh(dossier), HandOver.objects.filter(dossier=dossier).count())
    with pytest.raises(ValidationError) as exc:
        func(**kwargs)
    assert exc.value.code == code, exc.value.messages
    d, p = fresh(dossier)
    (d0, p0), trail = before
    assert (d.status, d.due_date, p.step_position, p.assignee_id) == (
        d0.status,
        d0.due_date,
        p0.step_position,
        p0.assignee_id,
    )
    assert HandOver.objects.filter(dossier=dossier).count() == trail
    return exc.value.messages[0]


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_an_online_dossier_goes_from_receipt_to_returned_result(
    commune, staff, submit_shop, citizen
) -> None:
    with agency_context(commune):
        dossier = submit_shop()
        d, p = fresh(dossier)
        assert (p.step_position, p.step_role, p.assignee_id) == (0, "receptionist", None)
        calendar = agency_calendar()
        assert p.step_due_date == d.counting_start
        assert d.due_date == calendar.add_working_days(d.counting_start, 3)

        services.dossier_claim(dossier=d, actor=staff.receptionist, expected_step=0)
        services.dossier_forward(dossier=d, actor=staff.receptionist, note="Đủ thành phần")
        d, p = fresh(d)
        assert d.status == S.IN_PROCESSING
        assert (p.step_position, p.step_role, p.assignee_id) == (1, "officer", None)

        services.dossier_claim(dossier=d, actor=staff.officer)
        services.result_attach(dossier=d, actor=staff.officer, file=pdf("gcn.pdf"), number="12/GCN")
        services.dossier_forward(dossier=d, actor=staff.officer, to=staff.leader, note="Trình ký")
        d, p = fresh(d)
        assert (p.step_position, p.assignee_id) == (2, staff.leader.pk)

        services.dossier_approve(dossier=d, actor=staff.leader, expected_step=2)
        d, p = fresh(d)
        assert d.status == S.RESULT_READY and d.completed_at is not None
        assert (p.decision, p.decided_by_id) == (Decision.APPROVED, staff.leader.pk)
        assert p.outcome == Outcome.EARLY
        assert (p.step_position, p.step_name, p.step_role) == (3, "Trả kết quả", "receptionist")
        assert ResultDocument.objects.get(dossier=d).issued_by_id == staff.leader.pk

        services.dossier_claim(dossier=d, actor=staff.receptionist)
        services.result_return(dossier=d, actor=staff.receptionist, method=ReturnMethod.ELECTRONIC)
        d, p = fresh(d)
        assert d.status == S.RETURNED and p.step_position is None
        assert p.return_method == ReturnMethod.ELECTRONIC

        trail = list(
            HandOver.objects.filter(dossier=d).values_list("action", "from_step", "to_step")
        )
        assert trail == [
            ("received", None, 0),
            ("claimed", 0, 0),
            ("forwarded", 0, 1),
            ("claimed", 1, 1),
            ("result_attached", 1, 1),
            ("forwarded", 1, 2),
            ("approved", 2, 3),
            ("claimed", 3, 3),
            ("returned", 3, None),
        ]
        public = list(
            DossierEvent.objects.filter(dossier=d).order_by("id").values_list("action", "to_status")
        )
        assert public == [
            ("received", S.RECEIVED),
            ("accepted", S.IN_PROCESSING),
            ("result_ready", S.RESULT_READY),
            ("returned", S.RETURNED),
        ]


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_illegal_transitions_are_refused_and_change_nothing(
    commune, staff, submit_shop, citizen
) -> None:
    with agency_context(commune):
        d = submit_shop()
        # Nobody has taken it; an officer cannot take a reception step.
        msg = refused("assignee", services.dossier_forward, dossier=d, actor=staff.receptionist)
        assert "take it first" in msg
        msg = refused("role", services.dossier_claim, dossier=d, actor=staff.officer)
        assert "needs the role" in msg
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        # A second receptionist-free officer cannot take what is held, and a citizen has no role.
        refused("role", services.dossier_forward, dossier=d, actor=citizen)
        refused("status", services.dossier_approve, dossier=d, actor=staff.leader)
        refused(
            "moved", services.dossier_forward, dossier=d, actor=staff.receptionist, expected_step=1
        )
        refused(
            "input",
            services.dossier_send_back,
            dossier=d,
            actor=staff.receptionist,
            to_step=0,
            note="",
        )
        services.dossier_forward(dossier=d, actor=staff.receptionist, to=staff.officer)
        # Only the holder acts; an officer without the step cannot forward it.
        msg = refused("assignee", services.dossier_forward, dossier=d, actor=staff.officer2)
        assert "another officer" in msg
        refused("assignee", services.dossier_claim, dossier=d, actor=staff.officer2)
        refused("assignee", services.dossier_approve, dossier=d, actor=staff.officer2)
        # Assigning needs a leader (or the holder) and an officer who may take the step.
        refused("role", services.dossier_assign, dossier=d, actor=staff.officer2, to=staff.officer2)
        refused(
            "role", services.dossier_assign, dossier=d, actor=staff.leader, to=staff.receptionist
        )
        services.dossier_assign(dossier=d, actor=staff.leader, to=staff.officer2, note="Chia việc")
        assert fresh(d)[1].assignee_id == staff.officer2.pk
        # The officer's step is not the decision step.
        refused("status", services.dossier_approve, dossier=d, actor=staff.officer2)
        services.dossier_forward(dossier=d, actor=staff.officer2)
        services.dossier_claim(dossier=d, actor=staff.leader)
        refused("status", services.dossier_forward, dossier=d, actor=staff.leader)
        msg = refused("input", services.dossier_approve, dossier=d, actor=staff.leader)
        assert "Attach the result" in msg
        refused("input", services.dossier_reject, dossier=d, actor=staff.leader, reason=" ")
        refused("status", services.result_return, dossier=d, actor=staff.leader, method="desk")
        refused("input", services.result_return, dossier=d, actor=staff.leader, method="pigeon")
        # Stopping is a leader's decision; withdrawing the applicant's or the desk's.
        refused("role", services.dossier_stop, dossier=d, actor=staff.officer, reason="x")
        refused("role", services.dossier_withdraw, dossier=d, actor=staff.officer, reason="x")


@pytest.mark.django_db
def test_send_back_returns_to_who_handled_the_step(commune, staff, submit_shop) -> None:
    with agency_context(commune):
        d = submit_shop()
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        services.dossier_forward(dossier=d, actor=staff.receptionist)
        services.dossier_claim(dossier=d, actor=staff.officer)
        services.dossier_forward(dossier=d, actor=staff.officer, to=staff.leader)
        services.dossier_send_back(dossier=d, actor=staff.leader, to_step=1, note="Thiếu thẩm định")
        d, p = fresh(d)
        assert (p.step_position, p.assignee_id, d.status) == (1, staff.officer.pk, S.IN_PROCESSING)
        last = HandOver.objects.filter(dossier=d).last()
        assert last is not None and (last.action, last.from_step, last.to_step) == (
            "sent_back",
            2,
            1,
        )
        assert last.note == "Thiếu thẩm định"


@pytest.mark.django_db
def test_a_rejection_ends_processing_with_the_reason(commune, staff, submit_shop) -> None:
    with agency_context(commune):
        d = submit_shop()
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        services.dossier_forward(dossier=d, actor=staff.receptionist)
        services.dossier_claim(dossier=d, actor=staff.officer)
        services.dossier_forward(dossier=d, actor=staff.officer, to=staff.leader)
        Dossier.objects.filter(pk=d.pk).update(due_date=dt.date(2020, 1, 2))
        services.dossier_reject(dossier=d, actor=staff.leader, reason="Ngành nghề bị cấm")
        d, p = fresh(d)
        assert d.status == S.REJECTED and p.step_position is None
        assert (p.decision, p.outcome) == (Decision.REJECTED, Outcome.LATE)
        assert DossierEvent.objects.filter(dossier=d).last().note == "Ngành nghề bị cấm"


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_stop_and_withdraw(commune, staff, submit_shop, citizen) -> None:
    with agency_context(commune):
        a, b, c = submit_shop(), submit_shop(), submit_shop()
        notice = services.dossier_stop(dossier=a, actor=staff.leader, reason="Cơ quan thuế đề nghị")
        assert StopNotice.objects.get(dossier=a) == notice
        assert fresh(a)[0].status == S.STOPPED and fresh(a)[1].step_position is None
        refused("status", services.dossier_withdraw, dossier=a, actor=citizen)
        services.dossier_withdraw(dossier=b, actor=citizen, reason="Không còn nhu cầu")
        services.dossier_withdraw(dossier=c, actor=staff.receptionist, reason="Công dân đến rút")
        assert {fresh(x)[0].status for x in (b, c)} == {S.WITHDRAWN}
        refused("status", services.dossier_claim, dossier=b, actor=staff.receptionist)


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_an_online_dossier_is_refused_at_reception(commune, staff, submit_shop) -> None:
    with agency_context(commune):
        d = submit_shop()
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        with pytest.raises(ValidationError, match="at least one reason"):
            services.dossier_refuse(dossier=d, actor=staff.receptionist, reasons=["", " "])
        refusal = services.dossier_refuse(
            dossier=d, actor=staff.receptionist, reasons=["Không thuộc thẩm quyền", " "]
        )
        assert refusal.reasons == ["Không thuộc thẩm quyền"] and refusal.dossier_id == d.pk
        assert fresh(d)[0].status == S.REFUSED


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_step_assignments_decide_who_may_take_a_step(commune, staff, submit_shop) -> None:
    with agency_context(commune):
        shop = AgencyProcedure.objects.get(code="S-KD-001")
        with pytest.raises(ValidationError, match="do not have the role"):
            services.step_assignments_set(
                actor=staff.admin, procedure=shop, step_position=1, users=[staff.leader]
            )
        with pytest.raises(ValidationError):
            services.step_assignments_set(
                actor=staff.officer, procedure=shop, step_position=1, users=[staff.officer]
            )
        services.step_assignments_set(
            actor=staff.admin, procedure=shop, step_position=1, users=[staff.officer2]
        )
        assert list(StepAssignment.objects.values_list("user_id", flat=True)) == [staff.officer2.pk]
        d = submit_shop()
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        services.dossier_forward(dossier=d, actor=staff.receptionist)
        msg = refused("role", services.dossier_claim, dossier=d, actor=staff.officer)
        assert "only the officers assigned" in msg
        services.dossier_claim(dossier=d, actor=staff.officer2)


@pytest.mark.django_db
def test_deadline_states_and_outcomes() -> None:
    from workdays.calendar import WorkCalendar

    cal = WorkCalendar()
    monday = dt.date(2026, 11, 30)
    assert engine.deadline_state(dt.date(2026, 12, 10), today=monday, calendar=cal) == "on_time"
    assert engine.deadline_state(dt.date(2026, 12, 2), today=monday, calendar=cal) == "due_soon"
    assert engine.deadline_state(monday, today=monday, calendar=cal) == "due_soon"
    assert engine.deadline_state(dt.date(2026, 11, 27), today=monday, calendar=cal) == "overdue"
    noon = dt.datetime(2026, 11, 30, 12, 0, tzinfo=VN)
    assert engine.classify_outcome(noon, dt.date(2026, 12, 1)) == Outcome.EARLY
    assert engine.classify_outcome(noon, monday) == Outcome.ON_TIME
    assert engine.classify_outcome(noon, dt.date(2026, 11, 27)) == Outcome.LATE
    # The day is Vietnam's: 06:00 on 1 December there is still 30 November in UTC.
    early_morning = dt.datetime(2026, 12, 1, 6, 0, tzinfo=VN)
    assert engine.classify_outcome(early_morning.astimezone(dt.UTC), monday) == Outcome.LATE
