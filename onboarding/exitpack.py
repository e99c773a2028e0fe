"""Exit packs: everything an agency owns, as one documented zip; and loading one back.

Format (see ``onboarding/EXIT_PACK.md``): ``manifest.json``; ``tables/<table>.jsonl`` with one
JSON object per row of every tenant table (PostgreSQL's ``row_to_json``, ids kept);
``public/<name>.jsonl`` with the agency's own public rows; ``files/<storage name>`` with every
stored file. The manifest holds the sha256 of every other entry.

Export streams rows by keyset pages and files by chunks, so memory stays bounded whatever the
agency's size. Import validates the whole pack before writing anything, then creates the new
agency, loads every table and restores the files in one transaction: a failure leaves nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, models, transaction
from django.db import connection as django_connection
from django.utils import timezone
from django.utils.translation import gettext as _

from tenants import schemas, storage
from tenants.context import agency_context
from tenants.db import connection
from tenants.models import Agency

FORMAT = "motcua-exit-pack"
FORMAT_VERSION = 1
PAGE = 1000
CHUNK = 1 << 16
MANIFEST = "manifest.json"

Progress = Callable[[int, str], None]  # (percent, step)


@dataclass(frozen=True)
class TableSpec:
    model: type[models.Model]
    table: str
    pk: str
    user_columns: tuple[str, ...]  # columns holding ids of public users (remapped on import)


@dataclass(frozen=True)
class PackInfo:
    path: Path
    sha256: str
    size: int
    manifest: dict[str, Any]


def _q(name: str) -> str:
    return str(django_connection.ops.quote_name(name))


def _qualified(schema: str, table: str) -> str:
    return f"{_q(schema)}.{_q(table)}"


def tenant_tables() -> list[TableSpec]:
    """Every table of the tenant apps, parents before children (nullable links may cycle)."""
    from accounts.models import User

    labels = schemas.tenant_app_labels()
    found = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label in labels and m._meta.managed and not m._meta.proxy
    ]
    by_table = {m._meta.db_table: m for m in found}
    specs: dict[str, TableSpec] = {}
    deps: dict[str, set[str]] = {}
    for model in found:
        table = model._meta.db_table
        users = []
        deps[table] = set()
        for field in model._meta.concrete_fields:
            if not field.is_relation or field.related_model is None:
                continue
            target = field.related_model._meta.db_table  # type: ignore[union-attr]
            if field.related_model is User:
                users.append(field.column)
            elif target in by_table and target != table and not field.null:
                deps[table].add(target)
        specs[table] = TableSpec(model, table, model._meta.pk.column, tuple(users))
    ordered: list[str] = []
    done: set[str] = set()

    def visit(table: str, path: tuple[str, ...] = ()) -> None:
        if table in done or table in path:
            return
        for dep in sorted(deps[table]):
            visit(dep, (*path, table))
        done.add(table)
        ordered.append(table)

    for table in sorted(specs):
        visit(table)
    return [specs[t] for t in ordered]


def _public_sets(agency: Agency) -> list[tuple[str, str, str, str, list[Any]]]:
    """(name, SQL table, pk column, condition, params): the agency's own public rows.

    Every public model with a link to the agency (other than as a parent agency) is included,
    so a public table added later (exchanges, notifications, ...) is in the pack without edits.
    """
    from accounts.models import Membership
    from billing.models import InvoiceLine, Subscription, UsageDaily, UsageEvent
    from onboarding.models import Application
    from tenants.models import AgencyEvent, Domain

    names: dict[type[models.Model], str] = {
        Domain: "domains",
        AgencyEvent: "agency_events",
        Membership: "memberships",
        Application: "applications",
        Subscription: "subscriptions",
        UsageEvent: "usage_events",
        UsageDaily: "usage_daily",
        InvoiceLine: "invoice_lines",
    }
    tenant_labels = schemas.tenant_app_labels()
    sets: list[tuple[str, str, str, str, list[Any]]] = [
        ("agency", Agency._meta.db_table, "id", "t.id = %s", [agency.pk])
    ]
    for model in sorted(apps.get_models(), key=lambda m: m._meta.db_table):
        if model is Agency or model._meta.app_label in tenant_labels or not model._meta.managed:
            continue
        columns = [
            f.column
            for f in model._meta.concrete_fields
            if f.is_relation and f.related_model is Agency and f.name != "parent"
        ]
        if columns:
            condition = " OR ".join(f"t.{_q(c)} = %s" for c in columns)
            pk = str(model._meta.pk.column)
            name = names.get(model, model._meta.db_table)
            sets.append((name, model._meta.db_table, pk, condition, [agency.pk] * len(columns)))
    return sets


class _HashingWriter:
    """Writes to a zip entry and hashes what was written."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.hash = hashlib.sha256()
        self.lines = 0

    def write(self, data: bytes) -> None:
        self.hash.update(data)
        self.stream.write(data)

    def line(self, text: str) -> None:
        self.write(text.encode() + b"\n")
        self.lines += 1


