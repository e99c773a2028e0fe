"""What the usage ledger adds to a dossier submission (issue 6): goal ≤ 10 %.

The same online submission (one small PDF per component) runs alternately with the ledger
writes on and with ``usage_record`` swapped for a no-op in this process only; the overhead is
(median with − median without) / median without, over 300 submissions each.
"""

from __future__ import annotations

from tests.perf.common import (
    bench_line,
    detail,
    prepare_database,
    setup_django,
    submission_overhead,
)


def run() -> None:
    setup_django("ledger_overhead")
    prepare_database()
    import lifecycle.effects as lifecycle_effects  # where the lifecycle calls it

    with_ledger, without = submission_overhead(lifecycle_effects, "usage_record")
    detail(
        f"submission {with_ledger * 1000:.1f} ms with the ledger, {without * 1000:.1f} ms without"
    )
    bench_line("ledger_overhead", (with_ledger - without) / without * 100, "%", "<=10")


if __name__ == "__main__":
    run()
