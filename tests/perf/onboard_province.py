"""Onboarding a whole province end to end: Hải Phòng (31), 114 communes + 14 departments.

Self-contained: its own bench database (``motcua_bench_onboard_province``), created from scratch
(shared migrations, agency template, sample catalog, default plans, one payer), then the bulk
service does what ``manage.py onboard_province 31`` does: applications, approval and the full
pipeline (schema clone, domain, branding, adopt + publish default procedures, admin invitation,
subscription) for every agency. Goal: at most 3 minutes on the 2-core machine.

    python3 dev.py bench onboard_province
"""

from __future__ import annotations

import time

from tests.perf.common import prepare_database, setup_django, size

PROVINCE = "31"  # Thành phố Hải Phòng: 114 communes in vietnam-provinces (2025)
GOAL_SECONDS = 180


def seed_shared() -> object:
    """The sample catalog, the default plans and one payer; returns the payer."""
    from billing.accounts import billing_account_create
    from billing.pricing import plans_ensure_defaults
    from catalog.data import SAMPLE_CATALOG
    from catalog.services import catalog_import

    catalog_import(raw=SAMPLE_CATALOG.read_bytes())
    plans_ensure_defaults()
    return billing_account_create(
        name="UBND thử nghiệm", tax_code="0200000000", address="—", email="ketoan@example.vn"
    )


def run() -> None:
    setup_django("onboard_province")
    prepare_database()
    from onboarding.bulk import departments_parse, province_onboard
    from tenants.units import DATA_DIR, communes_of

    payer = seed_shared()
    departments = departments_parse((DATA_DIR / "departments.sample.json").read_bytes())
    departments = departments[: size(None, 2)]
    communes = size(len(communes_of(PROVINCE)), 8)
    started = time.perf_counter()
    report = province_onboard(
        province_code=PROVINCE,
        departments=departments,
        billing_account=payer,  # type: ignore[arg-type]
        communes=communes,
    )
    seconds = time.perf_counter() - started
    if report.failed:
        raise SystemExit(f"{len(report.failed)} agencies failed: {report.failed}")
    print(f"BENCH onboard_province {seconds:.1f} s goal=<={GOAL_SECONDS}", flush=True)
    print(
        f"  detail: {len(report.live)} agencies live ({len(departments)} departments + "
        f"{communes} communes of province {PROVINCE}); per-agency median "
        f"{report.median_seconds:.3f} s, max {max(report.per_agency):.3f} s",
        flush=True,
    )


if __name__ == "__main__":
    run()