def _stream_rows(
    cursor: Any, source: str, pk: str, where: str = "", params: Any = ()
) -> Iterator[str]:
    """Rows of ``source`` as JSON text, by keyset pages on the primary key (bounded memory)."""
    last: Any = None
    cond = f" AND ({where})" if where else ""
    key = _q(pk)
    while True:
        if last is None:
            sql = f"SELECT t.{key}, row_to_json(t)::text FROM {source} t WHERE TRUE{cond}"  # noqa: S608
            args: list[Any] = list(params)
        else:
            sql = f"SELECT t.{key}, row_to_json(t)::text FROM {source} t WHERE t.{key} > %s{cond}"  # noqa: S608
            args = [last, *params]
        cursor.execute(f"{sql} ORDER BY t.{key} LIMIT {PAGE}", args)
        page = cursor.fetchall()
        for row in page:
            yield row[1]
        if len(page) < PAGE:
            return
        last = page[-1][0]


def _columns(cursor: Any, source: str) -> list[str]:
    cursor.execute(f"SELECT * FROM {source} LIMIT 0")  # noqa: S608 - our table
    return [col[0] for col in cursor.description]


def agency_media_root(agency: Agency) -> Path:
    """Where the agency's files live when they are kept on local disk (the default storage)."""
    return Path(settings.MEDIA_ROOT) / (
        settings.MULTITENANT_RELATIVE_MEDIA_ROOT % agency.schema_name
    )


