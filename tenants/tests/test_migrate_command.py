"""migrate_agencies: skips up-to-date schemas without a migration run, migrates the others."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tenants import schemas, services
from tenants.db import connection
from tenants.models import SchemaState

# migrate_agencies runs as the owner role (manage.py connects it with DATABASE_OWNER_URL).
pytestmark = pytest.mark.usefixtures("as_owner")


def run(*args: str) -> str:
    out = StringIO()
    call_command("migrate_agencies", *args, "--skip-public", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_nothing_to_apply_means_no_migration_run(make_agency, monkeypatch) -> None:
    for i in range(3):
        make_agency(f"xa-so-{i}")
    calls: list[str] = []
    monkeypatch.setattr(schemas, "migrate_schema", lambda name, **kw: calls.append(name))
    output = run()
    assert calls == []
    assert "3 agency schemas: 0 migrated, 3 already up to date (skipped)" in output


@pytest.mark.django_db
def test_only_schemas_whose_state_differs_are_migrated(make_agency) -> None:
    for i in range(3):
        make_agency(f"xa-so-{i}")
    SchemaState.objects.filter(schema_name="xa_so_1").update(fingerprint="outdated")
    output = run()
    assert "1/1 xa_so_1: done" in output
    assert "3 agency schemas: 1 migrated, 2 already up to date" in output
    assert (
        SchemaState.objects.get(schema_name="xa_so_1").fingerprint
        == schemas.migration_fingerprint()
    )


@pytest.mark.django_db
def test_verify_finds_drift_made_behind_the_commands_back(make_agency) -> None:
    make_agency("xa-on-dinh")
    make_agency("xa-bi-lech")
    with connection.cursor() as cursor:  # someone dropped a table and its migration record
        cursor.execute("DROP TABLE xa_bi_lech.audit_auditentry")
        cursor.execute("DELETE FROM xa_bi_lech.django_migrations WHERE app = 'audit'")
    assert "0 migrated" in run()  # the recorded state alone cannot see it
    output = run("--verify")
    assert "xa_bi_lech: done" in output and "1 migrated, 1 already up to date" in output
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('xa_bi_lech.audit_auditentry') IS NOT NULL")
        assert cursor.fetchone() == (True,)


@pytest.mark.django_db
def test_a_broken_schema_is_reported_and_the_others_still_migrate(make_agency) -> None:
    make_agency("xa-hong")
    make_agency("xa-tot")
    SchemaState.objects.update(fingerprint="outdated")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE xa_hong.django_migrations")  # migrate will choke on it
        cursor.execute("CREATE TABLE xa_hong.django_migrations (garbage int)")
    with pytest.raises(Exception, match="1 schema"):
        run()
    assert (
        SchemaState.objects.get(schema_name="xa_tot").fingerprint == schemas.migration_fingerprint()
    )
    assert SchemaState.objects.get(schema_name="xa_hong").fingerprint == "outdated"


@pytest.mark.django_db
def test_template_is_rebuilt_when_missing() -> None:
    schemas.drop_schema(schemas.TEMPLATE_SCHEMA)
    SchemaState.objects.filter(schema_name=schemas.TEMPLATE_SCHEMA).delete()
    services.template_ensure()
    assert schemas.schema_exists(schemas.TEMPLATE_SCHEMA)
    assert (
        schemas.applied_migrations(schemas.TEMPLATE_SCHEMA) == schemas.tenant_migrations_on_disk()
    )


@pytest.mark.django_db
def test_a_missing_schema_is_reported_not_trusted(make_agency) -> None:
    from django.core.management.base import CommandError

    from tenants.models import AgencyEvent

    make_agency("xa-con")
    gone = make_agency("xa-mat")
    with connection.cursor() as cursor:  # dropped behind the command's back; state says fine
        cursor.execute("DROP SCHEMA xa_mat CASCADE")
    err = StringIO()
    with pytest.raises(CommandError, match="1 agency schema"):
        call_command("migrate_agencies", "--skip-public", stdout=StringIO(), stderr=err)
    assert "xa_mat: the agency is live but its schema does not exist" in err.getvalue()
    with pytest.raises(CommandError, match="1 agency schema"):
        call_command("migrate_agencies", "--skip-public", "--verify", stdout=StringIO(), stderr=err)
    assert not schemas.schema_exists("xa_mat")

    output = run("--verify", "--repair-missing")
    assert "xa_mat: schema was missing; recreated empty from the template" in output
    assert schemas.applied_migrations("xa_mat") == schemas.tenant_migrations_on_disk()
    assert AgencyEvent.objects.filter(agency=gone, event="schema_recreated").exists()
    assert "2 agency schemas: 0 migrated, 2 already up to date" in run("--verify")
