"""Benchmark: the primary killed under sustained API submissions; Patroni promotes the
synchronous standby: ≤ 30 s without a successful submission, 0 acknowledged dossiers lost.
The proof itself is tests/ops/failover.py.

    python3 dev.py bench failover
"""

from __future__ import annotations


def run() -> None:
    import os

    from tests.perf.common import QUICK

    if QUICK:  # small data; the same servers and steps
        for name, value in {
            "MOTCUA_FAILOVER_BEFORE": "3",
            "MOTCUA_FAILOVER_AFTER": "20",
            "MOTCUA_FAILOVER_CLIENTS": "2",
            "MOTCUA_FAILOVER_AFTER_RECOVERY": "4",
        }.items():
            os.environ.setdefault(name, value)
    from tests.ops.failover import run as prove

    prove()


if __name__ == "__main__":
    run()