def exit_pack_export(
    *, agency: Agency, path: Path | str, progress: Progress | None = None
) -> PackInfo:
    """Write the agency's exit pack to ``path`` (atomically: a temporary file, then renamed)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    agency.refresh_from_db()
    specs = tenant_tables()
    applied = sorted(f"{a}.{n}" for a, n in schemas.applied_migrations(agency.schema_name))
    checksums: dict[str, str] = {}
    tables: list[dict[str, Any]] = []
    public: list[dict[str, Any]] = []
    user_ids: set[int] = set()
    file_count = 0
    file_bytes = 0
    fd, temp_name = tempfile.mkstemp(prefix=".exitpack-", suffix=".zip", dir=target.parent)
    os.close(fd)
    step_total = len(specs) + 3

    def report(done: int, step: str) -> None:
        if progress is not None:
            progress(min(99, int(100 * done / step_total)), step)

    try:
        with zipfile.ZipFile(
            temp_name, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True
        ) as zf:
            outermost = not django_connection.in_atomic_block
            with agency_context(agency), transaction.atomic(), connection.cursor() as cursor:
                if outermost:
                    # One snapshot of every table: a consistent pack while citizens track.
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                for index, spec in enumerate(specs):
                    report(index, spec.table)
                    source = _qualified(agency.schema_name, spec.table)
                    name = f"tables/{spec.table}.jsonl"
                    with zf.open(name, "w", force_zip64=True) as stream:
                        writer = _HashingWriter(stream)
                        for text in _stream_rows(cursor, source, spec.pk):
                            writer.line(text)
                    checksums[name] = writer.hash.hexdigest()
                    for column in spec.user_columns:
                        col = _q(column)
                        cursor.execute(
                            f"SELECT DISTINCT {col} FROM {source} WHERE {col} IS NOT NULL"  # noqa: S608
                        )
                        user_ids.update(row[0] for row in cursor.fetchall())
                    tables.append(
                        {
                            "table": spec.table,
                            "model": spec.model._meta.label,
                            "file": name,
                            "pk": spec.pk,
                            "columns": _columns(cursor, source),
                            "user_columns": list(spec.user_columns),
                            "rows": writer.lines,
                        }
                    )
                report(len(specs), "public")
                for set_name, table, pk, condition, params in _public_sets(agency):
                    source = _qualified("public", table)
                    name = f"public/{set_name}.jsonl"
                    with zf.open(name, "w", force_zip64=True) as stream:
                        writer = _HashingWriter(stream)
                        for text in _stream_rows(cursor, source, pk, condition, params):
                            writer.line(text)
                            if set_name == "memberships":
                                user_ids.add(json.loads(text)["user_id"])
                    checksums[name] = writer.hash.hexdigest()
                    public.append(
                        {"name": set_name, "table": table, "file": name, "rows": writer.lines}
                    )
                # People the agency's rows refer to: who they are, never their credentials.
                name = "public/users.jsonl"
                with zf.open(name, "w", force_zip64=True) as stream:
                    writer = _HashingWriter(stream)
                    cursor.execute(
                        "SELECT json_build_object('id', id, 'email', email, 'full_name', full_name)"
                        "::text FROM public.accounts_user WHERE id = ANY(%s) ORDER BY id",
                        [sorted(user_ids)],
                    )
                    for (text,) in cursor.fetchall():
                        writer.line(text)
                checksums[name] = writer.hash.hexdigest()
                public.append(
                    {"name": "users", "table": "accounts_user", "file": name, "rows": writer.lines}
                )
            report(len(specs) + 1, "files")
            with agency_context(agency):  # its own prefix, on disk or in the bucket
                for storage_name in storage.agency_files():
                    name = f"files/{storage_name}"
                    with (
                        default_storage.open(storage_name, "rb") as src,
                        zf.open(name, "w", force_zip64=True) as stream,
                    ):
                        writer = _HashingWriter(stream)
                        while chunk := src.read(CHUNK):
                            writer.write(chunk)
                            file_bytes += len(chunk)
                    checksums[name] = writer.hash.hexdigest()
                    file_count += 1
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": timezone.now().isoformat(),
                "platform": settings.PLATFORM_NAME,
                "agency": {
                    "id": agency.pk,
                    "slug": agency.slug,
                    "name": agency.name,
                    "kind": agency.kind,
                    "province_code": agency.province_code,
                    "admin_unit_code": agency.admin_unit_code,
                    "code": agency.code,
                    "dossier_code_pattern": agency.dossier_code_pattern,
                    "schema_name": agency.schema_name,
                    "status": agency.status,
                },
                "schema": {
                    "fingerprint": schemas.migration_fingerprint(
                        schemas.applied_migrations(agency.schema_name)
                    ),
                    "migrations": applied,
                },
                "tables": tables,
                "public": public,
                "files": {"count": file_count, "bytes": file_bytes},
                "checksums": checksums,
            }
            zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
        Path(temp_name).replace(target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    if progress is not None:
        progress(100, "done")
    return PackInfo(target, _file_sha256(target), target.stat().st_size, manifest)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- Reading and checking a pack -------------------------------------------------------------


def _bad(message: str, code: str = "invalid_pack") -> ValidationError:
    return ValidationError(message, code=code)


def _safe_member(name: str) -> bool:
    parts = name.split("/")
    return not name.startswith("/") and "\\" not in name and ".." not in parts and "" not in parts


def exit_pack_verify(*, path: Path | str) -> dict[str, Any]:
    """Read the pack again end to end; return its manifest or raise a clear ValidationError."""
    path = Path(path)
    if not path.is_file():
        raise _bad(_("The exit pack %(path)s does not exist.") % {"path": path}, "missing")
    try:
        with zipfile.ZipFile(path) as zf:
            try:
                manifest = json.loads(zf.read(MANIFEST))
            except KeyError:
                raise _bad(_("The exit pack has no manifest.json.")) from None
            except ValueError:
                raise _bad(_("The manifest of the exit pack is not valid JSON.")) from None
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise _bad(_("This file is not a MotCua exit pack."))
            version = manifest.get("format_version")
            if not isinstance(version, int) or version > FORMAT_VERSION:
                raise _bad(
                    _(
                        "The exit pack uses format version %(version)s; this platform reads "
                        "versions up to %(known)s."
                    )
                    % {"version": version, "known": FORMAT_VERSION},
                    "newer_format",
                )
            checksums = manifest.get("checksums")
            if not isinstance(checksums, dict):
                raise _bad(_("The manifest of the exit pack lists no checksums."))
            names = set(zf.namelist()) - {MANIFEST}
            unsafe = sorted(n for n in names | set(checksums) if not _safe_member(str(n)))
            if unsafe:
                raise _bad(
                    _("The exit pack holds unsafe file names: %(names)s.")
                    % {"names": ", ".join(unsafe[:5])}
                )
            extra = sorted(names - set(checksums))
            missing = sorted(set(checksums) - names)
            if extra or missing:
                raise _bad(
                    _(
                        "The exit pack does not match its manifest "
                        "(missing: %(missing)s; extra: %(extra)s)."
                    )
                    % {
                        "missing": ", ".join(missing[:5]) or "—",
                        "extra": ", ".join(extra[:5]) or "—",
                    }
                )
            lines: dict[str, int] = {}
            for name in sorted(checksums):
                digest = hashlib.sha256()
                count = 0
                with zf.open(name) as stream:
                    while chunk := stream.read(CHUNK):
                        digest.update(chunk)
                        count += chunk.count(b"\n")
                if digest.hexdigest() != checksums[name]:
                    raise _bad(
                        _(
                            "The checksum of %(name)s in the exit pack is wrong: "
                            "the pack is damaged."
                        )
                        % {"name": name},
                        "checksum",
                    )
                lines[name] = count
            for entry in [*manifest.get("tables", []), *manifest.get("public", [])]:
                if lines.get(entry["file"]) != entry["rows"]:
                    raise _bad(
                        _("%(name)s does not hold the number of rows the manifest says.")
                        % {"name": entry["file"]},
                        "checksum",
                    )
    except zipfile.BadZipFile as exc:
        raise _bad(
            _("The exit pack is not a readable zip file (%(error)s).") % {"error": exc}
        ) from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise _bad(
            _("The manifest of the exit pack is incomplete (%(error)s).") % {"error": exc}
        ) from None
    return manifest


def _check_schema(manifest: dict[str, Any]) -> None:
    """A pack from a newer schema than this code cannot be loaded."""
    disk = {f"{a}.{n}" for a, n in schemas.tenant_migrations_on_disk()}
    unknown = sorted(set(manifest["schema"]["migrations"]) - disk)
    if unknown:
        raise _bad(
            _(
                "The exit pack comes from a newer version of the platform (unknown migrations: "
                "%(names)s). Upgrade this platform before importing it."
            )
            % {"names": ", ".join(unknown[:5])},
            "newer_schema",
        )


# -- Import ----------------------------------------------------------------------------------


def _jsonl(zf: zipfile.ZipFile, name: str) -> Iterator[dict[str, Any]]:
    with zf.open(name) as stream:
        for raw in stream:
            if raw.strip():
                yield json.loads(raw)


def _users_map(zf: zipfile.ZipFile, manifest: dict[str, Any]) -> dict[int, int]:
    """Old user id → this platform's user id, matched by e-mail (created when unknown)."""
    from accounts.models import User

    entry = next(p for p in manifest["public"] if p["name"] == "users")
    mapping: dict[int, int] = {}
    for row in _jsonl(zf, entry["file"]):
        user = User.objects.filter(email__iexact=row["email"]).first()
        if user is None:
            user = User.objects.create_user(
                row["email"], None, full_name=row.get("full_name") or ""
            )
        mapping[int(row["id"])] = user.pk
    return mapping


