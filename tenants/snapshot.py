"""Fast cloning of the template schema: its DDL captured once, replayed for each new agency.

django-tenants' ``clone_schema`` SQL function walks information_schema on every
call, and gets slower with every schema in the database (~0.65 ms per schema).
Instead, when the template is (re)built, ``capture`` reads the template's
structure from pg_catalog once and writes it out as plain DDL with *unqualified*
names (generated with ``search_path`` set to the template alone, so only objects
of other schemas, such as ``public``, come out qualified). ``replay`` runs that
DDL with ``search_path`` set to the new schema, copies the template's rows
(django_migrations, content types) and sequence positions, in the caller's
transaction: all or nothing.

``capture`` refuses (returns ``None``) when the template holds objects it does
not reproduce (views, functions, triggers, custom types, partitions, ...), and
checks its own output by replaying it into a scratch schema and comparing
``signature`` with the template's; the caller then falls back to the
clone function.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django_tenants.utils import quote_schema_name

from tenants.db import connection

SCRATCH_SCHEMA = "motcua_snapshot_check"
SEPARATOR = "\n-- motcua:statement\n"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextlib.contextmanager
def search_path(cursor: Any, schema: str) -> Iterator[None]:
    """Set ``search_path`` to ``schema`` alone for the block, then restore it.

    Transaction-local (``set_config(..., true)``) and always used inside an
    atomic block: if the block fails, rolling back its savepoint restores the
    path, so nothing is restored by hand on an aborted transaction.
    """
    cursor.execute("SELECT current_setting('search_path')")
    saved = cursor.fetchone()[0]
    cursor.execute("SELECT set_config('search_path', %s, true)", [_ident(schema)])
    yield
    cursor.execute("SELECT set_config('search_path', %s, true)", [saved])


# -- Reading the catalog ---------------------------------------------------------------

_UNSUPPORTED_SQL = """
SELECT 'relation ' || c.relname || ' (' || c.relkind::text || ')'
  FROM pg_class c WHERE c.relnamespace = %(ns)s AND c.relkind NOT IN ('r', 'S', 'i')
UNION ALL
SELECT 'function ' || p.proname FROM pg_proc p WHERE p.pronamespace = %(ns)s
UNION ALL
SELECT 'type ' || t.typname FROM pg_type t
 WHERE t.typnamespace = %(ns)s AND t.typtype <> 'b' AND t.typrelid = 0
UNION ALL
SELECT 'trigger ' || tg.tgname FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
 WHERE c.relnamespace = %(ns)s AND NOT tg.tgisinternal
UNION ALL
SELECT 'inheritance ' || c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE c.relnamespace = %(ns)s AND c.relkind = 'r'
UNION ALL
SELECT 'policy ' || pol.polname FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid
 WHERE c.relnamespace = %(ns)s
UNION ALL
SELECT 'statistics ' || s.stxname FROM pg_statistic_ext s WHERE s.stxnamespace = %(ns)s
UNION ALL
SELECT 'options ' || c.relname FROM pg_class c
 WHERE c.relnamespace = %(ns)s AND (c.reloptions IS NOT NULL OR c.relrowsecurity)
   AND c.relkind = 'r'
"""

_SEQUENCES_SQL = """
SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin,
       s.seqmax, s.seqcache, s.seqcycle,
       (SELECT d.deptype FROM pg_depend d
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
           AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1),
       (SELECT r.relname || '.' || a.attname FROM pg_depend d
          JOIN pg_class r ON r.oid = d.refobjid
          JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
           AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1)
  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
 WHERE c.relnamespace = %(ns)s
 ORDER BY c.relname
"""

_COLUMNS_SQL = """
SELECT c.relname, c.relpersistence, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
       a.attnotnull, a.attidentity, a.attgenerated, pg_get_expr(ad.adbin, ad.adrelid),
       CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0
            THEN (SELECT quote_ident(n.nspname) || '.' || quote_ident(co.collname)
                    FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
                   WHERE co.oid = a.attcollation) END,
       col_description(c.oid, a.attnum), obj_description(c.oid, 'pg_class')
  FROM pg_class c
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
 WHERE c.relnamespace = %(ns)s AND c.relkind = 'r'
 ORDER BY c.relname, a.attnum
"""

_CONSTRAINTS_SQL = """
SELECT c.relname, con.conname, con.contype, pg_get_constraintdef(con.oid)
  FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
 WHERE c.relnamespace = %(ns)s AND con.contype IN ('p', 'u', 'c', 'x', 'f')
   AND con.conislocal
 ORDER BY CASE con.contype WHEN 'f' THEN 1 ELSE 0 END, c.relname, con.conname
