"""Benchmark: one agency (20,000 dossiers) restored to a point in time with pgBackRest, the
others untouched: ≤ 5 min, 0 differences. The proof itself is tests/ops/backup_restore.py.

    python3 dev.py bench restore_agency
"""

from __future__ import annotations


def run() -> None:
    from tests.ops.backup_restore import run as prove

    prove()


if __name__ == "__main__":
    run()