def _load_table(
    cursor: Any, schema: str, entry: dict[str, Any], zf: zipfile.ZipFile, users: dict[int, int]
) -> None:
    source = _qualified(schema, entry["table"])
    have = set(_columns(cursor, source))
    columns = list(entry["columns"])
    unknown = [c for c in columns if c not in have]
    if unknown:
        raise _bad(
            _(
                "The table %(table)s of the exit pack has columns this platform does not "
                "know: %(columns)s."
            )
            % {"table": entry["table"], "columns": ", ".join(unknown)},
            "newer_schema",
        )
    cols = ", ".join(_q(c) for c in columns)
    sql = (
        f"INSERT INTO {source} ({cols}) SELECT {cols} "  # noqa: S608 - our table and columns
        f"FROM json_populate_recordset(NULL::{source}, %s::json)"
    )
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        if batch:
            cursor.execute(sql, [json.dumps(batch)])
            batch.clear()

    user_columns = entry.get("user_columns", [])
    for row in _jsonl(zf, entry["file"]):
        for column in user_columns:
            if row.get(column) is not None:
                row[column] = users[int(row[column])]
        batch.append(row)
        if len(batch) >= 500:
            flush()
    flush()
    pk = entry["pk"]
    cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [source, pk])
    sequence = cursor.fetchone()[0]
    if sequence:
        key = _q(pk)
        cursor.execute(
            f"SELECT setval(%s, COALESCE(MAX({key}), 1), MAX({key}) IS NOT NULL) "  # noqa: S608
            f"FROM {source}",
            [sequence],
        )


