"""Onboarding at country scale (issue 5): 1,000 agencies measured, the country extrapolated.

Whole provinces (every commune plus the sample departments) are onboarded through the same bulk
service as ``onboard_province``, by two worker processes at once — the way two Celery workers
share this 2-core machine — until at least 1,000 agencies are live. The time per agency is
reported per province, in the order they went live, to show how the cost grows with the number
of tenants already on the platform; the measured rate is extrapolated to the country's ~3,800
agencies. Goal: the country in under an hour. Takes 10–15 minutes.
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import time
from typing import Any

from tests.perf.common import bench_line, detail, prepare_database, setup_django, size
from tests.perf.onboard_province import seed_shared

TARGET = size(1_000, 12)  # quick: three provinces of 5 (1 department, 4 communes)
COUNTRY = 3_800
WORKERS = 2


def _worker(queue: Any, live: Any, results: Any, payer_id: int) -> None:
    setup_django("onboard_country")
    from billing.models import BillingAccount
    from onboarding.bulk import departments_parse, province_onboard
    from tenants.units import DATA_DIR

    payer = BillingAccount.objects.get(pk=payer_id)
    departments = departments_parse((DATA_DIR / "departments.sample.json").read_bytes())
    while True:
        with live.get_lock():
            if live.value >= TARGET:
                return
        try:
            code = queue.get_nowait()
        except Exception:
            return
        before = live.value
        started = time.perf_counter()
        report = province_onboard(
            province_code=code,
            departments=departments[: size(None, 1)],
            billing_account=payer,
            communes=size(None, 4),
        )
        seconds = time.perf_counter() - started
        if report.failed:
            results.put((code, before, 0, seconds, f"{len(report.failed)} failed: {report.failed}"))
            return
        with live.get_lock():
            live.value += len(report.live)
        results.put((code, before, len(report.live), seconds, ""))


def run() -> None:
    setup_django("onboard_country")
    prepare_database()
    from django.db import connections

    from tenants.units import provinces

    payer: Any = seed_shared()
    connections.close_all()  # the workers open their own
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    for code in sorted(provinces()):
        queue.put(code)
    live = ctx.Value("i", 0)
    results = ctx.Queue()
    started = time.perf_counter()
    workers = [
        ctx.Process(target=_worker, args=(queue, live, results, payer.pk)) for _ in range(WORKERS)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    rows = []
    while not results.empty():
        rows.append(results.get())
    rows.sort(key=lambda r: r[1])
    errors = [r for r in rows if r[4]]
    if errors or any(w.exitcode for w in workers):
        raise SystemExit(f"onboarding failed: {errors or [w.exitcode for w in workers]}")
    total = sum(r[2] for r in rows)
    for code, before, count, seconds, _ in rows:
        detail(f"province {code}: {count} agencies in {seconds:.1f}s ({seconds / count:.3f} s "
               f"each, one worker), {before} live before")  # fmt: skip
    per_agency = [r[3] / r[2] for r in rows]
    third = max(1, len(rows) // 3)
    first, last = statistics.mean(per_agency[:third]), statistics.mean(per_agency[-third:])
    detail(f"{total} agencies live in {elapsed:.0f}s with {WORKERS} workers; one worker's seconds "
           f"per agency: {first:.3f} with few tenants, {last:.3f} near {total}")  # fmt: skip
    # Extrapolate at the latest (slowest) rate, letting it keep growing at the measured slope.
    rate = elapsed / total  # wall-clock seconds per agency with all workers busy
    # relative slow-down per extra tenant (never a speed-up: a quieter machine is not a trend)
    growth = max(0.0, (last - first) / first / max(total, 1))
    remaining = COUNTRY - total
    country = elapsed + remaining * rate * (1 + growth * (total + remaining / 2))
    bench_line("onboard_1000_agencies", elapsed, "s", "none")
    bench_line("onboard_country_extrapolated", country, "s", "<=3600")


if __name__ == "__main__":
    run()
