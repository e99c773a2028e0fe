"""Moving an agency's dossiers (and everything hanging off them) into another agency.

A merge of agencies (``reorg``) copies every row of the source agency's schema that belongs
to its dossiers and procedures into the target agency's schema. This module is the
lifecycle-level half of it: which tables move and how a row is rewritten on the way, read
from one *endpoint* and written to another. An :class:`Endpoint` names a database alias and
a schema, so the source and the target may live on different PostgreSQL clusters: nothing
here runs one SQL statement over both.

Ids: the target reserves a block of ids per table (its own sequence is moved past the block,
:func:`ids_reserve`), a source row's id becomes ``old id + offset``, and every link to another
moved table gets that table's offset. A copy is therefore deterministic, and writing a page
twice is harmless (``ON CONFLICT (pk) DO NOTHING``): that is what makes a killed merge
resumable. Links to a procedure the target already has (same national code) point at the
target's procedure; the source's versions of it are kept (dossiers stay pinned to the
version they were submitted under) and renumbered after the target's.

Status, events, hand-over trail (Form 06) and Form 04 rows are copied as they are: a moved
dossier keeps its history, its received date, counting start and due date (the deadline keeps
running; nothing restarts), and its code. A code the target already uses gets a suffix, and
every moved dossier gets a :class:`~dossiers.models.DossierAlias` row, so the old code and
secret on a printed receipt keep finding it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connections, models, transaction
from django.utils import timezone

from dossiers.models import DossierStatus
from lifecycle.core import record_new
from lifecycle.table import transition
from tenants import schemas

PAGE = 2000

# Tables that stay the target's own: its counters, branding, message templates, calendar.
KEPT_FROM_TARGET = (
    "django_content_type",
    "dossiers_dossiercounter",
    "dossiers_dossieralias",
    "dossiers_dossiermoved",
    "portal_branding",
    "notifications_notificationtemplate",
    "workdays_calendaroverride",
)
PROCEDURE_TABLE = "procedures_agencyprocedure"
VERSION_TABLE = "procedures_procedureversion"
DOSSIER_TABLE = "dossiers_dossier"
# Procedure configuration rows: not copied for a procedure the target already has.
PROCEDURE_CONFIG_TABLES = (
    "procedures_procedurecomponent",
    "procedures_procedurefield",
    "procedures_procedurestep",
    "desk_stepassignment",
)
# Settings of a clashing procedure shown side by side, and taken over when the source wins.
PROCEDURE_SETTINGS = (
    "name",
    "fee",
    "fee_unit",
    "processing_days",
    "cutoff_hour",
    "online_mode",
    "online_submission",
    "online_payment",
    "fee_before_result",
    "identity_level_required",
    "is_published",
)


@dataclass(frozen=True)
class Endpoint:
    """One agency schema on one database (a Django alias: the cluster it lives on)."""

    schema: str
    alias: str = "default"

    def cursor(self) -> Any:
        return connections[self.alias].cursor()

    def atomic(self) -> Any:
        return transaction.atomic(using=self.alias)

    def table(self, name: str) -> str:
        return f'"{self.schema}"."{name}"'


@dataclass(frozen=True)
class Table:
    name: str
    pk: str
    integer_pk: bool
    links: dict[str, str]  # column → moved table it points at
    files: tuple[str, ...]  # columns holding stored file names


def moved_tables() -> list[Table]:
    """The tenant tables that move, parents before children (non-null links)."""
    labels = schemas.tenant_app_labels()
    found = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label in labels and m._meta.managed and not m._meta.proxy
    ]
    by_table = {m._meta.db_table: m for m in found if m._meta.db_table not in KEPT_FROM_TARGET}
    specs: dict[str, Table] = {}
    deps: dict[str, set[str]] = {}
    for name, model in by_table.items():
        links: dict[str, str] = {}
        deps[name] = set()
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is not None:
                target = f.related_model._meta.db_table  # type: ignore[union-attr]
                if target in by_table:
                    links[f.column] = target
                    if not f.null and target != name:
                        deps[name].add(target)
        pk = model._meta.pk
        integer = isinstance(pk, models.AutoField | models.BigAutoField) or (
            pk.is_relation
            and isinstance(
                getattr(pk, "target_field", None), models.AutoField | models.BigAutoField
            )
        )
        files = tuple(
            f.column for f in model._meta.concrete_fields if isinstance(f, models.FileField)
        )
        specs[name] = Table(name, str(pk.column), bool(integer), links, files)
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...] = ()) -> None:
        if name in ordered or name in path:
            return
        for dep in sorted(deps[name]):
            visit(dep, (*path, name))
        ordered.append(name)

    for name in sorted(specs):
        visit(name)
    return [specs[n] for n in ordered]


def table_map() -> dict[str, Table]:
    return {t.name: t for t in moved_tables()}


@dataclass
class MoveMap:
    """How one source's rows are rewritten for the target (JSON-serialisable, kept by reorg)."""

    offsets: dict[str, int] = field(default_factory=dict)  # table → id offset
    procedures: dict[str, int] = field(default_factory=dict)  # source procedure id → target id
    taken_over: list[int] = field(default_factory=list)  # source procedure ids whose settings win
    version_shift: dict[str, int] = field(default_factory=dict)  # source procedure id → +number
    version_top: dict[str, int] = field(default_factory=dict)  # target procedure id → top number
    codes: dict[str, str] = field(default_factory=dict)  # dossier code → new code (clashes)
    external_ids: dict[str, str] = field(default_factory=dict)
    skipped_api_keys: list[str] = field(default_factory=list)  # prefixes the target already has
    source_schema: str = ""
    # code → target id of the procedures this source brings to the target (a later source of
    # the same merge with the same code joins them)
    placed_codes: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "offsets": self.offsets,
            "procedures": self.procedures,
            "taken_over": self.taken_over,
            "version_shift": self.version_shift,
            "version_top": self.version_top,
            "codes": self.codes,
            "external_ids": self.external_ids,
            "skipped_api_keys": self.skipped_api_keys,
            "source_schema": self.source_schema,
            "placed_codes": self.placed_codes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MoveMap:
        return cls(**data)

    def clashing(self, source_procedure_id: Any) -> bool:
        return str(source_procedure_id) in self.procedures and not self._copied(source_procedure_id)

    def _copied(self, pid: Any) -> bool:
        return self.procedures.get(str(pid)) == int(pid) + self.offsets.get(PROCEDURE_TABLE, 0)