def exit_pack_import(
    *, path: Path | str, slug: str, name: str = "", actor_email: str = ""
) -> Agency:
    """Create a new agency ``slug`` from an exit pack: every table with its ids, and its files.

    Everything is checked before anything is written; the load itself is one transaction and
    the files are removed again if it fails, so a failure leaves no agency behind.
    """
    from accounts.models import Role
    from accounts.services import membership_grant
    from tenants import services as tenant_services

    path = Path(path)
    manifest = exit_pack_verify(path=path)
    _check_schema(manifest)
    source = manifest["agency"]
    connection.set_schema_to_public()
    restored: Agency | None = None
    try:
        with transaction.atomic(), zipfile.ZipFile(path) as zf:
            agency = tenant_services.agency_create(
                slug=slug,
                name=name or source["name"],
                kind=source["kind"],
                province_code=source["province_code"],
                admin_unit_code=source.get("admin_unit_code", ""),
                code=source.get("code", ""),
                actor_email=actor_email,
            )
            agency = tenant_services.agency_provision(agency=agency).agency
            if source.get("dossier_code_pattern"):
                Agency.objects.filter(pk=agency.pk).update(
                    dossier_code_pattern=source["dossier_code_pattern"]
                )
            users = _users_map(zf, manifest)
            by_table = {entry["table"]: entry for entry in manifest["tables"]}
            known = {spec.table for spec in tenant_tables()}
            strange = sorted(set(by_table) - known)
            if strange:
                raise _bad(
                    _("The exit pack holds tables this platform does not know: %(tables)s.")
                    % {"tables": ", ".join(strange[:5])},
                    "newer_schema",
                )
            with agency_context(agency), connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                ordered = [spec.table for spec in tenant_tables()]
                for table in reversed(ordered):  # seed rows of the fresh schema make way
                    target = _qualified(agency.schema_name, table)
                    cursor.execute(f"DELETE FROM {target}")  # noqa: S608 - our table
                for table in ordered:
                    if table in by_table:
                        _load_table(cursor, agency.schema_name, by_table[table], zf, users)
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            memberships = next(p for p in manifest["public"] if p["name"] == "memberships")
            from accounts.models import User

            for row in _jsonl(zf, memberships["file"]):
                roles = [r for r in row.get("roles") or [] if r in Role.values]
                if roles:
                    member = membership_grant(
                        user=User.objects.get(pk=users[int(row["user_id"])]),
                        agency=agency,
                        roles=roles,
                    )
                    if not row.get("is_active", True):
                        type(member).objects.filter(pk=member.pk).update(is_active=False)
            restored = agency
            with agency_context(agency):
                for entry_name in sorted(manifest["checksums"]):
                    if not entry_name.startswith("files/"):
                        continue
                    wanted = entry_name.removeprefix("files/")
                    # The new agency's prefix is its own: a leftover under the same name (an
                    # earlier agency of that schema name) is replaced, as the pack says.
                    default_storage.delete(wanted)
                    with zf.open(entry_name) as src:
                        stored = default_storage.save(wanted, File(src, name=wanted))
                    if stored != wanted:
                        raise RuntimeError(f"{wanted} was stored as {stored}")
            tenant_services.agency_event_record(
                agency,
                "imported",
                actor_email=actor_email,
                source_slug=source["slug"],
                source_id=source["id"],
                pack_sha256=_file_sha256(path),
            )
    except DatabaseError as exc:
        _files_remove(restored)
        connection.set_schema_to_public()
        raise _bad(
            _("The exit pack could not be loaded; nothing was changed (%(error)s).")
            % {"error": str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)},
            "load_failed",
        ) from exc
    except BaseException:
        _files_remove(restored)
        connection.set_schema_to_public()
        raise
    return agency


def _files_remove(agency: Agency | None) -> None:
    """The files a failed import had written already (the schema went with the rollback)."""
    if agency is not None:
        with agency_context(agency):
            storage.agency_files_delete()
