"""Provisioning one agency: clone of the template vs migrations (full app set), median of 9."""

from __future__ import annotations

import statistics

from tests.perf.common import bench_line, detail, prepare_database, setup_django, size

ROUNDS = size(9, 2)


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
    create_agency("xa-khoi-dong-2", use_template=False)
    times: dict[str, list[float]] = {"clone": [], "migrate": []}
    for i in range(ROUNDS):  # alternate, so drift affects both alike
        times["clone"].append(provision("clone", i))
        times["migrate"].append(provision("migrate", i))
    # For comparison: django-tenants' clone_schema SQL function (the previous way), compiled
    # into the clone function instead of the snapshot, then the snapshot again.
    snapshot_sql = SchemaState.objects.get(schema_name=schemas.TEMPLATE_SCHEMA).clone_sql
    schemas.template_clone_function_ensure("")
    function_times = [provision("function", i) for i in range(size(3, 1))]
    schemas.template_clone_function_ensure(snapshot_sql)

    clone = statistics.median(times["clone"])
    migrate = statistics.median(times["migrate"])
    detail("clone samples: " + ", ".join(f"{t:.3f}" for t in times["clone"]))
    detail("migrate samples: " + ", ".join(f"{t:.3f}" for t in times["migrate"]))
    detail(
        f"clone via the clone_schema SQL function instead (median of 3): "
        f"{statistics.median(function_times):.3f} s"
    )
    detail(f"tenant tables per schema: {len(_tables(schemas.TEMPLATE_SCHEMA))}")
    bench_line("provisioning_clone", clone, "s", "<=1")
    detail(f"migrate median: {migrate:.3f} s")
    bench_line("provisioning_ratio", clone / migrate, "ratio", "<=0.25")


def _tables(schema: str) -> list[str]:
    from tenants.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return [row[0] for row in cursor.fetchall()]


if __name__ == "__main__":
    run()