# -- reading the source ---------------------------------------------------------------------


def read_rows(
    source: Endpoint, table: Table, *, after: Any = None, limit: int = PAGE
) -> list[tuple[Any, str]]:
    """A page of (pk, row as JSON text) of a source table, by keyset on the primary key."""
    key = f'"{table.pk}"'
    with source.cursor() as cursor:
        if after is None:
            cursor.execute(
                f"SELECT t.{key}, row_to_json(t)::text FROM {source.table(table.name)} t "  # noqa: S608
                f"ORDER BY t.{key} LIMIT %s",
                [limit],
            )
        else:
            cursor.execute(
                f"SELECT t.{key}, row_to_json(t)::text FROM {source.table(table.name)} t "  # noqa: S608
                f"WHERE t.{key} > %s ORDER BY t.{key} LIMIT %s",
                [after, limit],
            )
        return list(cursor.fetchall())


def iter_rows(
    source: Endpoint, table: Table, only: list[Any] | None = None
) -> Iterator[list[tuple[Any, str]]]:
    """Pages of a source table; ``only``: just these primary keys (a split's selection)."""
    if only is not None:
        yield from _iter_only(source, table, only)
        return
    after = None
    while True:
        page = read_rows(source, table, after=after)
        if page:
            yield page
        if len(page) < PAGE:
            return
        after = page[-1][0]


