"""The two database roles, and the only two schema operations the application role may ask for.

The **owner** role owns the database, every schema and every table: migrations,
``migrate_agencies`` and the template's rebuild run as it. The **application**
role (the web, the workers) owns nothing. It may read and write rows (SELECT,
INSERT, UPDATE, DELETE; sequences), never TRUNCATE, and as it owns no table it
cannot ALTER, DROP, disable a trigger or grant anything: the append-only
triggers on the trails hold against it whatever SQL it sends.

Two things the application must still do to schemas, and does through
``SECURITY DEFINER`` functions owned by the owner (they run in the caller's
transaction, so provisioning stays all-or-nothing):

- ``public.motcua_agency_schema_clone(target)``: a new agency schema, copied
  from the template. Its body is the template's verified snapshot, compiled in
  by ``clone_function_install`` when the owner rebuilds the template: the DDL
  it runs is code the owner wrote, never text the application could change.
  A template the snapshot cannot reproduce compiles to django-tenants'
  ``clone_schema`` instead.
- ``public.motcua_agency_schema_drop(target, at)``: drops the schema of an
  agency that is still provisioning (a half-made schema) or suspended
  (offboarding), never of a live one, and records the drop itself in the
  (append-only) agency history, so not even a compromised application drops a
  schema without a trace.

Why not a second connection as the owner for provisioning? Its work would sit in
another transaction than the agency row, the schema state and the history it
goes with (and a test's rolled-back transaction could not see it); and the
workers would hold the owner's password.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import DatabaseError, transaction

from tenants.db import connection
from tenants.validators import RESERVED_SCHEMAS

logger = logging.getLogger(__name__)

CLONE_FUNCTION_NAME = "public.motcua_agency_schema_clone"
CLONE_FUNCTION = f"{CLONE_FUNCTION_NAME}(text)"
DROP_FUNCTION_NAME = "public.motcua_agency_schema_drop"
DROP_FUNCTION = f"{DROP_FUNCTION_NAME}(text, timestamp with time zone)"
_BODY_TAG = "$motcua_clone$"

TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES = "USAGE, SELECT, UPDATE"


class SchemaOwnerRequired(RuntimeError):
    """This needs the owner role (migrations, the template): the application role cannot."""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def app_role() -> str:
    """The application role's name ("" when the app and the owner are one role)."""
    role = str(getattr(settings, "DATABASE_APP_ROLE", "") or "")
    owner = str(getattr(settings, "DATABASE_OWNER", {}).get("USER") or "")
    return "" if not role or role == owner else role


def current_role_can_create_schemas() -> bool:
    """True for the owner role (and a superuser); False for the application role."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_database_privilege(current_database(), 'CREATE')")
        return bool(cursor.fetchone()[0])


def require_owner(what: str) -> None:
    if not current_role_can_create_schemas():
        raise SchemaOwnerRequired(
            f"{what} needs the database owner role: run `python manage.py migrate_agencies` "
            "(it connects with DATABASE_OWNER_URL)"
        )


# Names the functions refuse, checked again in SQL (the Python validators run first).
def _name_check_sql(variable: str) -> str:
    reserved = ", ".join(_literal(name) for name in sorted(RESERVED_SCHEMAS))
    return f"""
    IF {variable} IS NULL OR {variable} !~ '^[a-z][a-z0-9_]*$' OR length({variable}) > 63
       OR {variable} LIKE 'pg\\_%' OR {variable} IN ({reserved}) THEN
        RAISE EXCEPTION 'not an agency schema name: %', {variable}
            USING ERRCODE = 'invalid_schema_name';
    END IF;"""


def drop_function_sql() -> str:
    return f"""
CREATE OR REPLACE FUNCTION {DROP_FUNCTION_NAME}(target text, at timestamptz)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $motcua_drop$
DECLARE
    agency_id bigint;
    agency_status text;
BEGIN
    {_name_check_sql("target")}
    SELECT a.id, a.status INTO agency_id, agency_status
      FROM public.tenants_agency a WHERE a.schema_name = target FOR UPDATE;
    IF agency_id IS NULL THEN
        RAISE EXCEPTION 'schema % belongs to no agency', target
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF agency_status NOT IN ('provisioning', 'suspended') THEN
        RAISE EXCEPTION 'the schema of a % agency is never dropped', agency_status
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO public.tenants_agencyevent (agency_id, event, detail, actor_email, created_at)
    VALUES (agency_id, 'schema_dropped',
            jsonb_build_object('schema', target, 'status', agency_status,
                               'database_user', session_user::text),
            '', at);
    EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', target);
END
$motcua_drop$;
COMMENT ON FUNCTION {DROP_FUNCTION} IS
    'MotCua: drop a provisioning or suspended agency schema, recorded in its history';
