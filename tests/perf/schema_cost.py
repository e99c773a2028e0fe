"""What one agency schema costs PostgreSQL (issue 12, "bound the per-schema cost").

- ``schema_relations``: the relations of one provisioned agency schema — tables, indexes,
  sequences and TOAST tables with their indexes, all counted (``pg_class`` in the schema and
  the TOAST relations of its tables);
- ``backend_memory_after_schemas``: the memory of one database backend (the server process
  behind one connection) after the same
  connection read a dossier page's tables in N agency schemas, as a web worker serving any
  agency would; beside it the figure after one schema, and the growth per schema.
  Memory is the backend's private memory (``/proc/<pid>/smaps_rollup``).
"""

from __future__ import annotations

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

SCHEMAS = size(1000, 20)
# What a request of the portal and the desk reads: enough to load their catalog entries.
TOUCHED = (
    "dossiers_dossier",
    "desk_dossierprocess",
    "procedures_agencyprocedure",
    "portal_branding",
)

RELATIONS = """
    SELECT c.relkind::text, count(*)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(schema)s
    GROUP BY c.relkind
    UNION ALL
    SELECT 'toast ' || t.relkind::text, count(*)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_class t ON t.oid = c.reltoastrelid
    WHERE n.nspname = %(schema)s
    GROUP BY t.relkind
    UNION ALL
    SELECT 'toast index', count(*)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_index i ON i.indrelid = c.reltoastrelid
    WHERE n.nspname = %(schema)s
"""
KINDS = {"r": "tables", "i": "indexes", "S": "sequences", "toast t": "TOAST tables",
         "toast index": "TOAST indexes", "v": "views", "m": "materialised views"}  # fmt: skip


def relations(cursor: Any, schema: str) -> dict[str, int]:
    cursor.execute(RELATIONS, {"schema": schema})
    return {KINDS.get(kind, kind): int(n) for kind, n in cursor.fetchall() if n}


def backend_bytes(cursor: Any) -> int:
    """The private memory of the server process behind ``cursor``'s connection (its caches;
    shared buffers are not counted), read from ``/proc`` (the bench's PostgreSQL runs on this
    machine; ``pg_backend_memory_contexts`` needs a superuser)."""
    cursor.execute("SELECT pg_backend_pid()")
    pid = cursor.fetchone()[0]
    total = 0
    with Path(f"/proc/{pid}/smaps_rollup").open(encoding="ascii") as rollup:
        for line in rollup:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1]) * 1024
    return total


def run() -> None:
    setup_django("schema_cost")
    prepare_database()
    from django.db import connection

    agencies = [create_agency(f"xa-chi-phi-{i:04d}") for i in range(SCHEMAS)]
    detail(f"{len(agencies)} agencies provisioned")
    with connection.cursor() as cursor:
        counts = relations(cursor, agencies[0].schema_name)
    total = sum(counts.values())
    detail("relations of one agency schema: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    bench_line("schema_relations", total, "relations", "<=150")

    from django.conf import settings

    # The setting's default (quick: a small bound, so that it is crossed on 20 schemas).
    bound = size(settings.DATABASE_MAX_SCHEMAS_PER_CONNECTION, 5)
    peaks = {n: _touch_all(agencies, n) for n in (0, bound)}
    detail(
        f"backend memory after {len(agencies)} schemas on one connection: unbounded "
        f"{peaks[0][1] / 2**20:.1f} MiB ({peaks[0][2] / 1024:.0f} kB a schema); with "
        f"DATABASE_MAX_SCHEMAS_PER_CONNECTION={bound} at most {peaks[bound][0] / 2**20:.1f} MiB "
        f"({peaks[bound][3]} reconnections)"
    )
    bench_line("backend_memory_unbounded", peaks[0][1] / 2**20, "MiB", "none")
    bench_line("backend_memory_after_schemas", peaks[bound][0] / 2**20, "MiB", "<=64")


def _touch_all(agencies: list[Any], bound: int) -> tuple[int, int, float, int]:
    """Serve every agency in turn on this thread's connection, as a web worker would (a
    dossier page's tables in each): (peak, last, growth per schema, reconnections)."""
    from django.db import connection
    from django.test.utils import override_settings

    from tenants.context import agency_context

    connection.close()
    peak = last = first = 0
    reconnections = 0
    backend = None
    with override_settings(DATABASE_MAX_SCHEMAS_PER_CONNECTION=bound):
        for n, agency in enumerate(agencies):
            with agency_context(agency), connection.cursor() as cursor:
                for table in TOUCHED:
                    cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")
                    cursor.fetchall()
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
                reconnections += backend is not None and pid != backend
                backend = pid
                last = backend_bytes(cursor)
            peak = max(peak, last)
            first = first or last
            if n == 0:
                first = last
    connection.close()
    return peak, last, (last - first) / max(1, len(agencies) - 1), reconnections


if __name__ == "__main__":
    run()
