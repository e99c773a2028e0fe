"""Statistics dashboards over seeded rollups, and what rollup upkeep adds to a dossier event.

- Province dashboard: 130 agencies of one province with ~20,000 dossiers each over the last
  365 days (12 procedures × 5 metrics per day: ~2.85 M daily rows, written by SQL, plus their
  monthly rows); the staff page ``/console/thong-ke/tinh/31/`` for this month and for the
  last full quarter, requested in-process (middleware, query, render). Goal ≤ 200 ms.
- Provider dashboard: the same plus 3,870 agencies in other provinces (monthly rows for this
  month and the last), ``/console/thong-ke/`` for this month: ≤ 1 s.
- Upkeep: the same online submission in alternating batches with the rollup upsert on, and
  with ``stats_dossier_received`` swapped for a no-op in this process only (the method of
  ledger_overhead): ≤ 10 %.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from typing import Any

from tests.perf.common import (
    bench_line,
    detail,
    prepare_database,
    setup_django,
    size,
    submission_overhead,
)

PROVINCE = "31"
PROVINCE_AGENCIES = size(130, 5)
ALL_AGENCIES = size(4000, 20)
PROCEDURES = 12
DAYS = size(365, 40)
REQUESTS = size(10, 2)
# (metric, n per day and procedure, total per day and procedure)
DAILY = [
    ("received_online", 3, 0),
    ("received_desk", 2, 0),
    ("fee_due", 3, 0),
    ("resolved_on_time", 4, 20),
    ("resolved_late", 1, 9),
]


def _seed_agencies() -> list[int]:
    from tenants.models import Agency, AgencyKind, AgencyStatus

    others = [f"{p:02d}" for p in range(1, 97) if f"{p:02d}" != PROVINCE]
    rows = [
        Agency(
            slug=f"xa-{i:05d}",
            schema_name=f"bench_xa_{i:05d}",
            name=f"Xã Số {i}",
            kind=AgencyKind.COMMUNE,
            province_code=PROVINCE if i < PROVINCE_AGENCIES else others[i % len(others)],
            status=AgencyStatus.ACTIVE,
        )
        for i in range(ALL_AGENCIES)
    ]
    Agency.objects.bulk_create(rows, batch_size=1000)
    return list(
        Agency.objects.filter(slug__startswith="xa-0").order_by("slug").values_list("pk", flat=True)
    )


def _seed_rollups(today: dt.date) -> int:
    from django.db import connection

    values = ", ".join(f"('{m}', {n}, {t})" for m, n, t in DAILY)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO reports_dailyagencystat "
            "(agency_id, province_code, day, procedure_code, sector, metric, n, total) "
            "SELECT a.id, a.province_code, %s::date - d, 'P-' || p, 'Lĩnh vực ' || (p %% 4), "
            f"m.metric, m.n, m.total FROM tenants_agency a "
            "CROSS JOIN generate_series(0, %s) d CROSS JOIN generate_series(1, %s) p "
            f"CROSS JOIN (VALUES {values}) m(metric, n, total) "
            "WHERE a.province_code = %s AND a.slug LIKE 'xa-0%%'",
            [today, DAYS - 1, PROCEDURES, PROVINCE],
        )
        daily = cursor.rowcount
        cursor.execute(
            "INSERT INTO reports_monthlyagencystat "
            "(agency_id, province_code, month, procedure_code, sector, metric, n, total) "
            "SELECT agency_id, province_code, date_trunc('month', day)::date, procedure_code, "
            "sector, metric, sum(n), sum(total) FROM reports_dailyagencystat GROUP BY 1,2,3,4,5,6"
        )
        this_month = today.replace(day=1)
        last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
        cursor.execute(
            "INSERT INTO reports_monthlyagencystat "
            "(agency_id, province_code, month, procedure_code, sector, metric, n, total) "
            "SELECT a.id, a.province_code, mo, 'P-' || p, 'Lĩnh vực ' || (p %% 4), "
            f"m.metric, m.n * 25, m.total * 25 FROM tenants_agency a "
            "CROSS JOIN unnest(ARRAY[%s::date, %s::date]) mo CROSS JOIN generate_series(1, %s) p "
            f"CROSS JOIN (VALUES {values}) m(metric, n, total) "
            "WHERE a.province_code <> %s AND a.slug LIKE 'xa-0%%'",
            [this_month, last_month, PROCEDURES, PROVINCE],
        )
        cursor.execute("ANALYZE reports_dailyagencystat")
        cursor.execute("ANALYZE reports_monthlyagencystat")
    return int(daily)


def _time_page(client: Any, path: str) -> float:
    client.get(path)  # warm-up
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(samples)


def _dashboards() -> None:
    from django.test import Client
    from django.utils import timezone

    from accounts.models import User
    from tests.fixtures.mfa import mfa_login

    today = timezone.localdate()
    started = time.perf_counter()
    _seed_agencies()
    daily = _seed_rollups(today)
    detail(f"seeded {daily:,} daily rollup rows in {time.perf_counter() - started:.0f} s")
    client = Client(HTTP_HOST="localhost")
    # Provider pages want a second factor proven in the session, as a real sign-in gives.
    mfa_login(client, User.objects.create_user("staff@motcua.vn", "x", is_staff=True))
    month = _time_page(client, f"/console/thong-ke/tinh/{PROVINCE}/")
    quarter_end = today.replace(day=1) - dt.timedelta(days=1)
    quarter_start = (quarter_end - dt.timedelta(days=80)).replace(day=1)
    quarter = _time_page(
        client, f"/console/thong-ke/tinh/{PROVINCE}/?start={quarter_start}&end={quarter_end}"
    )
    partial = _time_page(
        client,
        f"/console/thong-ke/tinh/{PROVINCE}/?start={quarter_start + dt.timedelta(days=9)}"
        f"&end={quarter_end - dt.timedelta(days=9)}",
    )
    detail(
        f"province page: this month {month * 1000:.0f} ms, last quarter {quarter * 1000:.0f} ms,"
        f" a quarter cut mid-month {partial * 1000:.0f} ms"
    )
    bench_line("stats_province_dashboard", max(month, quarter) * 1000, "ms", "<=200")
    bench_line("stats_province_dashboard_partial_months", partial * 1000, "ms", "none")
    provider = _time_page(client, "/console/thong-ke/")
    bench_line("stats_provider_dashboard", provider * 1000, "ms", "<=1000")


def _upkeep() -> None:
    import lifecycle.effects as lifecycle_effects  # where the lifecycle calls it

    with_rollup, without = submission_overhead(lifecycle_effects, "stats_dossier_received")
    detail(
        f"submission {with_rollup * 1000:.1f} ms with the rollup, {without * 1000:.1f} ms without"
    )
    bench_line("stats_rollup_overhead", (with_rollup - without) / without * 100, "%", "<=10")


def run() -> None:
    setup_django("stats_dashboard")
    prepare_database()
    _dashboards()
    _upkeep()  # with the seeded rows in place: index upkeep on a big table is part of the cost


if __name__ == "__main__":
    run()
