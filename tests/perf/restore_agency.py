"""Benchmark: one agency (20,000 dossiers) restored to a point in time with pgBackRest, the
others untouched: ≤ 5 min, 0 differences. The proof itself is tests/ops/backup_restore.py.

    python3 dev.py bench restore_agency
"""

from __future__ import annotations


def run() -> None:
    import os

    from tests.perf.common import QUICK

    if QUICK:  # small data; the same servers and steps
        for name, value in {
            "MOTCUA_RESTORE_DOSSIERS": "150",
            "MOTCUA_RESTORE_FILL_MB": "2",
        }.items():
            os.environ.setdefault(name, value)
    from tests.ops.backup_restore import run as prove

    prove()


if __name__ == "__main__":
    run()
