"""Provisioning: clone or migrate, idempotent, crash-safe, never half-made."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from core.failpoints import FailpointError
from tenants import privileges, schemas, services
from tenants.db import connection
from tenants.models import Agency, AgencyEvent, AgencyStatus, Domain, SchemaState
from tests.fixtures.database import owner_role

ROOT = Path(__file__).resolve().parents[2]


def tables_of(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def new_agency(slug: str = "xa-moi") -> Agency:
    return services.agency_create(slug=slug, name="Xã Mới", kind="commune", province_code="31")


@pytest.mark.django_db
def test_clone_creates_a_schema_identical_to_the_template() -> None:
    result = services.agency_provision(agency=new_agency())
    assert result.created_via == "clone"
    agency = result.agency
    assert agency.status == AgencyStatus.ACTIVE and agency.activated_at is not None
    assert schemas.schema_exists("xa_moi")
    assert tables_of("xa_moi") == tables_of(schemas.TEMPLATE_SCHEMA)
    assert "audit_auditentry" in tables_of("xa_moi")
    assert schemas.applied_migrations("xa_moi") == schemas.tenant_migrations_on_disk()
    state = SchemaState.objects.get(schema_name="xa_moi")
    assert state.fingerprint == schemas.migration_fingerprint()
    assert state.created_via == "clone"
    assert Domain.objects.get(tenant=agency).domain == f"xa-moi.{settings.PLATFORM_BASE_DOMAIN}"
    assert list(AgencyEvent.objects.filter(agency=agency).values_list("event", flat=True)) == [
        "provisioned",
        "created",
    ]


def test_falls_back_to_migrations_when_the_template_is_missing(as_owner: None) -> None:
    schemas.drop_schema(schemas.TEMPLATE_SCHEMA)  # rolled back with the test
    result = services.agency_provision(agency=new_agency())
    assert result.created_via == "migrate"
    assert schemas.applied_migrations("xa_moi") == schemas.tenant_migrations_on_disk()
    assert "audit_auditentry" in tables_of("xa_moi")


@pytest.mark.django_db
def test_the_app_role_without_a_template_is_told_to_run_the_owners_migrations() -> None:
    with owner_role():
        schemas.drop_schema(schemas.TEMPLATE_SCHEMA)  # rolled back with the test
    agency = new_agency()
    with pytest.raises(privileges.SchemaOwnerRequired, match="migrate_agencies"):
        services.agency_provision(agency=agency)
    assert not schemas.schema_exists("xa_moi")
    agency.refresh_from_db()
    assert agency.status == AgencyStatus.PROVISIONING


def test_a_stale_template_is_brought_up_to_date_before_cloning(as_owner: None) -> None:
    SchemaState.objects.filter(schema_name=schemas.TEMPLATE_SCHEMA).update(fingerprint="old")
    result = services.agency_provision(agency=new_agency())
    assert result.created_via == "clone"
    template = SchemaState.objects.get(schema_name=schemas.TEMPLATE_SCHEMA)
    assert template.fingerprint == schemas.migration_fingerprint()


@pytest.mark.django_db
def test_provisioning_twice_changes_nothing_the_second_time() -> None:
    agency = services.agency_provision(agency=new_agency()).agency
    again = services.agency_provision(agency=agency)
    assert again.created_via == "existing"
    assert Agency.objects.filter(slug="xa-moi").count() == 1
    assert SchemaState.objects.filter(schema_name="xa_moi").count() == 1
    assert AgencyEvent.objects.filter(agency=agency, event="provisioned").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("point", ["provision.after_schema", "provision.before_commit"])
def test_a_failure_mid_provisioning_leaves_nothing_and_a_retry_completes(
    point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    agency = new_agency()
    monkeypatch.setenv("MOTCUA_FAILPOINTS", point)
    with pytest.raises(FailpointError):
        services.agency_provision(agency=agency)
    assert not schemas.schema_exists("xa_moi")
    assert not SchemaState.objects.filter(schema_name="xa_moi").exists()
    agency.refresh_from_db()
    assert agency.status == AgencyStatus.PROVISIONING
    monkeypatch.delenv("MOTCUA_FAILPOINTS")
    result = services.agency_provision(agency=agency)
    assert result.agency.status == AgencyStatus.ACTIVE
    assert schemas.schema_exists("xa_moi")


@pytest.mark.django_db
def test_a_half_made_schema_from_an_earlier_attempt_is_rebuilt() -> None:
    agency = new_agency()
    with owner_role(), connection.cursor() as cursor:  # what a crashed attempt could leave
        cursor.execute("CREATE SCHEMA xa_moi")
        cursor.execute("CREATE TABLE xa_moi.half_done (id int)")
    result = services.agency_provision(agency=agency)  # as the app role
    assert result.repaired
    assert AgencyEvent.objects.filter(agency=agency, event="schema_dropped").exists()
    assert "half_done" not in tables_of("xa_moi")
    assert tables_of("xa_moi") == tables_of(schemas.TEMPLATE_SCHEMA)


@pytest.mark.django_db
def test_an_offboarded_agency_is_not_provisioned_again() -> None:
    agency = new_agency()
    services.agency_set_status(agency=agency, status=AgencyStatus.OFFBOARDED)
    with pytest.raises(ValidationError):
        services.agency_provision(agency=agency)
    assert not schemas.schema_exists("xa_moi")


@pytest.mark.django_db
def test_duplicate_custom_hostnames_are_refused(make_agency) -> None:
    a = make_agency("phuong-mot")
    b = make_agency("phuong-hai")
    services.domain_add(agency=a, hostname="MotCua.PhuongMot.gov.vn")
    with pytest.raises(ValidationError) as exc:
        services.domain_add(agency=b, hostname="motcua.phuongmot.gov.vn")
    assert exc.value.code == "duplicate"
    with pytest.raises(ValidationError) as exc:
        services.domain_add(agency=b, hostname=f"phuong-mot.{settings.PLATFORM_BASE_DOMAIN}")
    assert exc.value.code == "platform_host"
    assert Domain.objects.filter(tenant=b).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_killed_process_mid_provisioning_leaves_no_schema_and_the_rerun_finishes() -> None:
    """SIGKILL (no Python cleanup at all) right after the schema was cloned, before commit."""
    agency = new_agency("xa-bi-ngat")
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_NAME=settings.DATABASES["default"]["NAME"],
        MOTCUA_FAILPOINTS="provision.after_schema:kill",
    )
    cmd = [sys.executable, "manage.py", "provision_agency", "xa-bi-ngat"]
    killed = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    assert not schemas.schema_exists("xa_bi_ngat")
    agency.refresh_from_db()
    assert agency.status == AgencyStatus.PROVISIONING

    env.pop("MOTCUA_FAILPOINTS")
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    agency.refresh_from_db()
    assert agency.status == AgencyStatus.ACTIVE
    assert tables_of("xa_bi_ngat") == tables_of(schemas.TEMPLATE_SCHEMA)
    assert Agency.objects.filter(slug="xa-bi-ngat").count() == 1


@pytest.mark.django_db(transaction=True)
def test_provisioning_runs_on_the_celery_worker(worker) -> None:
    from tenants.tasks import agency_provision

    agency = new_agency("xa-qua-worker")
    outcome = agency_provision.delay(agency.pk).get(timeout=60)
    assert outcome["via"] == "clone"
    agency.refresh_from_db()
    assert agency.status == AgencyStatus.ACTIVE
    assert schemas.schema_exists("xa_qua_worker")
