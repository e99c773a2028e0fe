"""Agencies on two real PostgreSQL servers: placement, provisioning, routing, tasks, migrations.

Cluster ``b`` is a second embedded PostgreSQL started for the session (tests/fixtures/clusters.py).
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from config import embedded
from tenants import clusters, schemas, services
from tenants.cluster_backend.base import ClusterSwitchInTransaction
from tenants.context import agency_context
from tenants.db import connection
from tenants.models import Agency, AgencyEvent, ClusterPlacement, SchemaState

# Every alias: the control plane's ("control") is used while a connection serves cluster b.
pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("two_clusters"),
]


def host_of(slug: str) -> str:
    return f"{slug}.{settings.PLATFORM_BASE_DOMAIN}"


def main_psql(sql: str) -> str:
    main = connections.settings["default"]
    endpoint = embedded.PostgresEndpoint(host=main["HOST"], port=int(main["PORT"]))
    return embedded._psql(endpoint, sql, database=main["NAME"])


def schema_on(cluster, schema: str) -> dict[str, bool]:
    sql = f"SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'"
    return {"main": main_psql(sql) == "1", "b": cluster.psql(sql) == "1"}


def test_the_province_pins_the_cluster_else_the_policy_places(make_agency) -> None:
    ClusterPlacement.objects.create(province_code="79", cluster="b")
    pinned = make_agency("phuong-sai-gon", province_code="79", provision=False)
    assert pinned.cluster == "b"
    # fewest_agencies: b holds one now, main none; a tie goes to the main cluster
    assert make_agency("xa-mot", province_code="31", provision=False).cluster == "main"
    assert make_agency("xa-hai", province_code="31", provision=False).cluster == "main"
    assert make_agency("xa-ba", province_code="31", provision=False).cluster == "b"
    chosen = make_agency("xa-nam", province_code="79", cluster="main", provision=False)
    assert chosen.cluster == "main"  # the provider's explicit choice wins over the province's
    with pytest.raises(clusters.UnknownCluster):
        make_agency("xa-bon", province_code="31", cluster="khong-co", provision=False)
    created = AgencyEvent.objects.get(agency=pinned, event="created")
    assert created.detail["cluster"] == "b"


def test_an_agency_on_b_is_provisioned_on_b_and_served_from_there(two_clusters, make_agency):
    on_main = make_agency("phuong-a", name="Phường A", cluster="main")
    on_b = make_agency("phuong-b", name="Phường B", cluster="b")
    assert on_b.status == "active"
    assert schema_on(two_clusters, "phuong_b") == {"main": False, "b": True}
    assert schema_on(two_clusters, "phuong_a") == {"main": True, "b": False}
    # Its state is kept by its own cluster; the agency row and history by the control plane.
    with clusters.on_cluster("b"):
        assert SchemaState.objects.filter(schema_name="phuong_b").exists()
        assert not Agency.objects.exists()  # b's public schema holds no control-plane rows
    assert not SchemaState.objects.filter(schema_name="phuong_b").exists()
    assert AgencyEvent.objects.get(agency=on_b, event="provisioned").detail["cluster"] == "b"

    # The agency's own rows land in its schema on b, written inside one transaction there.
    from audit.services import audit_record

    with agency_context(on_b):
        assert connection.cluster_name == "b"
        audit_record(action="test.cluster", actor=None, target="phuong-b")
    with agency_context(on_main):
        assert connection.cluster_name == "main"
    assert connection.cluster_name == "main" and connection.schema_name == "public"
    assert two_clusters.psql("SELECT count(*) FROM phuong_b.audit_auditentry") == "1"

    client = Client()
    a = client.get("/", HTTP_HOST=host_of("phuong-a"))
    b = client.get("/", HTTP_HOST=host_of("phuong-b"))
    assert a.status_code == b.status_code == 200
    assert "Phường A" in a.text and "Phường B" not in a.text
    assert "Phường B" in b.text and "Phường A" not in b.text
    assert client.get("/health/", HTTP_HOST=host_of("phuong-b")).json()["schema"] == "phuong_b"
    assert client.get("/", HTTP_HOST="localhost").status_code == 200  # back on main, public
    assert connection.cluster is None


def test_warm_routing_to_another_cluster_costs_no_query(make_agency) -> None:
    make_agency("phuong-b", cluster="b")
    client = Client()
    client.get("/health/", HTTP_HOST=host_of("phuong-b"))  # warm the caches
    client.get("/health/", HTTP_HOST="localhost")  # the thread back on the main cluster
    with (
        CaptureQueriesContext(connection) as on_default,  # type: ignore[arg-type]
        CaptureQueriesContext(connections[clusters.CONTROL_ALIAS]) as on_control,
    ):
        response = client.get("/health/", HTTP_HOST=host_of("phuong-b"))
    assert response.status_code == 200 and response.json()["schema"] == "phuong_b"
    statements = [q["sql"] for q in on_default.captured_queries if not q["sql"].startswith("SET ")]
    assert statements == ["SELECT 1"]  # the health check's own, on b
    assert on_control.captured_queries == []
    assert connection.cluster_name == "b"
    assert "main" in connection.parked_clusters()  # the main connection kept for the next one


def test_a_crash_between_the_clusters_is_finished_by_running_it_again(
    two_clusters, make_agency, monkeypatch
) -> None:
    """The schema committed on b, the control plane not yet: the next run only activates."""
    from core.failpoints import FailpointError

    agency = make_agency("xa-dang-do", cluster="b", provision=False)
    monkeypatch.setenv("MOTCUA_FAILPOINTS", "provision.between_clusters:raise")
    with pytest.raises(FailpointError):
        services.agency_provision(agency=agency)
    agency.refresh_from_db()
    assert agency.status == "provisioning"
    assert schema_on(two_clusters, "xa_dang_do") == {"main": False, "b": True}
    monkeypatch.delenv("MOTCUA_FAILPOINTS")
    result = services.agency_provision(agency=agency)
    assert result.agency.status == "active" and not result.repaired
    assert result.created_via == "existing"  # found complete on b, not built again
    assert AgencyEvent.objects.filter(agency=agency, event="provisioned").count() == 1
    assert two_clusters.psql("SELECT count(*) FROM xa_dang_do.django_migrations") != "0"


def test_a_transaction_cannot_move_to_another_cluster(make_agency) -> None:
    from django.db import transaction

    on_b = make_agency("phuong-b", cluster="b")
    with pytest.raises(ClusterSwitchInTransaction), transaction.atomic():
        connection.set_tenant(on_b)
    assert connection.cluster is None


def test_a_task_runs_on_its_agencys_cluster(make_agency) -> None:
    """tenant-schemas-celery loads the agency from the control plane: its cluster comes along."""
    from config.celery_app import app

    on_b = make_agency("phuong-b", cluster="b")

    @app.task(name="tests.cluster_probe", bind=True)
    def probe(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'phuong_b'")
            present = cursor.fetchone()[0] == 1
        return {
            "cluster": connection.cluster_name,
            "schema": connection.schema_name,
            "here": present,
        }

    with agency_context(on_b):
        result = probe.apply(headers={"_schema_name": "phuong_b"})
    assert result.get() == {"cluster": "b", "schema": "phuong_b", "here": True}
    clusters.home()
    result = probe.apply(headers={"_schema_name": "phuong_b"})  # sent from the public site
    assert result.get() == {"cluster": "b", "schema": "phuong_b", "here": True}
    assert connection.cluster is None and connection.schema_name == "public"  # back home after


def test_one_command_migrates_every_cluster_and_skips_one_that_is_down(
    two_clusters, make_agency
) -> None:
    make_agency("xa-chinh", cluster="main")
    make_agency("xa-phu", cluster="b")
    outdated = "outdated"
    SchemaState.objects.filter(schema_name="xa_chinh").update(fingerprint=outdated)
    with clusters.on_cluster("b"):
        SchemaState.objects.filter(schema_name="xa_phu").update(fingerprint=outdated)
    out = StringIO()
    call_command("migrate_agencies", stdout=out)  # public schemas too (no-op), then agencies
    text = out.getvalue()
    lines = text.splitlines()
    assert any(line.startswith("[main] ") and "1/1 xa_chinh: done" in line for line in lines)
    assert any(line.startswith("[b] ") and "1/1 xa_phu: done" in line for line in lines)
    assert "2 clusters in" in text and "2 migrated (main, b)" in text
    current = schemas.migration_fingerprint()
    assert SchemaState.objects.get(schema_name="xa_chinh").fingerprint == current
    with clusters.on_cluster("b"):
        assert SchemaState.objects.get(schema_name="xa_phu").fingerprint == current

    SchemaState.objects.filter(schema_name="xa_chinh").update(fingerprint=outdated)
    two_clusters.stop()
    try:
        out, err = StringIO(), StringIO()
        with pytest.raises(CommandError, match="1 cluster"):
            call_command("migrate_agencies", "--skip-public", stdout=out, stderr=err)
        text = out.getvalue()
        assert "[b] cluster b: unavailable, skipped" in text
        assert "1 migrated (main), 1 unavailable (b; skipped)" in text
        assert SchemaState.objects.get(schema_name="xa_chinh").fingerprint == current
        # The main cluster's agencies keep serving while b is down.
        assert Client().get("/", HTTP_HOST=host_of("xa-chinh")).status_code == 200
    finally:
        two_clusters.start()
