"""Onboarding at country scale (issue 5): 1,000 agencies measured, the country extrapolated.

Whole provinces (every commune plus the sample departments) are onboarded one after another
through the same bulk service as ``onboard_province``, until at least 1,000 agencies are live.
The time per agency is reported per block of provinces, to show how the cost grows with the
number of tenants already on the platform, and the measured rate is extrapolated to the
country's ~3,800 agencies. Goal: the country in under an hour. Takes 10–15 minutes.
"""

from __future__ import annotations

import statistics
import time

from tests.perf.common import bench_line, detail, prepare_database, setup_django
from tests.perf.onboard_province import seed_shared

TARGET = 1_000
COUNTRY = 3_800


def run() -> None:
    setup_django("onboard_country")
    prepare_database()
    from onboarding.bulk import departments_parse, province_onboard
    from onboarding.units import DATA_DIR, provinces

    payer = seed_shared()
    departments = departments_parse((DATA_DIR / "departments.sample.json").read_bytes())
    live = 0
    elapsed = 0.0
    rows: list[tuple[int, float]] = []  # (agencies live before the province, seconds per agency)
    for code in sorted(provinces()):
        if live >= TARGET:
            break
        started = time.perf_counter()
        report = province_onboard(
            province_code=code,
            departments=departments,
            billing_account=payer,  # type: ignore[arg-type]
        )
        seconds = time.perf_counter() - started
        if report.failed:
            raise SystemExit(f"province {code}: {len(report.failed)} failed: {report.failed}")
        rows.append((live, seconds / max(len(report.live), 1)))
        live += len(report.live)
        elapsed += seconds
        detail(f"province {code}: {len(report.live)} agencies in {seconds:.1f}s "
               f"({rows[-1][1]:.3f} s each); {live} live, {elapsed:.0f}s so far")  # fmt: skip
    first = statistics.mean(r[1] for r in rows[: max(1, len(rows) // 3)])
    last = statistics.mean(r[1] for r in rows[-max(1, len(rows) // 3) :])
    detail(f"seconds per agency: {first:.3f} with few tenants, {last:.3f} near {live} tenants")
    # Extrapolate with the slowest (latest) rate, growing linearly at the measured slope.
    slope = (last - first) / max(live, 1)
    remaining = COUNTRY - live
    country = elapsed + remaining * (last + slope * remaining / 2)
    bench_line("onboard_1000_agencies", elapsed, "s", "none")
    bench_line("onboard_country_extrapolated", country, "s", "<=3600")


if __name__ == "__main__":
    run()
