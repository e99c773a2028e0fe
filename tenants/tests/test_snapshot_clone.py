"""Fast cloning by replaying the template's captured DDL: same result as migrations."""

from __future__ import annotations

import pytest

from tenants import schemas, services, snapshot
from tenants.db import connection
from tenants.models import Agency, SchemaState
from tests.fixtures.database import owner_role


def new_agency(slug: str) -> Agency:
    return services.agency_create(slug=slug, name="Xã Mới", kind="commune", province_code="31")


def rows(sql: str) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [tuple(r) for r in cursor.fetchall()]


@pytest.mark.django_db
def test_the_template_state_holds_a_verified_snapshot() -> None:
    state = SchemaState.objects.get(schema_name=schemas.TEMPLATE_SCHEMA)
    assert state.clone_sql
    snap = snapshot.Snapshot.deserialize(schemas.TEMPLATE_SCHEMA, state.clone_sql)
    assert any(stmt.startswith("CREATE TABLE") for stmt in snap.ddl)
    assert schemas.TEMPLATE_SCHEMA not in " ".join(snap.ddl)  # names are unqualified


def test_a_cloned_schema_equals_a_migrated_one(as_owner: None) -> None:
    cloned = services.agency_provision(agency=new_agency("xa-nhan-ban"))
    migrated = services.agency_provision(agency=new_agency("xa-di-tru"), use_template=False)
    assert (cloned.created_via, migrated.created_via) == ("clone", "migrate")
    a, b = snapshot.signature("xa_nhan_ban"), snapshot.signature("xa_di_tru")
    for part in ("tables", "columns", "constraints", "indexes", "sequences", "other"):
        assert a[part] == b[part], part
    assert a["tables"] and a["constraints"] and a["indexes"] and a["sequences"]
    assert snapshot.signature(schemas.TEMPLATE_SCHEMA) == a
    # The seed rows came along (migration records, content types) with their sequences.
    assert schemas.applied_migrations("xa_nhan_ban") == schemas.tenant_migrations_on_disk()
    template_types = rows(
        f"SELECT id, app_label, model FROM {schemas.TEMPLATE_SCHEMA}.django_content_type "
        "ORDER BY id"
    )
    assert rows("SELECT id, app_label, model FROM xa_nhan_ban.django_content_type ORDER BY id") == (
        template_types
    )
    (new_id,) = rows(
        "INSERT INTO xa_nhan_ban.django_content_type (app_label, model) "
        "VALUES ('thu', 'nghiem') RETURNING id"
    )[0]
    assert isinstance(new_id, int) and new_id > max(int(str(r[0])) for r in template_types)
    # Objects are created in the new schema, not in the template or public.
    assert not rows(
        f"SELECT 1 FROM {schemas.TEMPLATE_SCHEMA}.django_content_type WHERE model = 'nghiem'"
    )


def test_a_failed_replay_leaves_no_schema_and_the_search_path_intact(as_owner: None) -> None:
    snap = snapshot.Snapshot(
        source=schemas.TEMPLATE_SCHEMA,
        ddl=["CREATE TABLE t (id int)"],
        data=["INSERT INTO missing_table VALUES (1)"],
    )
    with pytest.raises(Exception, match="missing_table"):
        snapshot.replay(snap, "xa_hong")
    assert not schemas.schema_exists("xa_hong")
    assert rows("SELECT current_schema()") == [("public",)]


@pytest.mark.django_db
def test_a_template_with_objects_the_snapshot_cannot_reproduce_falls_back_to_the_function() -> None:
    with owner_role():
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE VIEW {schemas.TEMPLATE_SCHEMA}.v_thu AS SELECT 1 AS x")
        assert snapshot.capture(schemas.TEMPLATE_SCHEMA) is None
        assert schemas.template_snapshot_sql() == ""
        SchemaState.objects.filter(schema_name=schemas.TEMPLATE_SCHEMA).update(clone_sql="")
        services.template_ensure()  # compiles the fallback into the clone function
    result = services.agency_provision(agency=new_agency("xa-du-phong"))  # as the app role
    assert result.created_via == "clone"
    assert (
        "v_thu"
        in rows(
            "SELECT table_name FROM information_schema.views WHERE table_schema = 'xa_du_phong'"
        )[0]
    )


def test_a_template_without_a_snapshot_gets_one_from_template_ensure(as_owner: None) -> None:
    SchemaState.objects.filter(schema_name=schemas.TEMPLATE_SCHEMA).update(clone_sql="")
    state = services.template_ensure()
    assert state.clone_sql
