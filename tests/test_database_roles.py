"""Least privilege in the database: the application role owns nothing, and every trail and
ledger refuses UPDATE, DELETE and TRUNCATE from it, whatever SQL it sends.

The test process acts as the application role (tests/fixtures/database.py), so
every statement here runs with exactly the privileges the web and the workers
have; one test also signs in as that role directly, as production does.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from tenants import privileges, schemas
from tenants.db import connection
from tests.fixtures.database import owner_role

# Every trail and ledger: who did what, what was used, what was paid.
PUBLIC_TRAILS = [
    "tenants_agencyevent",  # an agency's lifecycle
    "onboarding_applicationevent",  # an application's transitions and pipeline steps
    "billing_usageevent",  # the usage ledger
    "billing_billingevent",  # the billing audit
    "billing_payment",  # money received
    "billing_creditnote",  # corrections to issued invoices
    "exchange_exchangeevent",  # the inter-agency transfer trail
    "accounts_accountevent",  # what provider staff changed on people's accounts
]
AGENCY_TRAILS = [
    "audit_auditentry",  # the agency's audit trail
    "dossiers_dossierevent",  # a dossier's history
    "desk_handover",  # the processing-control trail (Form 06)
]

pytestmark = pytest.mark.skipif(
    not privileges.app_role(),
    reason="DATABASE_URL and DATABASE_OWNER_URL are one role here: nothing to separate",
)


def one(sql: str, params: list[Any] | None = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def refused(sql: str, params: list[Any] | None = None) -> str:
    """Run ``sql`` in a savepoint; return the database's refusal (fail if it went through)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params or [])
    except DatabaseError as exc:
        return str(exc)
    raise AssertionError(f"the application role was allowed: {sql}")


def _value(type_name: str) -> Any:
    now = timezone.now()
    if type_name in ("integer", "bigint", "smallint", "numeric") or type_name.startswith("numeric"):
        return 1
    if type_name == "boolean":
        return False
    if type_name.startswith("timestamp"):
        return now
    if type_name == "date":
        return now.date()
    if type_name in ("jsonb", "json"):
        return "{}"
    if type_name == "uuid":
        return uuid.uuid4()
    if type_name == "interval":
        return dt.timedelta(0)
    return "x"


