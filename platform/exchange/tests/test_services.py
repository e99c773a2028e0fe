"""Every transition of a transfer and every refusal, on real agency schemas."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from audit.models import AuditEntry
from desk import services as desk
from dossiers.models import (
    Dossier,
    DossierDocument,
    DossierEvent,
    DossierProcess,
    DossierStatus,
    HandOver,
)
from exchange import selectors, services
from exchange.models import Direction, Exchange, ExchangeEvent, ExchangeState
from tenants.context import agency_context
from tests.files import pdf

from .conftest import land_dossier_at_transfer


def _send(commune: Any, department: Any, staff: Any, d: Any, **kw: Any) -> Exchange:
    with agency_context(commune):
        return services.exchange_send(
            agency=commune, dossier=d, actor=staff.officer, receiver=department, **kw
        )


@pytest.mark.django_db
def test_send_accept_return_and_decide(commune, department, staff, dept_staff, at_transfer) -> None:
    d = at_transfer
    with agency_context(commune):
        assert list(selectors.exchange_receivers(sender=commune, dossier=d)) == [department]
        chosen = list(DossierDocument.objects.filter(dossier=d, component_position=1))
        sent_bytes = {doc.original_name: doc.file.read() for doc in chosen}
    ex = _send(
        commune,
        department,
        staff,
        d,
        document_ids=[doc.pk for doc in chosen],
        note="Đề nghị cấp giấy chứng nhận",
        expected_step=2,
    )
    assert (ex.state, ex.owner_id, ex.dossier_code) == (ExchangeState.SENT, department.pk, d.code)
    assert ex.documents.count() == 2
    with agency_context(commune):
        d.refresh_from_db()
        process = DossierProcess.objects.get(dossier=d)
        assert d.status == DossierStatus.TRANSFERRED
        assert process.step_position is None and process.assignee_id is None  # off worklists
        line = HandOver.objects.filter(dossier=d).last()
        assert line is not None and line.action == "transferred" and line.from_step == 2
        assert department.name in line.note
        assert DossierEvent.objects.filter(dossier=d, action="transferred").exists()
        assert list(selectors.exchanges_of_dossier(agency=commune, dossier=d)) == [ex]

    # The department's inbox; accepting copies the documents into its own storage.
    assert list(selectors.exchange_inbox(agency=department)) == [ex]
    with agency_context(department):
        services.exchange_accept(agency=department, exchange=ex.pk, actor=dept_staff.receptionist)
        ex.refresh_from_db()
        assert ex.state == ExchangeState.ACCEPTED and ex.owner_id == department.pk
        for doc in ex.documents.all():
            assert doc.copy_path.startswith(f"exchange/{ex.folder}/")
            with default_storage.open(doc.copy_path, "rb") as handle:
                assert handle.read() == sent_bytes[doc.original_name]
        assert AuditEntry.objects.filter(action="exchange.accepted", target=d.code).exists()
    with agency_context(commune):  # the copies are not in the commune's storage
        assert not any(default_storage.exists(doc.copy_path) for doc in ex.documents.all())

    # The department returns its result: the dossier is back with the commune's officer.
    with agency_context(department):
        services.exchange_return(
            agency=department,
            exchange=ex.pk,
            actor=dept_staff.officer,
            note="Đã cấp giấy chứng nhận",
            files=[pdf("gcn.pdf")],
        )
    ex.refresh_from_db()
    assert (ex.state, ex.owner_id, ex.answered_by_id) == (
        ExchangeState.RETURNED,
        commune.pk,
        dept_staff.officer.pk,
    )
    returned = ex.documents.get(direction=Direction.RETURNED)
    with agency_context(commune):
        d.refresh_from_db()
        process = DossierProcess.objects.get(dossier=d)
        assert d.status == DossierStatus.IN_PROCESSING
        # The transfer step is this procedure's decision step: back to it, with its officer.
        assert process.step_position == 2 and process.assignee_id == staff.officer.pk
        back = DossierDocument.objects.get(dossier=d, original_name="gcn.pdf")
        assert department.name in back.component_name and back.file.name == returned.copy_path
        assert back.file.read().startswith(b"%PDF")
        line = HandOver.objects.filter(dossier=d).last()
        assert line is not None and line.action == "transfer_returned" and line.to_step == 2
        # The officer goes on with the returned result in hand.
        desk.result_attach(dossier=d, actor=staff.officer, file=pdf("gcn.pdf"))
        desk.dossier_approve(dossier=d, actor=staff.officer)
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.RESULT_READY
    actions = list(ExchangeEvent.objects.filter(exchange=ex).values_list("action", flat=True))
    assert actions == ["sent", "accepted", "returned"]
    with agency_context(department):
        assert AuditEntry.objects.filter(action="exchange.returned").exists()


@pytest.mark.django_db
def test_the_receiver_refuses_and_the_dossier_goes_back_to_the_transfer_step(
    commune, department, staff, dept_staff, at_transfer
) -> None:
    ex = _send(commune, department, staff, at_transfer)
    assert ex.documents.count() == 3  # none chosen: all of them
    with agency_context(department):
        with pytest.raises(ValidationError) as err:
            services.exchange_refuse(
                agency=department, exchange=ex.pk, actor=dept_staff.officer, reason=" "
            )
        assert err.value.code == "input"
        services.exchange_refuse(
            agency=department, exchange=ex.pk, actor=dept_staff.officer, reason="Sai thẩm quyền"
        )
    ex.refresh_from_db()
    assert ex.state == ExchangeState.REFUSED and ex.owner_id == commune.pk
    with agency_context(commune):
        d = Dossier.objects.get(pk=at_transfer.pk)
        process = DossierProcess.objects.get(dossier=d)
        assert d.status == DossierStatus.IN_PROCESSING
        assert process.step_position == 2 and process.assignee_id == staff.officer.pk
        line = HandOver.objects.filter(dossier=d).last()
        assert line is not None and line.action == "transfer_refused"
        assert "Sai thẩm quyền" in line.note
    # A refused transfer can be sent again (one open transfer per dossier at a time).
    again = _send(commune, department, staff, d)
    assert again.pk != ex.pk and again.state == ExchangeState.SENT


@pytest.mark.django_db
def test_illegal_sends_are_refused_and_change_nothing(
    commune, department, outsider, make_agency, staff, citizen, at_transfer
) -> None:
    d = at_transfer
    another_commune = make_agency("xa-khac", name="Xã Khác", code="XK")

    def refused(code: str, **kw: Any) -> None:
        args: dict[str, Any] = {
            "agency": commune,
            "dossier": d,
            "actor": staff.officer,
            "receiver": department,
        }
        args.update(kw)
        with agency_context(commune), pytest.raises(ValidationError) as err:
            services.exchange_send(**args)
        assert err.value.code == code, err.value.messages

    refused("assignee", actor=staff.officer2)
    refused("role", actor=staff.receptionist)
    refused("moved", expected_step=1)
    refused("input", receiver=another_commune)  # S-DD-001 goes to departments only
    refused("input", receiver=commune)
    refused("input", document_ids=[999_999])
    refused("input", document_ids=[])
    with agency_context(commune):
        earlier = land_dossier_at_transfer(commune, citizen, staff)
        desk.dossier_send_back(dossier=earlier, actor=staff.officer, to_step=1, note="Xem lại")
        desk.dossier_claim(dossier=earlier, actor=staff.officer)
    refused("status", dossier=earlier)  # step 1 is not a transfer step
    assert Exchange.objects.count() == 0
    with agency_context(commune):
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.IN_PROCESSING
        assert DossierProcess.objects.get(dossier=d).step_position == 2

    # Sent once: the dossier has left the officer, a second send is refused.
    _send(commune, department, staff, d)
    refused("status")
    assert Exchange.objects.count() == 1


@pytest.mark.django_db
def test_illegal_receiver_actions_are_refused_and_change_nothing(
    commune, department, outsider, staff, dept_staff, at_transfer
) -> None:
    from desk.tests.conftest import staff_of

    ex = _send(commune, department, staff, at_transfer)
    with agency_context(outsider):
        strangers = staff_of(outsider, "sk")
        calls: tuple[Any, ...] = (
            lambda: services.exchange_accept(
                agency=outsider, exchange=ex.pk, actor=strangers.admin
            ),
            lambda: services.exchange_refuse(
                agency=outsider, exchange=ex.pk, actor=strangers.admin, reason="x"
            ),
        )
        for call in calls:
            with pytest.raises(ValidationError) as err:
                call()
            assert err.value.code == "missing"
    with agency_context(department):
        for call, code in (
            (
                lambda: services.exchange_accept(
                    agency=department, exchange=ex.pk, actor=dept_staff.viewer
                ),
                "role",
            ),
            (  # a commune officer has no role in the department
                lambda: services.exchange_accept(
                    agency=department, exchange=ex.pk, actor=staff.officer
                ),
                "role",
            ),
            (
                lambda: services.exchange_return(
                    agency=department, exchange=ex.pk, actor=dept_staff.officer, note="xong"
                ),
                "status",
            ),
            (
                lambda: services.exchange_return(
                    agency=department, exchange=ex.pk, actor=dept_staff.receptionist, note="x"
                ),
                "role",
            ),
        ):
            with pytest.raises(ValidationError) as err:
                call()
            assert err.value.code == code
        services.exchange_accept(agency=department, exchange=ex.pk, actor=dept_staff.officer)
        for call in (
            lambda: services.exchange_accept(
                agency=department, exchange=ex.pk, actor=dept_staff.officer
            ),
            lambda: services.exchange_refuse(
                agency=department, exchange=ex.pk, actor=dept_staff.officer, reason="muộn"
            ),
        ):
            with pytest.raises(ValidationError) as err:
                call()
            assert err.value.code == "status"
        with pytest.raises(ValidationError) as err:
            services.exchange_return(agency=department, exchange=ex.pk, actor=dept_staff.officer)
        assert err.value.code == "input"
        with pytest.raises(ValidationError):  # not a document we accept
            services.exchange_return(
                agency=department,
                exchange=ex.pk,
                actor=dept_staff.officer,
                files=[pdf("x.pdf").__class__("x.exe", b"MZ\x90\x00", "application/pdf")],
            )
    # The sender cannot act as the receiver of its own transfer.
    with agency_context(commune), pytest.raises(ValidationError) as err:
        services.exchange_accept(agency=commune, exchange=ex.pk, actor=staff.admin)
    assert err.value.code == "missing"
    ex.refresh_from_db()
    assert ex.state == ExchangeState.ACCEPTED and ex.owner_id == department.pk
    with agency_context(commune):
        assert Dossier.objects.get(pk=at_transfer.pk).status == DossierStatus.TRANSFERRED
    # Services run only in their agency's schema.
    with pytest.raises(RuntimeError):
        services.exchange_accept(agency=department, exchange=ex.pk, actor=dept_staff.officer)


@pytest.mark.django_db
def test_a_third_agency_sees_nothing(commune, department, outsider, staff, at_transfer) -> None:
    ex = _send(commune, department, staff, at_transfer)
    assert not selectors.exchange_inbox(agency=outsider).exists()
    assert not selectors.exchange_outbox(agency=outsider).exists()
    assert selectors.exchange_for_agency(agency=outsider, pk=ex.pk) is None
    assert selectors.exchange_for_agency(agency=department, pk=ex.pk) == ex
    assert selectors.exchange_for_agency(agency=commune, pk=ex.pk) == ex
    assert not selectors.exchange_outbox(agency=department).exists()
    assert not selectors.exchange_inbox(agency=commune).exists()


@pytest.mark.django_db
def test_the_trail_of_a_transfer_is_append_only(commune, department, staff, at_transfer) -> None:
    from django.db import DatabaseError, connection, transaction

    ex = _send(commune, department, staff, at_transfer)
    event = ExchangeEvent.objects.get(exchange=ex)
    event.note = "sửa"
    with pytest.raises(PermissionError):
        event.save()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE exchange_exchangeevent SET note = 'x'")


@pytest.mark.django_db
def test_a_returned_dossier_moves_on_to_the_step_after_the_transfer(
    commune, department, staff, dept_staff, citizen
) -> None:
    """When a leader decides after the transfer, the returned dossier waits for that step."""
    from procedures import services as procedures
    from procedures.models import AgencyProcedure

    with agency_context(commune):
        land = AgencyProcedure.objects.get(code="S-DD-001")
        procedures.procedure_configure(
            procedure=land,
            fee=land.fee,
            processing_days=land.processing_days,
            cutoff_hour=land.cutoff_hour,
            online_submission=land.online_submission,
            online_payment=land.online_payment,
            components=[
                procedures.ComponentInput(c.name, c.required, c.max_files)
                for c in land.components.all()
            ],
            extra_fields=[],
            steps=[
                procedures.StepInput("Tiếp nhận", "receptionist", 0),
                procedures.StepInput("Xác nhận hiện trạng", "officer", 5),
                procedures.StepInput("Chuyển văn phòng đăng ký đất đai", "officer", 10, True),
                procedures.StepInput("Ký xác nhận", "leader", 2),
                procedures.StepInput("Trả kết quả", "receptionist", 2),
            ],
        )
        procedures.procedure_publish(procedure=land)
        d = land_dossier_at_transfer(commune, citizen, staff)
    ex = _send(commune, department, staff, d, expected_step=2)
    with agency_context(department):
        services.exchange_accept(agency=department, exchange=ex, actor=dept_staff.officer)
        services.exchange_return(
            agency=department, exchange=ex, actor=dept_staff.leader, note="Đủ điều kiện"
        )
    with agency_context(commune):
        process = DossierProcess.objects.get(dossier=d)
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.IN_PROCESSING
        assert (process.step_position, process.step_role, process.assignee_id) == (
            3,
            "leader",
            None,
        )
        desk.dossier_claim(dossier=d, actor=staff.leader, expected_step=3)
        desk.result_attach(dossier=d, actor=staff.leader, file=pdf("gcn.pdf"))
        desk.dossier_approve(dossier=d, actor=staff.leader)
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.RESULT_READY
