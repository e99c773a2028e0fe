"""Restoring ONE agency to a point in time, leaving every other agency as it is.

pgBackRest restores whole clusters, so the point-in-time copy is made elsewhere first: the
cluster's backup restored into a scratch instance with ``--type=time --target=…``
(infra/README.md, "Backups and restore"). This module then brings the agency's schema from that
scratch instance back into the live database, in ONE transaction on the live side, as the owner
role:

1. the live schema is renamed ``<schema>_r<YYYYmmddHHMMSS>`` and the application role loses
   every privilege on it: nothing is deleted — its rows, the append-only trails included,
   stay for inspection (the append-only triggers are never disabled; no UPDATE or DELETE runs
   on a trail);
2. the schema as it was at the target is recreated from ``pg_dump --schema=<schema>`` of the
   scratch instance: tables, rows (COPY), sequences, indexes, constraints, the append-only
   triggers (created after the rows, as pg_dump does), and the application role's grants;
3. the restore is written to the agency's public history (``tenants_agencyevent``).

A failure anywhere rolls the whole transaction back: the live schema is untouched. The public
schema's rows about the agency (its usage ledger, invoices, memberships) are platform-wide and
append-only: they are not rewound. Both sides must be at the same tenant migrations (refused
otherwise, with what to do). Files are not in the database: the bucket keeps them (versioned).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import psycopg.conninfo
from django.conf import settings
from django.utils import timezone

from tenants import schemas
from tenants.models import Agency


class RestoreRefused(Exception):
    """The restore cannot be done as asked; nothing was changed."""


@dataclass(frozen=True)
class RestoreReport:
    schema: str
    replaced_by: str  # what the damaged live schema is now called
    tables: int
    rows: int
    dump_seconds: float
    load_seconds: float


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _conninfo(db: dict[str, Any]) -> dict[str, str]:
    return {
        "dbname": str(db["NAME"]),
        "user": str(db.get("USER") or ""),
        "host": str(db.get("HOST") or ""),
        "port": str(db.get("PORT") or ""),
        "password": str(db.get("PASSWORD") or ""),
    }


def _libpq_env(info: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (
        ("host", "PGHOST"),
        ("port", "PGPORT"),
        ("user", "PGUSER"),
        ("password", "PGPASSWORD"),
        ("dbname", "PGDATABASE"),
    ):
        env.pop(var, None)
        if info.get(key):
            env[var] = info[key]
    return env


def _tool(name: str, pg_bin: str) -> str:
    path = Path(pg_bin) / name if pg_bin else shutil.which(name)
    if not path or not Path(path).exists():
        raise RestoreRefused(f"{name} not found (give --pg-bin, e.g. /usr/lib/postgresql/15/bin)")
    return str(path)


def _migrations(conn: psycopg.Connection[Any], schema: str) -> set[tuple[str, str]]:
    labels = schemas.tenant_app_labels()
    rows = conn.execute(
        f"SELECT app, name FROM {_ident(schema)}.django_migrations"  # noqa: S608 - quoted
    ).fetchall()
    return {(a, n) for a, n in rows if a in labels}


def _counts(conn: psycopg.Connection[Any], schema: str) -> dict[str, int]:
    tables = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [schema]
    ).fetchall()
    return {
        t: int(conn.execute(f"SELECT count(*) FROM {_ident(schema)}.{_ident(t)}").fetchone()[0])  # type: ignore[index]  # noqa: S608
        for (t,) in tables
    }


def agency_restore_from(
    *,
    agency: Agency,
    source: str,
    pg_bin: str = "",
    actor_email: str = "",
    reason: str = "",
    target: str = "",
) -> RestoreReport:
    """Replace the live schema of ``agency`` by its copy in the database at ``source``.

    ``source`` is a libpq connection string of the scratch instance restored to the point in
    time (read-only is enough: a paused hot standby will do). ``target`` (text) is recorded.
    """
    schema = agency.schema_name
    owner = _conninfo(settings.DATABASE_OWNER)
    with psycopg.connect(source) as scratch:
        found = scratch.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]
        ).fetchone()
        if found is None:
            raise RestoreRefused(f"the source has no schema {schema}")
        source_migrations = _migrations(scratch, schema)
        source_counts = _counts(scratch, schema)
    with psycopg.connect(
        psycopg.conninfo.make_conninfo(**{k: v for k, v in owner.items() if v})
    ) as live:
        live_migrations = _migrations(live, schema)
    if source_migrations != live_migrations:
        raise RestoreRefused(
            f"{schema} is at other migrations in the source than in the live database: restore "
            "the source's structure first (migrate_agencies against the scratch instance, "
            "same code as live), then run this again."
        )
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    replaced = f"{schema[: 63 - 16]}_r{stamp}"
    app_role = str(getattr(settings, "DATABASE_APP_ROLE", "") or "")
    with tempfile.TemporaryDirectory(prefix="motcua-restore-") as work:
        dump = Path(work) / "schema.sql"
        started = time.monotonic()
        subprocess.run(  # noqa: S603 - our own tool, arguments are ours
            [
                _tool("pg_dump", pg_bin),
                "--schema",
                schema,
                "--format",
                "plain",
                "--no-comments",
                "--file",
                str(dump),
                source,
            ],
            check=True,
            capture_output=True,
        )
        dump_seconds = time.monotonic() - started
        detail = {
            "target": target,
            "reason": reason,
            "replaced_schema_kept_as": replaced,
            "tables": len(source_counts),
            "rows": sum(source_counts.values()),
        }
        script = Path(work) / "restore.sql"
        with script.open("w") as out:
            out.write("\\set ON_ERROR_STOP on\n")
            out.write("SET lock_timeout = '30s';\n")
            out.write(f"ALTER SCHEMA {_ident(schema)} RENAME TO {_ident(replaced)};\n")
            if app_role:
                # The damaged copy is kept for inspection, out of the application's reach.
                for what in ("ALL TABLES IN SCHEMA", "ALL SEQUENCES IN SCHEMA", "SCHEMA"):
                    out.write(f"REVOKE ALL ON {what} {_ident(replaced)} FROM {_ident(app_role)};\n")
            out.write(f"\\i {dump}\n")
            out.write("SET search_path = public;\n")
            values = ", ".join(
                [
                    str(int(agency.pk)),
                    "'restored'",
                    f"{_literal(json.dumps(detail))}::jsonb",
                    _literal(actor_email),
                    f"{_literal(timezone.now().isoformat())}::timestamptz",
                ]
            )
            columns = "agency_id, event, detail, actor_email, created_at"
            insert = f"INSERT INTO public.tenants_agencyevent ({columns}) VALUES ({values});\n"  # noqa: S608 - quoted values
            out.write(insert)
        started = time.monotonic()
        result = subprocess.run(  # noqa: S603
            [_tool("psql", pg_bin), "-X", "-q", "--single-transaction", "-f", str(script)],
            env=_libpq_env(owner),
            capture_output=True,
            text=True,
        )
        load_seconds = time.monotonic() - started
        if result.returncode != 0:
            raise RestoreRefused(
                "the load failed and was rolled back; the live schema is unchanged: "
                + (result.stderr.strip().splitlines() or ["?"])[-1]
            )
    return RestoreReport(
        schema=schema,
        replaced_by=replaced,
        tables=len(source_counts),
        rows=sum(source_counts.values()),
        dump_seconds=dump_seconds,
        load_seconds=load_seconds,
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