def insert_row(schema: str, table: str) -> None:
    """Append one row as the application role (allowed), NOT NULL columns filled by type.

    Django's foreign keys are checked at commit, which the test's transaction never reaches.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
            "AND a.attnotnull AND d.adbin IS NULL AND a.attidentity = ''",
            [schema, table],
        )
        columns = cursor.fetchall()
        names = ", ".join(f'"{name}"' for name, _type in columns)
        marks = ", ".join(["%s"] * len(columns))
        cursor.execute(
            f'INSERT INTO "{schema}"."{table}" ({names}) VALUES ({marks})',
            [_value(type_name) for _name, type_name in columns],
        )


def test_the_suite_acts_as_the_application_role_which_owns_nothing(db: None) -> None:
    app = settings.DATABASE_APP_ROLE
    assert one("SELECT current_user") == app
    assert (
        one(
            "SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles WHERE rolname = %s",
            [app],
        )
        is False
    )
    assert one("SELECT has_database_privilege(current_database(), 'CREATE')") is False
    assert one("SELECT count(*) FROM pg_namespace WHERE nspowner = current_user::regrole") == 0
    assert one("SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole") == 0
    assert one("SELECT count(*) FROM pg_proc WHERE proowner = current_user::regrole") == 0
    assert "permission denied" in refused("CREATE SCHEMA xa_cua_app")
    assert "permission denied" in refused("CREATE TABLE public.cua_app (id int)")


@pytest.mark.parametrize("table", PUBLIC_TRAILS + AGENCY_TRAILS)
def test_a_trail_refuses_update_delete_and_truncate_from_the_application_role(
    agency_a: Any, table: str
) -> None:
    schema = "public" if table in PUBLIC_TRAILS else agency_a.schema_name
    qualified = f'"{schema}"."{table}"'
    # The row's parents do not exist: a savepoint rolled back at the end takes it away again
    # before Django checks the deferred foreign keys.
    with transaction.atomic():
        insert_row(schema, table)  # appending is what the application does
        rows = one(f"SELECT count(*) FROM {qualified}")
        assert rows >= 1

        assert "append-only" in refused(f"UPDATE {qualified} SET id = id")
        assert "append-only" in refused(f"DELETE FROM {qualified}")
        assert "permission denied" in refused(f"TRUNCATE {qualified}")
        assert "permission denied" in refused(f"TRUNCATE {qualified} CASCADE")
        # Nor can it take the guard away: the table is not its own.
        trigger = one(
            "SELECT (SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass "
            "AND tgfoid = 'public.motcua_append_only'::regproc)",
            [qualified],
        )
        assert trigger, f"{table} has no append-only trigger"
        assert "must be owner" in refused(f"ALTER TABLE {qualified} DISABLE TRIGGER ALL")
        assert "must be owner" in refused(f'DROP TRIGGER "{trigger}" ON {qualified}')
        assert "permission denied" in refused("SET session_replication_role = replica")
        assert one(f"SELECT count(*) FROM {qualified}") == rows
        transaction.set_rollback(True)


def test_the_guards_hold_against_the_owner_too(agency_a: Any) -> None:
    from audit.services import audit_record
    from tenants.context import agency_context

    with agency_context(agency_a):
        entry = audit_record(action="thu.nghiem", target="bản ghi")
    with owner_role():
        assert one("SELECT current_user") == settings.DATABASE_OWNER["USER"]
        message = refused(
            f"UPDATE {agency_a.schema_name}.audit_auditentry SET action = 'sua' WHERE id = %s",
            [entry.pk],
        )
        assert "append-only" in message
        assert "append-only" in refused("DELETE FROM public.tenants_agencyevent")


def test_the_application_role_holds_row_privileges_only_on_every_table(agency_a: Any) -> None:
    app = settings.DATABASE_APP_ROLE
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname || '.' || c.relname, "
            "has_table_privilege(%s, c.oid, 'SELECT'), has_table_privilege(%s, c.oid, 'INSERT'), "
            "has_table_privilege(%s, c.oid, 'TRUNCATE'), "
            "has_table_privilege(%s, c.oid, 'REFERENCES'), "
            "has_table_privilege(%s, c.oid, 'TRIGGER') "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname IN ('public', %s, %s)",
            [app] * 5 + [agency_a.schema_name, schemas.TEMPLATE_SCHEMA],
        )
        tables = cursor.fetchall()
    assert len(tables) > 100
    assert [t for t, select, insert, *_ in tables if not (select and insert)] == []
    assert [t for t, _s, _i, *others in tables if any(others)] == []


def test_a_new_agency_schema_is_the_owners_with_its_guards(make_agency: Any) -> None:
    agency = make_agency("xa-moi-tao")  # provisioned by the application role
    owner = settings.DATABASE_OWNER["USER"]
    assert (
        one(
            "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = %s",
            [agency.schema_name],
        )
        == owner
    )
    assert (
        one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relowner <> %s::regrole",
            [agency.schema_name, owner],
        )
        == 0
    )
    guarded = one(
        "SELECT array_agg(c.relname::text ORDER BY c.relname) FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND t.tgfoid = 'public.motcua_append_only'::regproc",
        [agency.schema_name],
    )
    assert guarded == sorted(AGENCY_TRAILS)


def test_the_application_role_drops_no_live_agency_schema(agency_a: Any) -> None:
    message = refused(
        "SELECT public.motcua_agency_schema_drop(%s, %s)", [agency_a.schema_name, timezone.now()]
    )
    assert "never dropped" in message
    message = refused("SELECT public.motcua_agency_schema_drop('public', %s)", [timezone.now()])
    assert "not an agency schema name" in message
    assert schemas.schema_exists(agency_a.schema_name)


def test_signing_in_as_the_application_role_gives_the_same_refusals(db: None) -> None:
    """As production does: DATABASE_URL's role, no SET ROLE, and no way to become the owner."""
    database = settings.DATABASES["default"]
    with psycopg.connect(
        dbname=database["NAME"],
        user=settings.DATABASE_APP_ROLE,
        password=database.get("PASSWORD") or None,
        host=database.get("HOST") or None,
        port=database.get("PORT") or None,
    ) as conn:
        assert conn.execute("SELECT session_user, current_user").fetchone() == (
            settings.DATABASE_APP_ROLE,
            settings.DATABASE_APP_ROLE,
        )
        for table in AGENCY_TRAILS:
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(f"TRUNCATE {schemas.TEMPLATE_SCHEMA}.{table}")
        for table in PUBLIC_TRAILS:
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(f"TRUNCATE public.{table}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(f'SET ROLE "{settings.DATABASE_OWNER["USER"]}"')
