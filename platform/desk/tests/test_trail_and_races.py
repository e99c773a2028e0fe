"""The hand-over trail cannot be changed, and two officers racing on one dossier cannot
both win (real PostgreSQL, real threads, real row locks)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connections, transaction

from desk import services
from dossiers.models import Dossier, DossierProcess, HandOver
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tenants.db import connection
from tests.files import pdf

from .conftest import staff_of


@pytest.mark.django_db
def test_the_trail_is_append_only_in_the_model_and_in_the_database(
    commune, staff, submit_shop
) -> None:
    with agency_context(commune):
        d = submit_shop()
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        entry = HandOver.objects.filter(dossier=d).first()
        assert entry is not None
        entry.note = "sửa lại"
        with pytest.raises(PermissionError):
            entry.save()
        with pytest.raises(PermissionError):
            entry.delete()
        with pytest.raises(PermissionError):
            HandOver.objects.filter(dossier=d).update(note="x")
        with pytest.raises(PermissionError):
            HandOver.objects.filter(dossier=d).delete()
        # Past the ORM: the trigger (cloned into the agency's schema) refuses raw SQL.
        for sql in (
            "UPDATE desk_handover SET note = 'x'",
            "DELETE FROM desk_handover",
        ):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql)
        assert HandOver.objects.filter(dossier=d).count() == 2


def race(*calls: Any) -> tuple[list[Any], list[BaseException]]:
    """Run the calls at once in threads, each on its own connection; collect outcomes."""
    start = threading.Barrier(len(calls))
    done: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Any) -> None:
        try:
            start.wait()
            result = call()
            with lock:
                done.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done, errors


@pytest.mark.django_db(transaction=True)
def test_two_officers_claiming_at_once_one_wins(make_agency, national_catalog, citizen) -> None:
    from procedures.services import procedures_adopt_for_kind

    from .conftest import SHOP_FORM

    agency = make_agency("xa-dua-nhau", code="DN")
    with agency_context(agency):
        procedures_adopt_for_kind(agency=agency, publish=True)
        team = staff_of(agency, "dn")

        d = dossier_submit(
            agency=agency,
            procedure=AgencyProcedure.objects.get(code="S-KD-001"),
            applicant=Applicant.from_user(citizen),
            form_data=SHOP_FORM,
            files={0: [pdf()], 1: [pdf()]},
        ).dossier
        services.dossier_claim(dossier=d, actor=team.receptionist)
        services.dossier_forward(dossier=d, actor=team.receptionist)

    def claim(officer: Any) -> Any:
        def call() -> Any:
            with agency_context(agency):
                services.dossier_claim(dossier=d, actor=officer, expected_step=1)
                return officer.pk

        return call

    done, errors = race(claim(team.officer), claim(team.officer2))
    assert len(done) == 1 and len(errors) == 1
    assert isinstance(errors[0], ValidationError) and errors[0].code == "assignee"
    winner = done[0]
    with agency_context(agency):
        assert DossierProcess.objects.get(dossier=d).assignee_id == winner
        assert HandOver.objects.filter(dossier=d, action="claimed", from_step=1).count() == 1

    # Double submit of one forward: the second finds the dossier moved on.
    holder = team.officer if winner == team.officer.pk else team.officer2

    def forward() -> Any:
        with agency_context(agency):
            services.dossier_forward(dossier=d, actor=holder, expected_step=1)

    done, errors = race(forward, forward)
    assert len(done) == 1 and len(errors) == 1 and isinstance(errors[0], ValidationError)
    with agency_context(agency):
        assert DossierProcess.objects.get(dossier=d).step_position == 2
        assert HandOver.objects.filter(dossier=d, action="forwarded").count() == 2

    # A leader approving while an administrator stops: exactly one of them happens.
    with agency_context(agency):
        services.dossier_claim(dossier=d, actor=team.leader)
        services.result_attach(dossier=d, actor=team.leader, file=pdf("kq.pdf"))

    def approve() -> Any:
        with agency_context(agency):
            services.dossier_approve(dossier=d, actor=team.leader)
            return "approved"

    def stop() -> Any:
        with agency_context(agency):
            services.dossier_stop(dossier=d, actor=team.admin, reason="Đề nghị của cơ quan thuế")
            return "stopped"

    done, errors = race(approve, stop)
    assert len(done) == 1 and len(errors) == 1
    assert isinstance(errors[0], ValidationError) and errors[0].code in {"status", "missing"}
    with agency_context(agency):
        status = Dossier.objects.get(pk=d.pk).status
        assert status == {"approved": "result_ready", "stopped": "stopped"}[done[0]]
        assert HandOver.objects.filter(dossier=d, action__in=["approved", "stopped"]).count() == 1
