"""The daily deadline job over 200 agencies × 5,000 open dossiers (issue 4): goal ≤ 60 s.

Seeding: one agency is provisioned and adopts its procedures; 5,000 dossiers with their
processes are written there once (bulk), due dates spread over the next ~8 weeks of working
days and held by five officers. Every other agency is provisioned from the template and gets a
copy of those rows by ``INSERT … SELECT`` (same columns, whatever the models hold). Then
``deadline_scan`` runs once over all agencies (timed), and once more (idempotent: nothing new).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING

from tests.perf.common import (
    bench_line,
    create_agency,
    detail,
    prepare_database,
    setup_django,
    size,
)

if TYPE_CHECKING:
    from tenants.models import Agency

AGENCIES = size(200, 10)
DOSSIERS = size(5_000, 300)
OFFICERS = 5
COPIED = (
    "procedures_agencyprocedure",
    "procedures_procedureversion",
    "dossiers_dossier",
    "desk_dossierprocess",
)


def _seed_first(agency: Agency) -> None:
    from django.utils import timezone

    from accounts.models import User
    from catalog.data import SAMPLE_CATALOG
    from catalog.services import catalog_import
    from dossiers.models import Dossier, DossierProcess, DossierStatus
    from procedures.models import AgencyProcedure
    from procedures.services import procedures_adopt_for_kind
    from tenants.context import agency_context
    from workdays.calendar import WorkCalendar

    catalog_import(raw=SAMPLE_CATALOG.read_bytes())
    officers = [
        User.objects.create_user(f"can-bo-{i}@bench.vn", None, full_name=f"Cán bộ {i}")
        for i in range(OFFICERS)
    ]
    calendar = WorkCalendar(
        working_overrides=frozenset(),
        off_overrides=frozenset(),
        reasons={},
        timezone="Asia/Ho_Chi_Minh",
    )
    days = list(calendar.working_days(timezone.localdate(), 40))
    now = timezone.now()
    with agency_context(agency):
        procedures_adopt_for_kind(agency=agency, publish=True)
        procedure = AgencyProcedure.objects.filter(published_version__isnull=False).first()
        assert procedure is not None and procedure.published_version is not None
        statuses = [DossierStatus.IN_PROCESSING] * 8 + [
            DossierStatus.RECEIVED,
            DossierStatus.SUPPLEMENT_REQUESTED,
        ]
        dossiers = Dossier.objects.bulk_create(
            Dossier(
                code=f"BENCH-{i:06d}",
                lookup_secret="x",
                procedure=procedure,
                procedure_version=procedure.published_version,
                channel="online",
                applicant_name=f"Công dân {i}",
                applicant_email=f"cong-dan-{i}@example.vn",
                applicant_phone="0912345678",
                status=statuses[i % len(statuses)],
                received_at=now,
                counting_start=days[0],
                due_date=days[i % len(days)],
            )
            for i in range(DOSSIERS)
        )
        DossierProcess.objects.bulk_create(
            DossierProcess(
                dossier=d,
                procedure=procedure,
                step_position=1,
                step_name="Xử lý",
                step_role="officer",
                assignee=officers[i % OFFICERS],
                step_started_at=now,
                step_due_date=d.due_date,
            )
            for i, d in enumerate(dossiers)
        )


def _copy(source: str, target: str) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for table in COPIED:
            cursor.execute(f'INSERT INTO "{target}".{table} SELECT * FROM "{source}".{table}')
        for table in COPIED[:2]:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM "
                f'"{target}".{table}))',
                [f'"{target}".{table}'],
            )


def run() -> None:
    setup_django("deadline_job")
    prepare_database()
    from django.db import connection

    from config.celery_app import app
    from desk.deadlines import deadline_scan

    started = time.perf_counter()
    first = create_agency("xa-mau-0", name="Xã Mẫu 0", code="M0")
    _seed_first(first)
    for i in range(1, AGENCIES):
        agency = create_agency(f"xa-mau-{i}", name=f"Xã Mẫu {i}", code=f"M{i}")
        _copy(first.schema_name, agency.schema_name)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    detail(
        f"seeded {AGENCIES} agencies × {DOSSIERS} dossiers in {time.perf_counter() - started:.1f} s"
    )

    today = dt.date.today()
    t0 = time.perf_counter()
    report = deadline_scan()
    elapsed = time.perf_counter() - t0
    detail(f"apologies prepared: {report.apologies}, officer reminders queued: {report.reminders}")
    assert report.agencies == AGENCIES and report.apologies > 0
    t1 = time.perf_counter()
    again = deadline_scan()
    detail(
        f"second run the same day: {time.perf_counter() - t1:.1f} s, "
        f"{again.apologies} apologies, {again.reminders} reminders (idempotent)"
    )
    assert again.apologies == 0 and again.reminders == 0, (today, again)
    app.control.purge()  # the reminders' tasks: no worker runs in the benchmark
    bench_line("deadline_job", elapsed, "s", "<=60")


if __name__ == "__main__":
    run()
