"""Never lost, never owned twice: racing officers on real PostgreSQL (threads, row locks),
and crashes injected between the steps of each hand-off (core.failpoints)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from core.failpoints import FailpointError
from desk.tests.conftest import staff_of
from desk.tests.test_trail_and_races import race
from dossiers.models import Dossier, DossierProcess, DossierStatus, HandOver
from exchange import services
from exchange.models import Exchange, ExchangeEvent, ExchangeState
from procedures.services import procedures_adopt_for_kind
from tenants.context import agency_context
from tenants.models import AgencyKind
from tests.files import pdf

from .conftest import land_dossier_at_transfer


@pytest.mark.django_db(transaction=True)
def test_racing_accepts_answers_and_returns_one_wins(
    make_agency, national_catalog, citizen
) -> None:
    commune = make_agency("xa-lien-thong", name="Xã Liên Thông", code="LT")
    department = make_agency("so-dua", name="Sở Đua", kind=AgencyKind.DEPARTMENT, code="SD")
    with agency_context(commune):
        procedures_adopt_for_kind(agency=commune, publish=True)
        team = staff_of(commune, "lt")
        d = land_dossier_at_transfer(commune, citizen, team)
        ex = services.exchange_send(
            agency=commune, dossier=d, actor=team.officer, receiver=department
        )
    with agency_context(department):
        dept = staff_of(department, "sd")

    def in_department(call: Any) -> Any:
        def run() -> Any:
            with agency_context(department):
                return call()

        return run

    # Two officers accept at once: one wins, the other is told it is already accepted.
    def accept(user: Any) -> Any:
        return in_department(
            lambda: services.exchange_accept(agency=department, exchange=ex.pk, actor=user)
        )

    done, errors = race(accept(dept.officer), accept(dept.officer2))
    assert len(done) == 1 and len(errors) == 1
    assert isinstance(errors[0], ValidationError) and errors[0].code == "status"
    assert ExchangeEvent.objects.filter(exchange=ex, action="accepted").count() == 1
    with agency_context(department):  # the loser's copies were removed
        assert len(default_storage.listdir(f"exchange/{ex.folder}")[1]) == 3

    # Two returns at once (a double submit): one return, one dossier movement.
    def give_back(user: Any) -> Any:
        return in_department(
            lambda: services.exchange_return(
                agency=department, exchange=ex.pk, actor=user, note="Xong", files=[pdf("kq.pdf")]
            )
        )

    done, errors = race(give_back(dept.officer), give_back(dept.leader))
    assert len(done) == 1 and len(errors) == 1
    assert isinstance(errors[0], ValidationError) and errors[0].code == "status"
    ex.refresh_from_db()
    assert ex.state == ExchangeState.RETURNED and ex.owner_id == commune.pk
    with agency_context(commune):
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.IN_PROCESSING
        assert HandOver.objects.filter(dossier=d, action="transfer_returned").count() == 1
        assert d.documents.filter(original_name="kq.pdf").count() == 1
    with agency_context(department):
        assert len(default_storage.listdir(f"exchange/{ex.folder}/returned")[1]) == 1

    # Sent again: the receiver refusing while another officer accepts — exactly one happens.
    with agency_context(commune):
        ex2 = services.exchange_send(
            agency=commune, dossier=d, actor=team.officer, receiver=department
        )
    refuse = in_department(
        lambda: services.exchange_refuse(
            agency=department, exchange=ex2.pk, actor=dept.leader, reason="Không thuộc thẩm quyền"
        )
    )
    done, errors = race(
        in_department(
            lambda: services.exchange_accept(agency=department, exchange=ex2.pk, actor=dept.officer)
        ),
        refuse,
    )
    assert len(done) == 1 and len(errors) == 1 and isinstance(errors[0], ValidationError)
    assert errors[0].code == "status"
    ex2.refresh_from_db()
    with agency_context(commune):
        status = Dossier.objects.get(pk=d.pk).status
    if ex2.state == ExchangeState.ACCEPTED:
        assert ex2.owner_id == department.pk and status == DossierStatus.TRANSFERRED
    else:
        assert ex2.state == ExchangeState.REFUSED
        assert ex2.owner_id == commune.pk and status == DossierStatus.IN_PROCESSING


def _state(commune: Any, d: Any, ex: Any = None) -> tuple[Any, ...]:
    with agency_context(commune):
        dossier = Dossier.objects.get(pk=d.pk)
        step = DossierProcess.objects.get(dossier=d).step_position
    if ex is not None:
        ex.refresh_from_db()
        return dossier.status, step, ex.state, ex.owner_id
    return dossier.status, step


@pytest.mark.django_db
def test_a_crash_in_the_middle_of_any_hand_off_leaves_a_consistent_state(
    commune, department, staff, dept_staff, at_transfer, monkeypatch
) -> None:
    d = at_transfer

    # Crash after the exchange is written, before the dossier leaves: neither happened.
    monkeypatch.setenv("MOTCUA_FAILPOINTS", "exchange.send.after_exchange:raise")
    with agency_context(commune), pytest.raises(FailpointError):
        services.exchange_send(agency=commune, dossier=d, actor=staff.officer, receiver=department)
    assert not Exchange.objects.exists() and not ExchangeEvent.objects.exists()
    assert _state(commune, d) == (DossierStatus.IN_PROCESSING, 2)

    monkeypatch.delenv("MOTCUA_FAILPOINTS")
    with agency_context(commune):
        ex = services.exchange_send(
            agency=commune, dossier=d, actor=staff.officer, receiver=department
        )

    # Crash while copying the documents: still sent, still in the inbox, no copies left.
    monkeypatch.setenv("MOTCUA_FAILPOINTS", "exchange.accept.after_copy:raise")
    with agency_context(department), pytest.raises(FailpointError):
        services.exchange_accept(agency=department, exchange=ex.pk, actor=dept_staff.officer)
    assert _state(commune, d, ex) == (DossierStatus.TRANSFERRED, None, "sent", department.pk)
    assert not any(doc.copy_path for doc in ex.documents.all())
    with agency_context(department):
        assert default_storage.listdir(f"exchange/{ex.folder}")[1] == []

    # Crash after the receiver closed its side, before the sender's dossier came back:
    # the whole return is undone, the department still holds it, its files are gone.
    monkeypatch.delenv("MOTCUA_FAILPOINTS")
    with agency_context(department):
        services.exchange_accept(agency=department, exchange=ex.pk, actor=dept_staff.officer)
        monkeypatch.setenv("MOTCUA_FAILPOINTS", "exchange.return.before_sender:raise")
        with pytest.raises(FailpointError):
            services.exchange_return(
                agency=department,
                exchange=ex.pk,
                actor=dept_staff.officer,
                note="Xong",
                files=[pdf("kq.pdf")],
            )
        assert default_storage.listdir(f"exchange/{ex.folder}/returned")[1] == []
    assert _state(commune, d, ex) == (DossierStatus.TRANSFERRED, None, "accepted", department.pk)
    assert ex.documents.filter(direction="returned").count() == 0

    monkeypatch.delenv("MOTCUA_FAILPOINTS")
    with agency_context(department):
        services.exchange_return(
            agency=department, exchange=ex.pk, actor=dept_staff.officer, note="Xong"
        )
    assert _state(commune, d, ex) == (DossierStatus.IN_PROCESSING, 2, "returned", commune.pk)


@pytest.mark.django_db
def test_a_crash_refusing_leaves_the_transfer_with_the_receiver(
    commune, department, staff, dept_staff, at_transfer, monkeypatch
) -> None:
    d = at_transfer
    with agency_context(commune):
        ex = services.exchange_send(
            agency=commune, dossier=d, actor=staff.officer, receiver=department
        )
    monkeypatch.setenv("MOTCUA_FAILPOINTS", "exchange.refuse.before_sender:raise")
    with agency_context(department), pytest.raises(FailpointError):
        services.exchange_refuse(
            agency=department, exchange=ex.pk, actor=dept_staff.officer, reason="Sai"
        )
    assert _state(commune, d, ex) == (DossierStatus.TRANSFERRED, None, "sent", department.pk)
    assert ExchangeEvent.objects.filter(exchange=ex).count() == 1


KILLED_RETURN = """
from accounts.models import User
from exchange import services
from tenants.context import agency_context
from tenants.models import Agency
from tests.files import pdf

