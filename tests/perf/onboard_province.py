"""Onboarding a whole province end to end: Hải Phòng (31), 114 communes + 14 departments.

Self-contained: its own bench database (``motcua_bench_onboard_province``), created from scratch
(shared migrations, agency template, sample catalog, default plans, one payer), then the bulk
service does what ``manage.py onboard_province 31`` does: applications, approval and the full
pipeline (schema clone, domain, branding, adopt + publish default procedures, admin invitation,
subscription) for every agency. Goal: at most 3 minutes on the 2-core machine.

    DJANGO_SETTINGS_MODULE=config.settings.bench .venv/bin/python -m tests.perf.onboard_province
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROVINCE = "31"  # Thành phố Hải Phòng: 114 communes in vietnam-provinces (2025)
GOAL_SECONDS = 180


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    os.environ.setdefault("BENCH_DATABASE_NAME", "motcua_bench_onboard_province")
    for path in (str(ROOT), str(ROOT / "platform")):
        if path not in sys.path:
            sys.path.insert(0, path)
    import django

    django.setup()


def _fresh_database() -> None:
    import psycopg
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    db = settings.DATABASES["default"]
    name = str(db["NAME"])
    if not name.startswith("motcua_bench"):
        raise SystemExit(f"refusing to recreate database {name!r}: not a bench database")
    connections.close_all()
    with psycopg.connect(
        dbname="postgres",
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        autocommit=True,
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    from tenants import services

    services.template_ensure()


def run() -> None:
    _setup()
    _fresh_database()
    from billing.accounts import billing_account_create
    from billing.pricing import plans_ensure_defaults
    from catalog.data import SAMPLE_CATALOG
    from catalog.services import catalog_import
    from onboarding.bulk import departments_parse, province_onboard
    from onboarding.units import DATA_DIR, communes_of

    catalog_import(raw=SAMPLE_CATALOG.read_bytes())
    plans_ensure_defaults()
    payer = billing_account_create(
        name="UBND thành phố Hải Phòng", tax_code="0200000000", address="Hải Phòng",
        email="ketoan@example.vn",
    )  # fmt: skip
    departments = departments_parse((DATA_DIR / "departments.sample.json").read_bytes())
    started = time.perf_counter()
    report = province_onboard(
        province_code=PROVINCE, departments=departments, billing_account=payer
    )
    seconds = time.perf_counter() - started
    if report.failed:
        raise SystemExit(f"{len(report.failed)} agencies failed: {report.failed}")
    print(f"BENCH onboard_province {seconds:.1f} s goal=<={GOAL_SECONDS}", flush=True)
    print(
        f"  detail: {len(report.live)} agencies live ({len(departments)} departments + "
        f"{len(communes_of(PROVINCE))} communes of province {PROVINCE}); per-agency median "
        f"{report.median_seconds:.3f} s, max {max(report.per_agency):.3f} s",
        flush=True,
    )


if __name__ == "__main__":
    run()
