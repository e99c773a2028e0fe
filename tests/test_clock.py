"""One clock for the whole product: the date-boundary runs can trust what they test.

``python3 dev.py test --clock-matrix`` runs the date-sensitive tests with the clock at the
1st and the last day of a month, 29 February, New Year's Eve across midnight, inside Tết
and on a Sunday (``dev.CLOCK_MATRIX``). That only proves something if every process of a
run sees the same fake clock and no code reads another one (the database server's).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("platform", "tenants", "billing", "onboarding")


def test_every_process_of_a_run_shares_the_frozen_clock() -> None:
    child = "import django; django.setup(); from django.utils import timezone; " \
            "print(timezone.localdate().isoformat())"  # fmt: skip
    parent = (
        "import django, subprocess, sys\n"
        "django.setup()\n"
        "from django.utils import timezone\n"
        "print(timezone.localdate().isoformat(), timezone.localtime().strftime('%H:%M'))\n"
        f"print(subprocess.run([sys.executable, '-c', {child!r}], capture_output=True,"
        " text=True).stdout.strip())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_TEST_CLOCK")}
    env.update(
        MOTCUA_TEST_CLOCK="2028-02-29T23:59:00+07:00", DJANGO_SETTINGS_MODULE="config.settings.test"
    )
    out = subprocess.run(
        [sys.executable, "-c", parent], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split()
    assert lines[:2] == ["2028-02-29", "23:59"]
    # The child started later, on the run's anchor: the same fake day, not the real one.
    assert lines[2] in {"2028-02-29", "2028-03-01"}


def test_product_sql_never_reads_the_database_servers_clock() -> None:
    """``now()``/``CURRENT_DATE`` in SQL would be the server's time, not the application's:
    a different clock from ``timezone.now()`` under the frozen runs (and on a server whose
    clock drifts). Pass the time as a parameter instead."""
    pattern = re.compile(
        r"(?<![\w.])now\(\)|\bcurrent_(date|timestamp)\b(?!\")|\blocaltimestamp\b|"
        r"\bclock_timestamp\(|\bstatement_timestamp\(",
        re.IGNORECASE,
    )
    offenders = []
    for top in PRODUCT:
        for path in (ROOT / top).rglob("*.py"):
            parts = set(path.relative_to(ROOT).parts)
            if parts & {"tests", "migrations"} or path.name == "validators.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line) and "timezone.now()" not in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
