"""The rollups follow every dossier event in its transaction, and a rebuild agrees exactly."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from desk import services as desk
from dossiers.models import Dossier, FeePayment, ReturnMethod
from lifecycle.fees import fee_payment_confirm
from lifecycle.submit import Applicant
from procedures.models import AgencyProcedure
from reports import selectors
from reports.models import DailyAgencyStat, MonthlyAgencyStat
from reports.services import stats_rebuild
from results.services import rating_submit
from tenants.context import agency_context
from tests.files import pdf

from .conftest import VN


def snapshot(agency: Any) -> list[tuple[Any, ...]]:
    fields = ("province_code", "procedure_code", "sector", "metric", "n", "total")
    daily = DailyAgencyStat.objects.filter(agency=agency).values_list("day", *fields)
    monthly = MonthlyAgencyStat.objects.filter(agency=agency).values_list("month", *fields)
    return sorted([("d", *row) for row in daily] + [("m", *row) for row in monthly])


def process_to_decision(d: Dossier, staff: Any) -> None:
    desk.dossier_claim(dossier=d, actor=staff.receptionist)
    desk.dossier_forward(dossier=d, actor=staff.receptionist)
    desk.dossier_claim(dossier=d, actor=staff.officer)
    desk.result_attach(dossier=d, actor=staff.officer, file=pdf("kq.pdf"))
    desk.dossier_forward(dossier=d, actor=staff.officer, to=staff.leader)


def realistic_day(commune: Any, staff: Any, submit: Any, citizen: Any) -> dict[str, Dossier]:
    now = timezone.now()
    long_ago = now - dt.timedelta(days=40)
    d = {
        "early": submit(commune),
        "late": submit(commune, received_at=long_ago),
        "rejected": submit(commune),
        "paused": submit(commune),
        "refused": submit(commune),
        "stopped": submit(commune),
        "withdrawn": submit(commune),
    }
    d["desk"] = desk.desk_receive(
        agency=commune,
        actor=staff.receptionist,
        procedure=AgencyProcedure.objects.get(code="S-KD-001"),
        applicant=Applicant(name="Trần Thị B", id_number="031095009999"),
        form_data=d["early"].form_data,
        files={0: [pdf()], 1: [pdf()]},
    ).dossier
    process_to_decision(d["early"], staff)
    desk.dossier_approve(dossier=d["early"], actor=staff.leader)
    desk.dossier_claim(dossier=d["early"], actor=staff.receptionist)
    desk.result_return(dossier=d["early"], actor=staff.receptionist, method=ReturnMethod.DESK)
    rating_submit(dossier=d["early"], user=citizen, score=4)
    process_to_decision(d["late"], staff)
    desk.dossier_approve(dossier=d["late"], actor=staff.leader)
    process_to_decision(d["rejected"], staff)
    desk.dossier_reject(dossier=d["rejected"], actor=staff.leader, reason="Không đủ điều kiện")
    desk.dossier_claim(dossier=d["paused"], actor=staff.receptionist)
    desk.supplement_request(dossier=d["paused"], actor=staff.receptionist, items=["Bản sao CCCD"])
    desk.dossier_claim(dossier=d["refused"], actor=staff.receptionist)
    desk.dossier_refuse(dossier=d["refused"], actor=staff.receptionist, reasons=["Sai thủ tục"])
    desk.desk_refuse(
        agency=commune,
        actor=staff.receptionist,
        procedure=AgencyProcedure.objects.get(code="S-KD-001"),
        applicant=Applicant(name="Lê Văn C"),
        reasons=["Thiếu giấy tờ"],
    )
    desk.dossier_stop(dossier=d["stopped"], actor=staff.leader, reason="Theo yêu cầu")
    desk.dossier_withdraw(dossier=d["withdrawn"], actor=citizen, reason="Không cần nữa")
    FeePayment.objects.create(dossier=d["desk"], gateway="stripe", remote_id="cs_1", amount=1000)
    assert fee_payment_confirm(remote_id="cs_1", amount=1000, currency="vnd") == "paid"
    return d


@pytest.mark.django_db
def test_live_rollups_follow_each_event_and_a_rebuild_agrees(
    commune, staff, submit, citizen
) -> None:
    with agency_context(commune):
        d = realistic_day(commune, staff, submit, citizen)
    live = snapshot(commune)
    today = timezone.localdate()
    start = today - dt.timedelta(days=60)
    figures = selectors.figures(scope=Q(agency_id=commune.pk), start=start, end=today)
    assert figures.count("received_online") == 7
    assert figures.count("received_desk") == 1
    assert figures.received == 8
    assert (figures.early, figures.on_time, figures.late) == (2, 0, 1)
    assert figures.on_time_rate == pytest.approx(66.7)
    assert figures.average_days == pytest.approx(40 / 3, abs=0.1)
    for metric in ("supplement_paused", "stopped", "withdrawn", "paid_online"):
        assert figures.count(metric) == 1, metric
    assert figures.count("refused") == 2
    assert figures.online_share == pytest.approx(87.5)
    assert (figures.count("rated"), figures.satisfaction) == (1, 4.0)
    cube = selectors.breakdown(
        scope=Q(agency_id=commune.pk), start=start, end=today, keys=["procedure_code", "agency_id"]
    )
    assert cube.overall.as_dict() == figures.as_dict()
    assert cube.by["agency_id"][commune.pk].as_dict() == figures.as_dict()
    by_procedure = selectors.figures_by(
        scope=Q(agency_id=commune.pk), start=start, end=today, key="procedure_code"
    )
    assert {k: f.as_dict() for k, f in cube.by["procedure_code"].items()} == {
        k: f.as_dict() for k, f in by_procedure.items()
    }
    late_day = timezone.localtime(d["late"].received_at).date()
    assert ("received_online", late_day) in {(row[5], row[1]) for row in live}
    assert ("received_online", late_day.replace(day=1)) in {
        (r[5], r[1]) for r in live if r[0] == "m"
    }

    # Wipe and rebuild from the agency's own tables: exactly the same rows.
    DailyAgencyStat.objects.filter(agency=commune).update(n=0, total=0)
    MonthlyAgencyStat.objects.filter(agency=commune).delete()
    call_command("stats_rebuild", "--agency", commune.slug, stdout=io.StringIO())
    assert snapshot(commune) == live
    assert stats_rebuild(agency=commune) == len([row for row in live if row[0] == "d"])
    assert snapshot(commune) == live


@pytest.mark.django_db
def test_a_rolled_back_or_refused_event_leaves_no_trace(commune, staff, submit) -> None:
    with agency_context(commune):
        with pytest.raises(RuntimeError), transaction.atomic():
            submit(commune)
            raise RuntimeError("the request failed after the submission")
        assert not DailyAgencyStat.objects.exists()
        dossier = submit(commune)
        before = snapshot(commune)
        with pytest.raises(ValidationError):  # nobody has claimed it: refused, nothing counted
            desk.dossier_refuse(dossier=dossier, actor=staff.receptionist, reasons=["x"])
        assert snapshot(commune) == before


@pytest.mark.django_db
def test_rollups_of_one_agency_never_count_for_another(commune, other_commune, submit) -> None:
    with agency_context(commune):
        submit(commune)
        submit(commune)
    with agency_context(other_commune):
        submit(other_commune)
    today = timezone.localdate()
    a = selectors.figures(scope=Q(agency_id=commune.pk), start=today, end=today)
    b = selectors.figures(scope=Q(agency_id=other_commune.pk), start=today, end=today)
    assert (a.received, b.received) == (2, 1)
    by_province = selectors.figures_by(scope=Q(), start=today, end=today, key="province_code")
    assert {k: f.received for k, f in by_province.items()} == {"31": 2, "01": 1}
    # Rebuilding one agency leaves the other's rows alone.
    stats_rebuild(agency=other_commune)
    assert selectors.figures(scope=Q(agency_id=commune.pk), start=today, end=today).received == 2
    with agency_context(commune):
        assert selectors.open_dossiers(today=today).within_due == 2


@pytest.mark.django_db
def test_open_dossiers_within_and_past_due(commune, submit) -> None:
    with agency_context(commune):
        submit(commune)
        submit(commune, received_at=timezone.now() - dt.timedelta(days=30))
        assert selectors.open_dossiers() == selectors.OpenDossiers(1, 1, 0)


def test_processing_days_count_local_days() -> None:
    from reports.services import processing_days

    received = dt.datetime(2026, 3, 2, 23, 30, tzinfo=VN)
    assert processing_days(received, received + dt.timedelta(hours=1)) == 1


def test_periods_read_whole_months_from_the_monthly_rows() -> None:
    from reports.selectors import split_period

    d = dt.date
    today = d(2026, 11, 23)
    assert split_period(d(2026, 1, 1), d(2026, 3, 31), today) == (
        [],
        (d(2026, 1, 1), d(2026, 3, 1)),
    )
    assert split_period(d(2026, 1, 15), d(2026, 3, 10), today) == (
        [(d(2026, 1, 15), d(2026, 1, 31)), (d(2026, 3, 1), d(2026, 3, 10))],
        (d(2026, 2, 1), d(2026, 2, 1)),
    )
    assert split_period(d(2026, 11, 1), today, today) == ([], (d(2026, 11, 1), d(2026, 11, 1)))
    assert split_period(d(2026, 5, 3), d(2026, 5, 20), today) == (
        [(d(2026, 5, 3), d(2026, 5, 20))],
        None,
    )


@pytest.mark.django_db
def test_a_transfer_counts_and_the_rebuild_agrees(commune, staff, citizen, make_agency) -> None:
    from exchange.services import exchange_send
    from exchange.tests.conftest import land_dossier_at_transfer
    from tenants.models import AgencyKind

    department = make_agency(
        "so-tnmt", name="Sở Nông nghiệp và Môi trường", kind=AgencyKind.DEPARTMENT, code="NNMT"
    )
    with agency_context(commune):
        d = land_dossier_at_transfer(commune, citizen, staff)
        exchange_send(agency=commune, dossier=d, actor=staff.officer, receiver=department)
    today = timezone.localdate()
    scope = Q(agency_id=commune.pk)
    assert selectors.figures(scope=scope, start=today, end=today).count("transferred") == 1
    live = snapshot(commune)
    stats_rebuild(agency=commune)
    assert snapshot(commune) == live
