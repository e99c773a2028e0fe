"""Proof of backups and restores with pgBackRest: full + incremental + WAL archive, point-in-time
restore of the cluster, and the restore of ONE agency to a point in time, others untouched.

    .venv/bin/python -m tests.ops.backup_restore       # or: python3 dev.py bench restore_agency

On demand (a few minutes; not in the test suite). Installs Debian's ``pgbackrest`` if missing,
starts its own PostgreSQL 15 instances and Redis on free ports in a temporary folder, and stops
and removes them at the end. Steps:

1. a live cluster archiving its WAL to a pgBackRest repository; the project migrated into it
   with its two roles; agency A with DOSSIERS dossiers (their events and document rows, a few
   submitted through the real service) and agency B with a tenth of that;
2. a full backup, more writes to both, an incremental backup, more writes: the point T;
3. damage after T in agency A, as a bug and a slip would do it: the application role rewrites
   thousands of dossiers and deletes documents, the owner truncates the dossier tables;
   meanwhile agency B keeps working (new dossiers after T, which must survive);
4. ``pgbackrest restore --type=time --target=T`` into a scratch instance (the cluster at T), and
   ``manage.py agency_restore A --source <scratch>`` (tenants/restore.py) into the live one;
5. compare, row by row: the scratch cluster against what both agencies held at T (the PITR),
   agency A live against A at T, agency B live against B just before the restore (its writes
   after T kept): every count of differences must be 0.

Prints ``BENCH`` lines (restore time of the agency, differences, seconds per GB of backup and
of restore) and exits non-zero if a difference is found.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

from tests.ops.cluster import (
    APP,
    OWNER,
    PG_BIN,
    Instance,
    Workspace,
    as_postgres,
    bench_line,
    checked,
    create_roles_and_database,
    django_env,
    ensure_debian_packages,
    ensure_migrated,
    log,
    manage,
    redis_server,
    setup_django,
)

DOSSIERS = int(os.environ.get("MOTCUA_RESTORE_DOSSIERS", 20_000))
# Other agencies' data, so that the cluster restored has a size worth a per-GB figure.
FILL_MB = int(os.environ.get("MOTCUA_RESTORE_FILL_MB", 1000))
STANZA = "motcua"
GOAL_SECONDS = 300


def _pgbackrest(conf: Path, *args: str) -> str:
    return checked(as_postgres(["pgbackrest", f"--config={conf}", f"--stanza={STANZA}", *args]),
                   f"pgbackrest {' '.join(args)}")  # fmt: skip


def _write_config(ws: Workspace, live: Instance) -> Path:
    conf = ws.dir / "pgbackrest.conf"
    conf.write_text(
        "[global]\n"
        f"repo1-path={ws.path('repo')}\n"
        "repo1-retention-full=2\n"
        f"log-path={ws.path('pgbackrest-log')}\n"
        f"lock-path={ws.path('pgbackrest-lock')}\n"
        f"spool-path={ws.path('pgbackrest-spool')}\n"
        "log-level-console=warn\nstart-fast=y\ncompress-type=lz4\nprocess-max=2\n"
        "archive-async=n\n"
        f"\n[{STANZA}]\npg1-path={live.data}\npg1-port={live.port}\n"
        f"pg1-socket-path={live.socket_dir}\n"
    )
    os.chown(conf, *_pg_ids())
    return conf


def _pg_ids() -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam("postgres")
    return entry.pw_uid, entry.pw_gid


# -- Writing dossiers ---------------------------------------------------------------------------


def _seed_agency(slug: str, name: str, code: str, count: int) -> Any:
    from catalog.data import SAMPLE_CATALOG
    from catalog.models import CatalogProcedure
    from catalog.services import catalog_import
    from procedures.services import procedures_adopt_for_kind
    from tenants import services
    from tenants.context import agency_context

    if not CatalogProcedure.objects.exists():
        catalog_import(raw=SAMPLE_CATALOG.read_bytes())
    agency = services.agency_create(
        slug=slug, name=name, kind="commune", province_code="31", code=code
    )
    agency = services.agency_provision(agency=agency).agency
    with agency_context(agency):
        procedures_adopt_for_kind(agency=agency, publish=True)
        _submit_real(agency, 10)
        _bulk(agency, code, 0, count)
    return agency


def _submit_real(agency: Any, count: int) -> None:
    """Dossiers through the real service (files, events, ledger, rollups)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from lifecycle.submit import Applicant, dossier_submit
    from procedures.models import AgencyProcedure

    shop = AgencyProcedure.objects.get(code="S-KD-001")
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    for n in range(count):
        dossier_submit(
            agency=agency,
            procedure=shop,
            applicant=Applicant(name=f"Người Nộp Thật {n}", phone="0912345678"),
            form_data={
                "business_name": f"Tạp hoá {n}",
                "business_address": "Thôn 2",
                "capital": "50000000",
                "trade": "Bán lẻ",
            },
            files={
                0: [SimpleUploadedFile("a.pdf", pdf, "application/pdf")],
                1: [SimpleUploadedFile("b.pdf", pdf, "application/pdf")],
            },
        )