def _iter_only(source: Endpoint, table: Table, only: list[Any]) -> Iterator[list[tuple[Any, str]]]:
    key = f'"{table.pk}"'
    cast = "bigint" if table.integer_pk else "uuid"
    ordered = sorted(only, key=lambda v: (str(type(v)), v))
    for start in range(0, len(ordered), PAGE):
        chunk = [v if table.integer_pk else str(v) for v in ordered[start : start + PAGE]]
        with source.cursor() as cursor:
            cursor.execute(
                f"SELECT t.{key}, row_to_json(t)::text FROM {source.table(table.name)} t "  # noqa: S608
                f"WHERE t.{key} = ANY(%s::{cast}[]) ORDER BY t.{key}",
                [chunk],
            )
            page = list(cursor.fetchall())
        if page:
            yield page


def selection(
    source: Endpoint, tables: list[Table], procedure_ids: list[int]
) -> tuple[dict[str, list[Any]], dict[str, int]]:
    """What a split moves: the procedures named and every row hanging off them (their
    versions and configuration, their dossiers and whatever hangs off those), as
    ({table: primary keys}, {table: rows that also point at a row staying behind}).

    A row moves when any of its links points at a moving row; tables with no link to a
    moving table (API keys, the audit log, counters) stay. Run until nothing is added, so the
    order of the tables does not matter.
    """
    chosen: dict[str, set[Any]] = {t.name: set() for t in tables}
    chosen[PROCEDURE_TABLE] = set(procedure_ids)
    changed = True
    while changed:
        changed = False
        for table in tables:
            if table.name == PROCEDURE_TABLE:
                continue
            links = [(c, t) for c, t in table.links.items() if chosen.get(t)]
            if not links:
                continue
            where = " OR ".join(f'"{c}" = ANY(%s)' for c, _t in links)
            with source.cursor() as cursor:
                cursor.execute(
                    f'SELECT "{table.pk}" FROM {source.table(table.name)} WHERE {where}',  # noqa: S608
                    [sorted(chosen[t]) for _c, t in links],
                )
                found = {r[0] for r in cursor.fetchall()}
            if found - chosen[table.name]:
                chosen[table.name] |= found
                changed = True
    mixed: dict[str, int] = {}
    for table in tables:
        ids = chosen[table.name]
        links = list(table.links.items())
        if not ids or not links:
            continue
        staying = " OR ".join(
            f'("{c}" IS NOT NULL AND NOT "{c}" = ANY(%s))' if chosen[t] else f'"{c}" IS NOT NULL'
            for c, t in links
        )
        cast = "bigint" if table.integer_pk else "uuid"
        with source.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {source.table(table.name)} "  # noqa: S608
                f'WHERE "{table.pk}" = ANY(%s::{cast}[]) AND ({staying})',
                [
                    [i if table.integer_pk else str(i) for i in ids],
                    *(sorted(chosen[t]) for _c, t in links if chosen[t]),
                ],
            )
            n = int(cursor.fetchone()[0])
        if n:
            mixed[table.name] = n
    out = {
        name: sorted(ids, key=lambda v: (str(type(v)), v)) for name, ids in chosen.items() if ids
    }
    return out, mixed


def rows_delete(endpoint: Endpoint, table: Table, pks: list[Any]) -> int:
    """Delete rows by primary key (a split's rows, from the agency they left)."""
    cast = "bigint" if table.integer_pk else "uuid"
    deleted = 0
    for start in range(0, len(pks), PAGE):
        chunk = [p if table.integer_pk else str(p) for p in pks[start : start + PAGE]]
        with endpoint.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {endpoint.table(table.name)} "  # noqa: S608
                f'WHERE "{table.pk}" = ANY(%s::{cast}[])',
                [chunk],
            )
            deleted += int(cursor.rowcount)
    return deleted