department = Agency.objects.get(slug="so-bi-ngat")
with agency_context(department):
    services.exchange_return(
        agency=department, exchange={pk}, actor=User.objects.get(pk={user}),
        note="Xong", files=[pdf("kq.pdf")],
    )
"""


@pytest.mark.django_db(transaction=True)
def test_a_process_killed_mid_return_leaves_the_transfer_with_the_receiver(
    make_agency, national_catalog, citizen
) -> None:
    """SIGKILL (no Python cleanup at all) after the receiver closed its side, before the
    sender's dossier came back: PostgreSQL drops the whole transaction."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.conf import settings

    commune = make_agency("xa-bi-ngat", name="Xã Bị Ngắt", code="BN")
    department = make_agency("so-bi-ngat", name="Sở Bị Ngắt", kind=AgencyKind.DEPARTMENT)
    with agency_context(commune):
        procedures_adopt_for_kind(agency=commune, publish=True)
        team = staff_of(commune, "bn")
        d = land_dossier_at_transfer(commune, citizen, team)
        ex = services.exchange_send(
            agency=commune, dossier=d, actor=team.officer, receiver=department
        )
    with agency_context(department):
        dept = staff_of(department, "sbn")
        services.exchange_accept(agency=department, exchange=ex, actor=dept.officer)

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_NAME=settings.DATABASES["default"]["NAME"],
        MOTCUA_FAILPOINTS="exchange.return.before_sender:kill",
    )
    code = KILLED_RETURN.format(pk=ex.pk, user=dept.officer.pk)
    root = Path(__file__).resolve().parents[3]
    cmd = [sys.executable, "manage.py", "shell", "-c", code]
    killed = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    assert _state(commune, d, ex) == (DossierStatus.TRANSFERRED, None, "accepted", department.pk)
    assert ex.documents.filter(direction="returned").count() == 0
    assert ExchangeEvent.objects.filter(exchange=ex, action="returned").count() == 0

    env.pop("MOTCUA_FAILPOINTS")
    done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert _state(commune, d, ex) == (DossierStatus.IN_PROCESSING, 2, "returned", commune.pk)
    with agency_context(commune):
        assert HandOver.objects.filter(dossier=d, action="transfer_returned").count() == 1