def _bulk(agency: Any, code: str, start: int, count: int, batch: int = 5000) -> None:
    """Dossiers with their received event and two document rows, written in bulk."""
    from dossiers.models import Channel, Dossier, DossierDocument, DossierEvent, DossierStatus
    from procedures.models import AgencyProcedure

    shop = AgencyProcedure.objects.get(code="S-KD-001")
    version = shop.published_version_id
    assert version is not None
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    for first in range(start, start + count, batch):
        rows = [
            Dossier(
                code=f"{code}-B{n:07d}",
                lookup_secret="restore",
                procedure_id=shop.pk,
                procedure_version_id=version,
                channel=Channel.ONLINE if n % 3 else Channel.DESK,
                applicant_name=f"Người Nộp {n}",
                applicant_phone="0912345678",
                form_data={"business_name": f"Hộ kinh doanh {n}", "capital": str(n * 1000)},
                status=DossierStatus.IN_PROCESSING if n % 3 == 0 else DossierStatus.RETURNED,
                received_at=now - dt.timedelta(minutes=n),
                counting_start=today,
                due_date=today + dt.timedelta(days=n % 30),
            )
            for n in range(first, min(start + count, first + batch))
        ]
        Dossier.objects.bulk_create(rows, batch_size=batch)
        DossierEvent.objects.bulk_create(
            [
                DossierEvent(
                    dossier_id=d.pk, at=d.received_at, action="received", to_status=d.status,
                    details={"channel": d.channel},
                )
                for d in rows
            ],
            batch_size=batch,
        )  # fmt: skip
        DossierDocument.objects.bulk_create(
            [
                DossierDocument(
                    dossier_id=d.pk, component_position=p, component_name=f"Thành phần {p}",
                    file=f"dossiers/{today:%Y/%m}/{d.pk}/{p}.pdf", original_name=f"{p}.pdf",
                    content_type="application/pdf", size=100_000, sha256="0" * 64,
                )
                for d in rows
                for p in (0, 1)
            ],
            batch_size=batch,
        )  # fmt: skip


def _fill(agency: Any, megabytes: int) -> None:
    """About ``megabytes`` of dossiers with bulky, incompressible form data, written by the
    server itself (random text: TOAST cannot shrink it)."""
    from django.db import connection

    from procedures.models import AgencyProcedure
    from tenants.context import agency_context

    per_row = 4800  # bytes of form data per dossier
    total = megabytes * 1_000_000 // per_row
    with agency_context(agency), connection.cursor() as cursor:
        shop = AgencyProcedure.objects.get(code="S-KD-001")
        for first in range(0, total, 20_000):
            cursor.execute(
                "INSERT INTO dossiers_dossier (code, lookup_secret, procedure_id, "
                "procedure_version_id, channel, external_fingerprint, applicant_name, "
                "applicant_id_number, applicant_phone, applicant_email, applicant_address, "
                "form_data, status, received_at, counting_start, due_date, fee_amount, fee_paid, "
                "created_at, updated_at) "
                "SELECT 'XC-F' || lpad(g::text, 8, '0'), 'fill', %s, %s, 'online', '', "
                "'Người Nộp ' || g, '', '', '', '', jsonb_build_object('note', "
                "(SELECT string_agg(md5(random()::text || g::text || i::text), '') "
                " FROM generate_series(1, %s) i)), 'returned', %s, %s, %s, 0, false, %s, %s "
                "FROM generate_series(%s, %s) g",
                [shop.pk, shop.published_version_id, per_row // 32, *[dt.datetime.now(dt.UTC)],
                 dt.date.today(), dt.date.today(), *[dt.datetime.now(dt.UTC)] * 2,
                 first, min(total, first + 20_000) - 1],
            )  # fmt: skip


# -- Comparing ---------------------------------------------------------------------------------