def moved_mark(
    source: Endpoint, dossier_ids: list[int], agency_slug: str, note: str
) -> dict[str, int]:
    """In the agency a split took dossiers from: they end there as ``moved`` (an event says
    where they went; the history before stays as it was), leave the internal process, and
    their codes name the agency that has them now. Idempotent."""
    now = timezone.now()
    marked = 0
    for start in range(0, len(dossier_ids), PAGE):
        chunk = dossier_ids[start : start + PAGE]
        with source.atomic(), source.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT status FROM {source.table(DOSSIER_TABLE)} "  # noqa: S608
                "WHERE id = ANY(%s::bigint[]) AND status <> %s",
                [chunk, DossierStatus.MOVED],
            )
            for (status,) in cursor.fetchall():
                row = transition(status, "move_out", DossierStatus.MOVED)
                if row is None:
                    raise ValueError(f"a dossier in status {status!r} cannot be moved out")
                record_new(row)
            cursor.execute(
                f"INSERT INTO {source.table('dossiers_dossierevent')} "  # noqa: S608
                "(dossier_id, at, actor_id, action, from_status, to_status, note, details) "
                "SELECT d.id, %s, NULL, 'moved', d.status, 'moved', %s, %s::jsonb "
                f"FROM {source.table(DOSSIER_TABLE)} d "
                "WHERE d.id = ANY(%s::bigint[]) AND d.status <> 'moved'",
                [now, note, json.dumps({"agency": agency_slug}), chunk],
            )
            cursor.execute(
                f"UPDATE {source.table(DOSSIER_TABLE)} SET status = 'moved', updated_at = %s "  # noqa: S608
                "WHERE id = ANY(%s::bigint[]) AND status <> 'moved'",
                [now, chunk],
            )
            marked += int(cursor.rowcount)
            cursor.execute(
                f"UPDATE {source.table('desk_dossierprocess')} "  # noqa: S608
                "SET step_position = NULL, assignee_id = NULL "
                "WHERE dossier_id = ANY(%s::bigint[])",
                [chunk],
            )
            cursor.execute(
                f"INSERT INTO {source.table('dossiers_dossiermoved')} "  # noqa: S608
                "(code, agency_slug, moved_at) "
                f"SELECT code, %s, %s FROM {source.table(DOSSIER_TABLE)} "
                "WHERE id = ANY(%s::bigint[]) ON CONFLICT (code) DO NOTHING",
                [agency_slug, now, chunk],
            )
    return {"marked": marked}


def table_count(endpoint: Endpoint, table: str) -> int:
    with endpoint.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {endpoint.table(table)}")  # noqa: S608
        return int(cursor.fetchone()[0])


def max_id(endpoint: Endpoint, table: Table) -> int:
    with endpoint.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(max("{table.pk}"), 0) FROM {endpoint.table(table.name)}')  # noqa: S608
        return int(cursor.fetchone()[0])