"""

_INDEXES_SQL = """
SELECT t.relname, ic.relname, pg_get_indexdef(i.indexrelid)
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class t ON t.oid = i.indrelid
 WHERE ic.relnamespace = %(ns)s
   AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                    WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                      AND con.contype IN ('p', 'u', 'x'))
 ORDER BY t.relname, ic.relname
"""


def _namespace_oid(cursor: Any, schema: str) -> int:
    cursor.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [schema])
    row = cursor.fetchone()
    if row is None:
        raise LookupError(f"schema {schema} does not exist")
    return int(row[0])


@dataclass(frozen=True)
class Snapshot:
    """The DDL of a schema (unqualified names) and the SQL that copies its rows."""

    source: str
    ddl: list[str]
    data: list[str]

    def serialize(self) -> str:
        return SEPARATOR.join(["-- ddl", *self.ddl, "-- data", *self.data])

    @classmethod
    def deserialize(cls, source: str, text: str) -> Snapshot:
        parts = text.split(SEPARATOR)
        split = parts.index("-- data")
        return cls(source=source, ddl=parts[1:split], data=parts[split + 1 :])


def _build(cursor: Any, source: str) -> Snapshot | None:
    ns = _namespace_oid(cursor, source)
    cursor.execute(_UNSUPPORTED_SQL, {"ns": ns})
    if cursor.fetchall():
        return None
    cursor.execute(_SEQUENCES_SQL, {"ns": ns})
    sequences = cursor.fetchall()
    cursor.execute(_COLUMNS_SQL, {"ns": ns})
    columns = cursor.fetchall()
    cursor.execute(_CONSTRAINTS_SQL, {"ns": ns})
    constraints = cursor.fetchall()
    cursor.execute(_INDEXES_SQL, {"ns": ns})
    indexes = cursor.fetchall()

    def seq_options(row: Any, *, with_type: bool = True) -> str:
        _name, typ, start, inc, smin, smax, cache, cycle = row[:8]
        return (
            (f"AS {typ} " if with_type else "")
            + f"START WITH {start} INCREMENT BY {inc} MINVALUE {smin} MAXVALUE {smax} "
            f"CACHE {cache} {'CYCLE' if cycle else 'NO CYCLE'}"
        )

    identity_seqs = {row[9]: row for row in sequences if row[8] == "i"}
    ddl: list[str] = []
    owned: list[str] = []
    for row in sequences:
        if row[8] == "i":
            continue  # created by its identity column
        ddl.append(f"CREATE SEQUENCE {_ident(row[0])} {seq_options(row)}")
        if row[8] == "a" and row[9]:
            table, column = row[9].split(".", 1)
            owned.append(
                f"ALTER SEQUENCE {_ident(row[0])} OWNED BY {_ident(table)}.{_ident(column)}"
            )

    tables: dict[str, list[Any]] = {}
    for row in columns:
        tables.setdefault(row[0], []).append(row)
    comments: list[str] = []
    data: list[str] = []
    template = quote_schema_name(source)
    for table, cols in tables.items():
        parts = []
        insertable = []
        for row in cols:
            name, typ, notnull, identity, generated, default, coll, cdesc = row[3:11]
            part = f"{_ident(name)} {typ}"
            if coll:
                part += f" COLLATE {coll}"
            if generated == "s":
                part += f" GENERATED ALWAYS AS ({default}) STORED"
            elif default is not None:
                part += f" DEFAULT {default}"
            if identity:
                seq = identity_seqs.get(f"{table}.{name}")
                kind = "ALWAYS" if identity == "a" else "BY DEFAULT"
                options = (
                    f" (SEQUENCE NAME {_ident(seq[0])} {seq_options(seq, with_type=False)})"
                    if seq
                    else ""
                )
                part += f" GENERATED {kind} AS IDENTITY{options}"
            if notnull:
                part += " NOT NULL"
            parts.append(part)
            if generated != "s":
                insertable.append(_ident(name))
            if cdesc is not None:
                comments.append(
                    f"COMMENT ON COLUMN {_ident(table)}.{_ident(name)} IS {_literal(cdesc)}"
                )
        unlogged = "UNLOGGED " if cols[0][1] == "u" else ""
        ddl.append(f"CREATE {unlogged}TABLE {_ident(table)} ({', '.join(parts)})")
        if cols[0][11] is not None:
            comments.append(f"COMMENT ON TABLE {_ident(table)} IS {_literal(cols[0][11])}")
        column_list = ", ".join(insertable)
        if not insertable:
            continue
        data.append(
            f"INSERT INTO {_ident(table)} ({column_list}) OVERRIDING SYSTEM VALUE "  # noqa: S608
            f"SELECT {column_list} FROM {template}.{_ident(table)}"
        )
    if sequences:
        data.append(
            "SELECT "  # noqa: S608
            + ", ".join(
                f"setval({_literal(_ident(row[0]))}, s{i}.last_value, s{i}.is_called)"
                for i, row in enumerate(sequences)
            )
            + " FROM "
            + ", ".join(f"{template}.{_ident(row[0])} s{i}" for i, row in enumerate(sequences))
        )
    keys = [
        f"ALTER TABLE {_ident(t)} ADD CONSTRAINT {_ident(n)} {d}"
        for t, n, kind, d in constraints
        if kind != "f"
    ]
    foreign = [
        f"ALTER TABLE {_ident(t)} ADD CONSTRAINT {_ident(n)} {d}"
        for t, n, kind, d in constraints
        if kind == "f"
    ]
    ddl_after = keys + [_unqualify_index(row[2], source) for row in indexes] + foreign + owned
    ddl_after += comments
    # Rows are copied between the tables and their keys/indexes (faster, and order-free).
    return Snapshot(source=source, ddl=ddl, data=data + ddl_after)


def _unqualify_index(definition: str, schema: str) -> str:
    """pg_get_indexdef always qualifies the table (whatever search_path says): drop it."""
    prefix = re.compile(
        r"^(CREATE (?:UNIQUE )?INDEX \S+ ON (?:ONLY )?)"
        + re.escape(_quote_if_needed(schema))
        + r"\."
    )
    result, count = prefix.subn(r"\1", definition, count=1)
    if count != 1:
        raise ValueError(f"unexpected index definition: {definition}")
    return result


def _quote_if_needed(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else _ident(name)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def capture(source: str) -> Snapshot | None:
    """Read ``source``'s structure into a replayable snapshot, verified; None if not possible."""
    with transaction.atomic(), connection.cursor() as cursor, search_path(cursor, source):
        snapshot = _build(cursor, source)
    if snapshot is None:
        return None
    try:
        with transaction.atomic():  # a savepoint: the scratch schema never survives
            replay(snapshot, SCRATCH_SCHEMA)
            same = signature(SCRATCH_SCHEMA) == signature(source)
            raise _Discard(same)
    except _Discard as outcome:
        return snapshot if outcome.same else None