"""  # noqa: S608 - our own constants


def clone_function_sql(*, template: str, snapshot_sql: str) -> str:
    """The clone function with the template's snapshot compiled in (or the fallback)."""
    from tenants import snapshot

    if snapshot_sql:
        snap = snapshot.Snapshot.deserialize(template, snapshot_sql)
        ddl, data = ";\n".join(snap.ddl), ";\n".join(snap.data)
        if _BODY_TAG in ddl or _BODY_TAG in data:  # pragma: no cover - our own DDL
            raise ValueError("the snapshot holds the function's quoting tag")
        copy = f"""
    EXECUTE format('CREATE SCHEMA %I', target);
    PERFORM set_config('search_path', format('%I, pg_temp', target), true);
    EXECUTE {_literal(ddl)};
    EXECUTE {_literal(data)};"""
    else:
        # django-tenants' clone_schema (installed with the template) creates the schema itself,
        # calls helpers in public, and answers a failure with a return code.
        copy = f"""
    PERFORM set_config('search_path', 'public, pg_catalog, pg_temp', true);
    IF public.clone_schema({_literal(template)}, target, 'DATA'::public.cloneparms) <> 0 THEN
        RAISE EXCEPTION 'clone_schema(%, %) failed', {_literal(template)}, target;
    END IF;"""
    return f"""
CREATE OR REPLACE FUNCTION {CLONE_FUNCTION_NAME}(target text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS {_BODY_TAG}
BEGIN
    {_name_check_sql("target")}{copy}
END
{_BODY_TAG};
COMMENT ON FUNCTION {CLONE_FUNCTION} IS {_literal(clone_function_comment(snapshot_sql))};
"""


def clone_function_comment(snapshot_sql: str) -> str:
    digest = hashlib.sha256(snapshot_sql.encode()).hexdigest()
    return f"MotCua: clone the agency template; snapshot sha256 {digest}"


def clone_function_current(snapshot_sql: str) -> bool:
    """Whether the installed clone function replays exactly this snapshot."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description(to_regprocedure(%s), 'pg_proc')", [CLONE_FUNCTION])
        row = cursor.fetchone()
    return bool(row) and row[0] == clone_function_comment(snapshot_sql)


def clone_function_install(*, template: str, snapshot_sql: str) -> None:
    """(Re)compile the clone function for the template's current snapshot. Owner only."""
    with connection.cursor() as cursor:
        cursor.execute(clone_function_sql(template=template, snapshot_sql=snapshot_sql))
    _function_grants(CLONE_FUNCTION)


def clone_function_installed() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [CLONE_FUNCTION])
        return bool(cursor.fetchone()[0])


def drop_function_install() -> None:
    with connection.cursor() as cursor:
        cursor.execute(drop_function_sql())
    _function_grants(DROP_FUNCTION)


def _function_grants(function: str) -> None:
    """Only the application role (and the owner) may call a SECURITY DEFINER function."""
    with connection.cursor() as cursor:
        cursor.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
        if role := app_role():
            cursor.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {_ident(role)}")


def grants_apply(*, schemas: Iterable[str] = ()) -> str:
    """Give the application role what it may do, now and for everything the owner creates.

    Run by the owner (a migration, ``manage.py database_grants``). Default
    privileges cover every schema, table and sequence the owner creates from
    now on (migrations, the clone function); ``schemas`` are existing ones to
    grant on as well. Idempotent. Returns the role granted to ("" if none).
    """
    role = app_role()
    if not role:
        return ""
    grantee = _ident(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            raise SchemaOwnerRequired(
                f"the application role {role!r} (DATABASE_URL) does not exist: create it first "
                "(infra/README.md)"
            )
        cursor.execute(
            f"ALTER DEFAULT PRIVILEGES GRANT {TABLE_PRIVILEGES} ON TABLES TO {grantee}; "
            f"ALTER DEFAULT PRIVILEGES GRANT {SEQUENCE_PRIVILEGES} ON SEQUENCES TO {grantee}; "
            f"ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO {grantee}"
        )
        try:
            with transaction.atomic():
                # PostgreSQL < 15 lets everyone create tables in public; 15+ already does not.
                cursor.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        except DatabaseError:
            logger.warning(
                "could not revoke CREATE on schema public from PUBLIC (not its owner): do it "
                "as a superuser (infra/README.md)"
            )
        for schema in ["public", *schemas]:
            name = _ident(schema)
            cursor.execute(
                f"GRANT USAGE ON SCHEMA {name} TO {grantee}; "
                f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA {name} TO {grantee}; "
                f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {name} "
                f"FROM {grantee}; "
                f"GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA {name} TO {grantee}"
            )
    for function in (CLONE_FUNCTION, DROP_FUNCTION):
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [function])
            exists = bool(cursor.fetchone()[0])
        if exists:
            _function_grants(function)
    return role