def procedures_of(endpoint: Endpoint) -> dict[str, dict[str, Any]]:
    """code → {id, settings...} of every procedure an agency has adopted."""
    cols = ", ".join(f'"{c}"' for c in ("id", "code", *PROCEDURE_SETTINGS))
    with endpoint.cursor() as cursor:
        cursor.execute(f"SELECT {cols} FROM {endpoint.table(PROCEDURE_TABLE)} ORDER BY code")  # noqa: S608
        names = [c[0] for c in cursor.description]
        return {row[1]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def version_numbers(endpoint: Endpoint) -> dict[int, int]:
    """procedure id → highest version number."""
    with endpoint.cursor() as cursor:
        cursor.execute(
            f"SELECT procedure_id, max(number) FROM {endpoint.table(VERSION_TABLE)} "  # noqa: S608
            "GROUP BY procedure_id"
        )
        return {int(p): int(n) for p, n in cursor.fetchall()}


def column_values(endpoint: Endpoint, table: str, column: str) -> set[str]:
    with endpoint.cursor() as cursor:
        cursor.execute(
            f'SELECT "{column}" FROM {endpoint.table(table)} WHERE "{column}" IS NOT NULL'  # noqa: S608
        )
        return {r[0] for r in cursor.fetchall()}


def dossier_status_counts(endpoint: Endpoint) -> dict[str, int]:
    with endpoint.cursor() as cursor:
        cursor.execute(
            f"SELECT status, count(*) FROM {endpoint.table(DOSSIER_TABLE)} GROUP BY status"  # noqa: S608
        )
        return {s: int(n) for s, n in cursor.fetchall()}


# -- the target's ids -----------------------------------------------------------------------


def ids_reserve(target: Endpoint, table: Table, size: int) -> int:
    """Move the target's sequence past a block of ``size`` ids; returns the block's offset.

    ``setval`` is not transactional: a crash after it wastes the block, never reuses it.
    """
    with target.atomic(), target.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_serial_sequence(%s, %s)", [f"{target.schema}.{table.name}", table.pk]
        )
        sequence = cursor.fetchone()[0]
        cursor.execute(f"LOCK TABLE {target.table(table.name)} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f'SELECT COALESCE(max("{table.pk}"), 0) FROM {target.table(table.name)}')  # noqa: S608
        highest = int(cursor.fetchone()[0])
        if sequence is None:
            return highest
        cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
        last, called = cursor.fetchone()
        start = max(highest, int(last) if called else int(last) - 1)
        cursor.execute("SELECT setval(%s, %s, true)", [sequence, start + max(size, 1)])
        return start


# -- rewriting and writing ------------------------------------------------------------------


def rewrite(table: Table, row: dict[str, Any], move: MoveMap) -> dict[str, Any] | None:
    """A source row as the target holds it, or None when it stays behind."""
    name = table.name
    if name == PROCEDURE_TABLE and move.clashing(row["id"]):
        return None
    if name in PROCEDURE_CONFIG_TABLES and move.clashing(row["procedure_id"]):
        return None
    if name == "api_apikey" and row.get("prefix") in move.skipped_api_keys:
        return None
    out = dict(row)
    if table.integer_pk:
        out[table.pk] = int(row[table.pk]) + move.offsets.get(name, 0)
    for column, target in table.links.items():
        value = row.get(column)
        if value is None or column == table.pk:
            continue
        if target == PROCEDURE_TABLE:
            out[column] = move.procedures.get(str(value), int(value) + move.offsets.get(target, 0))
        else:
            out[column] = int(value) + move.offsets.get(target, 0)
    if table.pk in table.links and table.integer_pk:  # one-to-one primary keys
        out[table.pk] = int(row[table.pk]) + move.offsets.get(table.links[table.pk], 0)
    if name == VERSION_TABLE:
        out["number"] = int(row["number"]) + move.version_shift.get(str(row["procedure_id"]), 0)
    elif name == DOSSIER_TABLE:
        out["code"] = move.codes.get(row["code"], row["code"])
        if row.get("external_id") is not None:
            out["external_id"] = move.external_ids.get(row["external_id"], row["external_id"])
    elif name == "notifications_notification" and row.get("dedupe_key"):
        out["dedupe_key"] = f"m:{move.source_schema}:{row['dedupe_key']}"[:120]
    return out


def deferred_links(table: Table, done: set[str]) -> list[str]:
    """Nullable links to a table not copied yet (e.g. a procedure's published version)."""
    return [c for c, t in table.links.items() if t not in done and t != table.name]


def write_rows(target: Endpoint, table: Table, rows: list[dict[str, Any]]) -> int:
    """Insert rewritten rows into the target (a row already there is left alone)."""
    if not rows:
        return 0
    with target.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {target.table(table.name)} "  # noqa: S608
            f"SELECT * FROM json_populate_recordset(NULL::{target.table(table.name)}, %s::json) "
            f'ON CONFLICT ("{table.pk}") DO NOTHING',
            [json.dumps(rows)],
        )
        return int(cursor.rowcount)


