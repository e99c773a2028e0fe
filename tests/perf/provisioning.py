"""Provisioning one agency, three ways side by side, median of 9 (3 for the stock function):
ours (the template's snapshot replayed), stock django-tenants' ``clone_schema`` SQL function (the
fallback path, also timed on its first call in a fresh connection), and migrations."""

from __future__ import annotations

import statistics

from tests.perf.common import bench_line, detail, prepare_database, setup_django, size

ROUNDS = size(9, 2)
MIGRATE_ROUNDS = size(9, 1)  # a migration run is ~1 min under load: quick mode times one


def run() -> None:
    setup_django("provisioning")
    prepare_database()
    from tenants import schemas
    from tenants.models import SchemaState
    from tests.perf.common import create_agency

    def provision(via: str, index: int) -> float:
        agency = create_agency(f"xa-{via}-{index}", provision=False)
        from tenants import services

        result = services.agency_provision(agency=agency, use_template=via != "migrate")
        expected = "migrate" if via == "migrate" else "clone"
        assert result.created_via == expected, result.created_via
        return result.seconds

    # First-use costs (connections, imports, catalog caches) out of the samples.
    create_agency("xa-khoi-dong")
    if MIGRATE_ROUNDS > 1:
        create_agency("xa-khoi-dong-2", use_template=False)
    times: dict[str, list[float]] = {"clone": [], "migrate": []}
    for i in range(ROUNDS):  # alternate, so drift affects both alike
        times["clone"].append(provision("clone", i))
        if i < MIGRATE_ROUNDS:
            times["migrate"].append(provision("migrate", i))
    # For comparison: django-tenants' clone_schema SQL function (the previous way), compiled
    # into the clone function instead of the snapshot, then the snapshot again.
    snapshot_sql = SchemaState.objects.get(schema_name=schemas.TEMPLATE_SCHEMA).clone_sql
    schemas.template_clone_function_ensure("")
    from django.db import connections

    connections.close_all()  # the fallback's first call in a fresh connection, as a worker's
    first_function = provision("function", 99)
    function_times = [provision("function", i) for i in range(size(3, 1))]
    schemas.template_clone_function_ensure(snapshot_sql)

    clone = statistics.median(times["clone"])
    migrate = statistics.median(times["migrate"])
    detail("clone samples: " + ", ".join(f"{t:.3f}" for t in times["clone"]))
    detail("migrate samples: " + ", ".join(f"{t:.3f}" for t in times["migrate"]))
    stock = statistics.median(function_times)
    detail("stock clone_schema samples: " + ", ".join(f"{t:.3f}" for t in function_times))
    detail(f"tenant tables per schema: {len(_tables(schemas.TEMPLATE_SCHEMA))}")
    detail(f"side by side (median s): ours {clone:.3f} | stock django-tenants clone_schema "
           f"{stock:.3f} (first call, fresh connection: {first_function:.3f}) | "
           f"migrations {migrate:.3f}")  # fmt: skip
    bench_line("provisioning_clone", clone, "s", "<=1")
    bench_line("provisioning_stock_clone_schema", stock, "s", "none")
    bench_line("provisioning_stock_clone_schema_first", first_function, "s", "none")
    bench_line("provisioning_migrate", migrate, "s", "none")
    bench_line("provisioning_ratio", clone / migrate, "ratio", "<=0.25")
    bench_line("provisioning_ratio_stock", clone / stock, "ratio", "none")


def _tables(schema: str) -> list[str]:
    from tenants.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return [row[0] for row in cursor.fetchall()]


if __name__ == "__main__":
    run()