def snapshot(dsn: str, schema: str) -> dict[str, list[str]]:
    """Every row of every table of ``schema``, as a sorted list of md5(row text)."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        tables = [
            t
            for (t,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", [schema]
            ).fetchall()
        ]
        return {
            table: [
                h
                for (h,) in conn.execute(
                    f'SELECT md5(t::text) FROM "{schema}"."{table}" t ORDER BY 1'
                ).fetchall()
            ]
            for table in tables
        }


def differences(expected: dict[str, list[str]], actual: dict[str, list[str]]) -> int:
    """Rows missing plus rows extra, over every table (a missing table counts all its rows)."""
    from collections import Counter

    total = 0
    for table in set(expected) | set(actual):
        want, have = Counter(expected.get(table, [])), Counter(actual.get(table, []))
        total += sum((want - have).values()) + sum((have - want).values())
    return total


def rows(snap: dict[str, list[str]]) -> int:
    return sum(len(v) for v in snap.values())


# -- The proof ---------------------------------------------------------------------------------


def run() -> None:
    ensure_debian_packages("pgbackrest")
    with Workspace("motcua-backup-") as ws:
        live = Instance(ws, "live")
        live.initdb(
            "wal_level = replica\narchive_mode = on\nmax_wal_senders = 3\n"
            f"archive_command = 'pgbackrest --config={ws.dir / 'pgbackrest.conf'} "
            f"--stanza={STANZA} archive-push %p'\n"
        )
        conf = _write_config(ws, live)
        live.start()
        create_roles_and_database(live)
        _pgbackrest(conf, "stanza-create")
        _pgbackrest(conf, "check")
        with redis_server(ws) as redis_url:
            env = django_env(
                app_url=live.url(APP),
                owner_url=live.url(OWNER),
                redis_url=redis_url,
                media=ws.path("media"),
            )
            ensure_migrated(live.port, lambda: manage(env, "migrate_agencies", "--verbosity", "0"))
            setup_django(env)
            from tenants.context import agency_context

            started = time.monotonic()
            agency_a = _seed_agency("xa-a", "Xã A", "XA", DOSSIERS)
            agency_b = _seed_agency("xa-b", "Xã B", "XB", DOSSIERS // 10)
            if FILL_MB:
                _fill(_seed_agency("xa-c", "Xã C", "XC", 0), FILL_MB)
            log(
                f"wrote {DOSSIERS} dossiers to {agency_a.schema_name} and {DOSSIERS // 10} to "
                f"{agency_b.schema_name} in {time.monotonic() - started:.1f} s"
            )
            from django.db import connections

            connections.close_all()
            size = int(live.sql("SELECT pg_database_size('motcua')")[0][0])
            cluster = sum(
                int(s) for (s,) in live.sql("SELECT pg_database_size(datname) FROM pg_database")
            )
            log(f"database motcua: {size / 1e6:.0f} MB (cluster {cluster / 1e6:.0f} MB)")

            started = time.monotonic()
            _pgbackrest(conf, "backup", "--type=full")
            full_seconds = time.monotonic() - started
            log(f"full backup: {full_seconds:.1f} s")
            with agency_context(agency_a):
                _bulk(agency_a, "XA", DOSSIERS, 500)
            with agency_context(agency_b):
                _bulk(agency_b, "XB", DOSSIERS, 500)
            connections.close_all()
            started = time.monotonic()
            _pgbackrest(conf, "backup", "--type=incr")
            incr_seconds = time.monotonic() - started
            log(f"incremental backup: {incr_seconds:.1f} s")
            with agency_context(agency_a):
                _submit_real(agency_a, 5)  # after the last backup: only the WAL has these
            connections.close_all()

            time.sleep(1.5)
            target = dt.datetime.now(dt.UTC)
            time.sleep(1.5)
            owner_dsn = live.dsn(OWNER, "motcua")
            at_target = {
                s: snapshot(owner_dsn, s) for s in (agency_a.schema_name, agency_b.schema_name)
            }
            log(
                f"point in time T = {target.isoformat()}: A "
                f"{rows(at_target[agency_a.schema_name])} rows, B "
                f"{rows(at_target[agency_b.schema_name])} rows"
            )

            # Damage after T: the application role rewrites and deletes, the owner truncates.
            import psycopg

            a = agency_a.schema_name
            with psycopg.connect(live.dsn(APP, "motcua")) as conn:
                changed = conn.execute(
                    f"UPDATE \"{a}\".dossiers_dossier SET status = 'withdrawn', "
                    "applicant_name = 'NHẦM' WHERE id % 4 = 0"
                ).rowcount
                deleted = conn.execute(
                    f'DELETE FROM "{a}".dossiers_dossierdocument WHERE id % 3 = 0'
                ).rowcount
            with psycopg.connect(owner_dsn) as conn:
                conn.execute(f'TRUNCATE "{a}".desk_dossierprocess CASCADE')
            log(f"damage in {a} after T: {changed} dossiers rewritten and {deleted} documents "
                "deleted by the app role, its process table truncated by the owner")  # fmt: skip
            with agency_context(agency_b):
                _bulk(agency_b, "XB", DOSSIERS + 500, 200)  # B goes on working after T
                _submit_real(agency_b, 3)
            connections.close_all()
            live.sql("SELECT pg_switch_wal()")
            _pgbackrest(conf, "check")  # the WAL past T is in the repository
            b_before = snapshot(owner_dsn, agency_b.schema_name)

            # Restore: the cluster at T into a scratch instance, then agency A from it.
            scratch = Instance(ws, "scratch")
            ws.path("scratch").chmod(0o700)
            when = target.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "+00"
            started = time.monotonic()
            _pgbackrest(conf, "restore", f"--pg1-path={scratch.data}", "--type=time",
                        f"--target={when}", "--target-action=promote",
                        "--archive-mode=off")  # fmt: skip
            scratch.start(
                "-c", "archive_mode=off", "-c", f"unix_socket_directories={scratch.socket_dir}"
            )
            scratch.wait_writable()
            pitr_seconds = time.monotonic() - started
            log(f"cluster restored to T and promoted in {pitr_seconds:.1f} s")
            started = time.monotonic()
            out = manage(
                env, "agency_restore", "xa-a", "--source", scratch.dsn(OWNER, "motcua"),
                "--pg-bin", str(PG_BIN), "--target", target.isoformat(),
                "--reason", "restore proof", "--actor", "ops@motcua.vn",
            )  # fmt: skip
            agency_seconds = time.monotonic() - started
            log(out.strip())

            # Compare.
            pitr_diff = sum(
                differences(at_target[s], snapshot(scratch.dsn(OWNER, "motcua"), s))
                for s in at_target
            )
            a_diff = differences(at_target[a], snapshot(owner_dsn, a))
            b_diff = differences(b_before, snapshot(owner_dsn, agency_b.schema_name))
            b_kept = rows(b_before) - rows(at_target[agency_b.schema_name])
            event = live.sql(
                "SELECT detail->>'replaced_schema_kept_as' FROM tenants_agencyevent "
                f"WHERE event = 'restored' AND agency_id = {int(agency_a.pk)}",
                dbname="motcua",
            )
            kept = event[0][0] if event else ""
            damaged = snapshot(owner_dsn, kept) if kept else {}
            log(f"differences: cluster at T {pitr_diff}, agency A {a_diff}, agency B {b_diff} "
                f"(B's {b_kept} rows written after T kept); the damaged schema is kept as "
                f"{kept} ({rows(damaged)} rows)")  # fmt: skip
            from tenants.models import Agency

            with agency_context(Agency.objects.get(slug="xa-a")):
                from dossiers.models import Dossier

                withdrawn = Dossier.objects.filter(applicant_name="NHẦM").count()
                total = Dossier.objects.count()
            connections.close_all()
            log(f"agency A through Django after the restore: {total} dossiers, {withdrawn} damaged")
            # The figures.
            gb = size / 1e9
            bench_line("restore_agency", pitr_seconds + agency_seconds, "s", f"<={GOAL_SECONDS}")
            bench_line("restore_agency_copy", agency_seconds, "s", "none")
            bench_line("restore_differences", pitr_diff + a_diff + b_diff, "rows", "<=0")
            bench_line("backup_full_per_gb", full_seconds / gb, "s/GB", "none")
            bench_line("restore_pitr_per_gb", pitr_seconds / gb, "s/GB", "none")
            print(
                f"DETAIL restore_agency dossiers={DOSSIERS} db_mb={size / 1e6:.0f} "
                f"full_backup_s={full_seconds:.1f} incr_backup_s={incr_seconds:.1f} "
                f"pitr_restore_s={pitr_seconds:.1f} agency_copy_s={agency_seconds:.1f} "
                f"rows_at_T_A={rows(at_target[a])} damaged_rows_in_A_after={withdrawn}",
                flush=True,
            )
            scratch.stop()
            live.stop()
            if pitr_diff or a_diff or b_diff or withdrawn or not kept:
                raise SystemExit(1)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    run()