def links_set(target: Endpoint, table: Table, column: str, pairs: list[tuple[Any, Any]]) -> None:
    """Fill a deferred link: (target pk, target value) pairs."""
    if not pairs:
        return
    with target.cursor() as cursor:
        cursor.execute(
            f'UPDATE {target.table(table.name)} t SET "{column}" = v.val '  # noqa: S608
            "FROM json_to_recordset(%s::json) AS v(pk bigint, val bigint) "
            f'WHERE t."{table.pk}" = v.pk',
            [json.dumps([{"pk": p, "val": v} for p, v in pairs])],
        )


def procedure_take_over(target: Endpoint, target_id: int, settings: dict[str, Any]) -> None:
    """The source's settings of a clashing procedure win (the provider chose them)."""
    columns = [c for c in PROCEDURE_SETTINGS if c in settings and c != "name"]
    sets = ", ".join(f'"{c}" = %s' for c in columns)
    with target.cursor() as cursor:
        cursor.execute(
            f"UPDATE {target.table(PROCEDURE_TABLE)} SET {sets}, has_unpublished_changes = true "  # noqa: S608
            "WHERE id = %s",
            [*(settings[c] for c in columns), target_id],
        )


def aliases_write(target: Endpoint, rows: list[tuple[str, str, int]]) -> int:
    """(old code, source agency slug, target dossier id) → the target's alias table."""
    if not rows:
        return 0
    with target.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {target.table('dossiers_dossieralias')} "  # noqa: S608
            "(code, source_agency, dossier_id, created_at) "
            "SELECT v.code, v.source, v.dossier, %s "
            "FROM json_to_recordset(%s::json) AS v(code text, source text, dossier bigint) "
            "ON CONFLICT (code) DO NOTHING",
            [
                timezone.now(),  # the application's clock, never the server's (tests/test_clock.py)
                json.dumps([{"code": c, "source": s, "dossier": d} for c, s, d in rows]),
            ],
        )
        return int(cursor.rowcount)


# -- verification ---------------------------------------------------------------------------


def _canonical(row: dict[str, Any]) -> bytes:
    return json.dumps(row, sort_keys=True, ensure_ascii=False, default=str).encode()


def source_digest(
    source: Endpoint, table: Table, move: MoveMap, only: list[Any] | None = None
) -> tuple[int, str, list[Any]]:
    """(rows, sha256, target pks) of what the source's table (or ``only`` these rows of it)
    becomes in the target."""
    digest = hashlib.sha256()
    count = 0
    pks: list[Any] = []
    for page in iter_rows(source, table, only):
        for _pk, text in page:
            row = rewrite(table, json.loads(text), move)
            if row is None:
                continue
            count += 1
            pks.append(row[table.pk])
            digest.update(_canonical(row))
    return count, digest.hexdigest(), pks


def target_digest(target: Endpoint, table: Table, pks: list[Any]) -> tuple[int, str]:
    """(rows, sha256) of the given rows of the target's table, in primary-key order."""
    digest = hashlib.sha256()
    count = 0
    key = f'"{table.pk}"'
    for start in range(0, len(pks), PAGE):
        chunk = pks[start : start + PAGE]
        with target.cursor() as cursor:
            cursor.execute(
                f"SELECT row_to_json(t)::text FROM {target.table(table.name)} t "  # noqa: S608
                f"WHERE t.{key} = ANY(%s::{'bigint' if table.integer_pk else 'uuid'}[]) "
                f"ORDER BY t.{key}",
                [[p if table.integer_pk else str(p) for p in chunk]],
            )
            for (text,) in cursor.fetchall():
                count += 1
                digest.update(_canonical(json.loads(text)))
    return count, digest.hexdigest()
