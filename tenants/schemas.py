"""Low-level operations on PostgreSQL schemas: create by clone or by migration, drop, inspect.

These functions do DDL and nothing else; ``tenants.services`` decides when to
call them and keeps ``SchemaState`` and the agency rows consistent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django_tenants.clone import CloneSchema
from django_tenants.utils import get_public_schema_name, quote_schema_name
from django_tenants.utils import schema_exists as _schema_exists

from tenants import privileges, snapshot
from tenants.db import connection
from tenants.validators import RESERVED_SCHEMAS, validate_schema_name

TEMPLATE_SCHEMA: str = settings.TENANT_BASE_SCHEMA


def tenant_app_labels() -> set[str]:
    """App labels whose tables live in each agency schema."""
    labels = set()
    for entry in settings.TENANT_APPS:
        for config in apps.get_app_configs():
            if config.name == entry:
                labels.add(config.label)
    return labels


@lru_cache(maxsize=1)
def tenant_migrations_on_disk() -> frozenset[tuple[str, str]]:
    """Every migration of the tenant apps found in the code."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    labels = tenant_app_labels()
    return frozenset(key for key in loader.disk_migrations if key[0] in labels)


def migration_fingerprint(migrations: Iterable[tuple[str, str]] | None = None) -> str:
    """A stable hash of a set of (app, migration) names: the code's, by default."""
    keys = sorted(tenant_migrations_on_disk() if migrations is None else migrations)
    return hashlib.sha256("\n".join(f"{a}.{n}" for a, n in keys).encode()).hexdigest()


def schema_exists(schema_name: str) -> bool:
    return bool(_schema_exists(schema_name))


def list_schemas(prefix: str = "") -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY nspname",
            [prefix.replace("_", r"\_") + "%"],
        )
        return [row[0] for row in cursor.fetchall()]


def _guard(schema_name: str) -> None:
    """Refuse to do DDL on a name that is not an agency schema (or the template)."""
    if schema_name == TEMPLATE_SCHEMA:
        return
    validate_schema_name(schema_name)
    if schema_name in RESERVED_SCHEMAS:  # pragma: no cover - validate_schema_name refuses these
        raise ValueError(schema_name)


def drop_schema(schema_name: str) -> None:
    """DROP SCHEMA: the owner role's (tests, benchmarks, the template). Agencies: see below."""
    _guard(schema_name)
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {quote_schema_name(schema_name)} CASCADE")


def drop_agency_schema(schema_name: str) -> None:
    """Drop a provisioning or suspended agency's schema, whichever role runs this.

    Through the owner's SECURITY DEFINER function (``tenants.privileges``): it
    refuses a live agency's schema and records the drop in the agency's history.
    """
    _guard(schema_name)
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT public.motcua_agency_schema_drop(%s, %s)", [schema_name, timezone.now()]
        )


def create_schema_by_migration(schema_name: str, *, verbosity: int = 0) -> int:
    """CREATE SCHEMA and run every tenant migration in it. Returns migrations recorded."""
    _guard(schema_name)
    connection.set_schema_to_public()
    privileges.require_owner(f"building schema {schema_name} by migrations")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {quote_schema_name(schema_name)}")
    migrate_schema(schema_name, verbosity=verbosity)
    return len(applied_migrations(schema_name))


def migrate_schema(schema_name: str, *, verbosity: int = 0) -> None:
    """Apply pending migrations to one existing schema (django-tenants' migrate, one schema)."""
    _guard(schema_name)
    privileges.require_owner(f"migrating schema {schema_name}")
    call_command(
        "migrate_schemas",
        schema_name=schema_name,
        tenant=True,
        interactive=False,
        verbosity=verbosity,
    )
    connection.set_schema_to_public()


def advisory_key(name: str) -> int:
    """A signed 64-bit key for pg_advisory_xact_lock, stable across processes."""
    return int.from_bytes(
        hashlib.sha256(f"motcua:{name}".encode()).digest()[:8], "big", signed=True
    )


def advisory_lock(name: str, *, shared: bool = False) -> None:
    """Hold a transaction-scoped advisory lock on ``name`` (serialises work across processes)."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [advisory_key(name)])


CLONE_LOCK = "clone_schema_function"


def clone_function_installed() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.proname = 'clone_schema'"
        )
        return cursor.fetchone() is not None


def install_clone_function() -> None:
    """(Re)install django-tenants' bundled pg-clone-schema function in the public schema.

    Done once when the template is built, not per clone: replacing the function
    while another transaction clones would fail ("tuple concurrently updated").
    """
    connection.set_schema_to_public()
    advisory_lock(CLONE_LOCK)
    CloneSchema()._create_clone_schema_function()


def template_snapshot_sql() -> str:
    """The template's DDL for fast cloning, verified; "" if it cannot be reproduced that way."""
    snap = snapshot.capture(TEMPLATE_SCHEMA)
    return snap.serialize() if snap else ""


def template_clone_function_ensure(snapshot_sql: str) -> None:
    """Compile the template's snapshot into the clone function, unless it already holds it.

    Owner only (the template's rebuild); exclusive against clones running meanwhile.
    """
    if privileges.clone_function_current(snapshot_sql):
        return
    privileges.require_owner("compiling the template's clone function")
    if not snapshot_sql and not clone_function_installed():
        install_clone_function()  # the fallback calls it
    advisory_lock(CLONE_LOCK)
    privileges.clone_function_install(template=TEMPLATE_SCHEMA, snapshot_sql=snapshot_sql)


def clone_template(target: str) -> None:
    """Create schema ``target`` as a copy of the template: structure and seed rows.

    One call of the owner's clone function (``tenants.privileges``), which the
    application role may make although it can create no schema itself: it
    replays the template's captured snapshot (or, for a template the snapshot
    cannot reproduce, runs django-tenants' pg-clone-schema). All-or-nothing
    inside the caller's transaction.
    """
    _guard(target)
    connection.set_schema_to_public()
    if schema_exists(target):
        raise ValueError(f"schema {target} already exists")
    if not privileges.clone_function_installed():
        raise privileges.SchemaOwnerRequired(
            "the agency template has no clone function yet: run `python manage.py "
            "migrate_agencies` (it connects with DATABASE_OWNER_URL)"
        )
    advisory_lock(CLONE_LOCK, shared=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT public.motcua_agency_schema_clone(%s)", [target])
    connection.set_schema_to_public()


def applied_migrations(schema_name: str) -> set[tuple[str, str]]:
    """The tenant-app migrations recorded in a schema's own django_migrations table."""
    labels = tenant_app_labels()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT app, name FROM {quote_schema_name(schema_name)}.django_migrations"  # noqa: S608
        )
        return {(a, n) for a, n in cursor.fetchall() if a in labels}


def applied_migrations_bulk(schema_names: list[str]) -> dict[str, set[tuple[str, str]]]:
    """Read the recorded tenant migrations of many schemas in one query per batch."""
    labels = tenant_app_labels()
    result: dict[str, set[tuple[str, str]]] = {name: set() for name in schema_names}
    existing = set(list_schemas()) & set(schema_names)
    names = sorted(existing)
    for start in range(0, len(names), 200):
        batch = names[start : start + 200]
        parts = [
            f"SELECT %s, app, name FROM {quote_schema_name(name)}.django_migrations"  # noqa: S608
            for name in batch
        ]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), batch)
            for schema, app, name in cursor.fetchall():
                if app in labels:
                    result[schema].add((app, name))
    return result


def is_public(schema_name: str) -> bool:
    return schema_name == get_public_schema_name()