class _Discard(Exception):  # control flow: rolls the scratch schema back
    def __init__(self, same: bool) -> None:
        self.same = same


def replay(snapshot: Snapshot, target: str) -> None:
    """Create schema ``target`` as a copy of the snapshot's source, in the current transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {quote_schema_name(target)}")
        with search_path(cursor, target):
            # One round trip per batch: psycopg sends parameterless multi-statement SQL as is.
            cursor.execute(";\n".join(snapshot.ddl))
            cursor.execute(";\n".join(snapshot.data))


def signature(schema: str) -> dict[str, set[tuple[Any, ...]]]:
    """Everything that defines a schema's structure, with the schema's own name left out.

    Two schemas with equal signatures have the same tables, columns (types,
    defaults, nullability, identity), constraints, indexes and sequences.
    """
    with transaction.atomic(), connection.cursor() as cursor, search_path(cursor, schema):
        ns = _namespace_oid(cursor, schema)
        result: dict[str, set[tuple[Any, ...]]] = {}
        cursor.execute(_COLUMNS_SQL, {"ns": ns})
        rows = cursor.fetchall()
        # attnum left out: a migrated schema keeps gaps where columns were dropped.
        result["columns"] = {tuple(row[:2]) + tuple(row[3:]) for row in rows}
        result["tables"] = {(row[0],) for row in rows}
        cursor.execute(_CONSTRAINTS_SQL, {"ns": ns})
        result["constraints"] = {tuple(row) for row in cursor.fetchall()}
        cursor.execute(_INDEXES_SQL, {"ns": ns})
        result["indexes"] = {(t, i, _unqualify_index(d, schema)) for t, i, d in cursor.fetchall()}
        cursor.execute(_SEQUENCES_SQL, {"ns": ns})
        result["sequences"] = {tuple(row) for row in cursor.fetchall()}
        cursor.execute(_UNSUPPORTED_SQL, {"ns": ns})
        result["other"] = {tuple(row) for row in cursor.fetchall()}
    return result
