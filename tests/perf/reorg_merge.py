"""Merging 3 communes × 20,000 dossiers (documents and their files included) into one:
goal ≤ 120 s (issue 13). ``--quick``: 3 × 300.

Seeding: the first commune adopts its procedures and gets its dossiers in bulk, each with an
event, a hand-over line and a document whose file is on disk; the two other communes get a copy
of those rows (``INSERT … SELECT``, their own codes) and of the files. The target commune adopts
the same procedures (every procedure clashes) and has dossiers of its own. Then the merge runs
through ``reorg.services.merge_run`` (timed), verification included, and once more (a no-op).
"""

from __future__ import annotations

import itertools
import shutil
import time
from pathlib import Path
from typing import Any

from tests.perf.common import (
    bench_line,
    create_agency,
    detail,
    prepare_database,
    setup_django,
    size,
)

DOSSIERS = size(20_000, 300)
SOURCES = 3
COPIED = (
    "dossiers_dossier",
    "dossiers_dossierevent",
    "dossiers_dossierdocument",
    "desk_dossierprocess",
    "desk_handover",
)


def _seed(agency: Any, prefix: str) -> None:
    from django.conf import settings
    from django.utils import timezone

    from dossiers.models import (
        Dossier,
        DossierDocument,
        DossierEvent,
        DossierProcess,
        DossierStatus,
        HandOver,
    )
    from procedures.models import AgencyProcedure
    from procedures.services import procedures_adopt_for_kind
    from tenants.context import agency_context

    now = timezone.now()
    today = timezone.localdate()
    with agency_context(agency):
        procedures_adopt_for_kind(agency=agency, publish=True)
        procedure = AgencyProcedure.objects.filter(published_version__isnull=False).first()
        assert procedure is not None and procedure.published_version is not None
        statuses = [DossierStatus.IN_PROCESSING, DossierStatus.RECEIVED, DossierStatus.RETURNED]
        dossiers = Dossier.objects.bulk_create(
            (
                Dossier(
                    code=f"{prefix}-{i:06d}",
                    lookup_secret="ABCD2345",
                    procedure=procedure,
                    procedure_version=procedure.published_version,
                    channel="online",
                    applicant_name=f"Công dân {i}",
                    status=statuses[i % 3],
                    received_at=now,
                    counting_start=today,
                    due_date=today,
                )
                for i in range(DOSSIERS)
            ),
            batch_size=2000,
        )
        DossierEvent.objects.bulk_create(
            (
                DossierEvent(dossier=d, at=now, action="receive", to_status="received")
                for d in dossiers
            ),
            batch_size=2000,
        )
        HandOver.objects.bulk_create(
            (HandOver(dossier=d, at=now, action="claimed", to_step=1) for d in dossiers),
            batch_size=2000,
        )
        DossierProcess.objects.bulk_create(
            (
                DossierProcess(
                    dossier=d,
                    procedure=procedure,
                    step_position=1,
                    step_name="Xử lý",
                    step_role="officer",
                    step_started_at=now,
                    step_due_date=today,
                )
                for d in dossiers
            ),
            batch_size=2000,
        )
        root = Path(settings.MEDIA_ROOT) / agency.schema_name
        docs = []
        for d in dossiers:
            name = f"dossiers/{now:%Y/%m}/{d.pk}/don.pdf"
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"%PDF-1.4 bench " + str(d.pk).encode())
            docs.append(
                DossierDocument(
                    dossier=d,
                    component_position=0,
                    component_name="Đơn",
                    original_name="don.pdf",
                    content_type="application/pdf",
                    size=path.stat().st_size,
                    sha256="0" * 64,
                    file=name,
                )
            )
        DossierDocument.objects.bulk_create(docs, batch_size=2000)


def _copy(first: Any, other: Any, prefix: str) -> None:
    from django.conf import settings
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("procedures_agencyprocedure", "procedures_procedureversion"):
            cursor.execute(f'DELETE FROM "{other.schema_name}".{table}')
        for table in (
            "procedures_agencyprocedure",
            "procedures_procedureversion",
            "procedures_procedurestep",
            *COPIED,
        ):
            cursor.execute(f'DELETE FROM "{other.schema_name}".{table}')
            cursor.execute(
                f'INSERT INTO "{other.schema_name}".{table} '
                f'SELECT * FROM "{first.schema_name}".{table}'
            )
        cursor.execute(
            f'UPDATE "{other.schema_name}".dossiers_dossier SET code = replace(code, %s, %s)',
            ["S0-", f"{prefix}-"],
        )
    media = Path(settings.MEDIA_ROOT)
    shutil.rmtree(media / other.schema_name, ignore_errors=True)
    shutil.copytree(media / first.schema_name, media / other.schema_name)


def run() -> None:
    setup_django("reorg_merge")
    prepare_database()
    from django.db import connection
    from django.utils import timezone

    from catalog.data import SAMPLE_CATALOG
    from catalog.services import catalog_import
    from dossiers.models import Dossier
    from procedures.services import procedures_adopt_for_kind
    from reorg import services
    from tenants.context import agency_context

    started = time.perf_counter()
    catalog_import(raw=SAMPLE_CATALOG.read_bytes())
    sources = [create_agency(f"xa-cu-{i}", name=f"Xã Cũ {i}", code=f"C{i}") for i in range(SOURCES)]
    target = create_agency("xa-moi", name="Xã Mới", code="XM")
    _seed(sources[0], "S0")
    for i, other in enumerate(sources[1:], start=1):
        _copy(sources[0], other, f"S{i}")
    with agency_context(target):
        procedures_adopt_for_kind(agency=target, publish=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    detail(
        f"seeded {SOURCES} communes × {DOSSIERS} dossiers in {time.perf_counter() - started:.1f} s"
    )

    merge = services.merge_create(
        sources=sources, target=target, effective_on=timezone.localdate(), actor_email="bench"
    )
    t0 = time.perf_counter()
    merge = services.merge_run(merge)
    elapsed = time.perf_counter() - t0
    assert merge.verification["ok"], "verification found differences"
    with agency_context(target):
        moved = Dossier.objects.count()
    assert moved == SOURCES * DOSSIERS, moved
    timings: dict[str, float] = {}
    steps = list(merge.steps.order_by("done_at", "id"))
    for before, step in itertools.pairwise(steps):
        kind = step.name.split(":")[0]
        timings[kind] = timings.get(kind, 0.0) + (step.done_at - before.done_at).total_seconds()
    detail("time per kind of step: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    t1 = time.perf_counter()
    services.merge_run(merge)
    detail(
        f"{moved} dossiers in the target, verified; a re-run took {time.perf_counter() - t1:.2f} s"
    )
    bench_line("reorg_merge", elapsed, "s", "<=120")


if __name__ == "__main__":
    run()
