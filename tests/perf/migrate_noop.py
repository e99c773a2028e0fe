"""``migrate_agencies`` over 200 agency schemas with nothing to apply (the operator's command)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.perf.common import (
    ROOT,
    bench_line,
    create_agency,
    detail,
    prepare_database,
    setup_django,
    size,
)

AGENCIES = size(200, 5)


def _command(*args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate_agencies", *args],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"migrate_agencies failed:\n{done.stdout}\n{done.stderr}")
    detail(f"migrate_agencies {' '.join(args)}: {done.stdout.strip().splitlines()[-1]}")
    return seconds


def run() -> None:
    setup_django("migrate_noop")
    prepare_database()
    started = time.perf_counter()
    for i in range(AGENCIES):
        create_agency(f"xa-so-{i:03d}")
    detail(f"created {AGENCIES} agencies by cloning in {time.perf_counter() - started:.1f} s")
    plain = _command()
    verify = _command("--verify")
    detail(f"whole command incl. Django start-up and the public schema: {plain:.2f} s")
    detail(f"with --verify (reads every schema's django_migrations): {verify:.2f} s")
    bench_line("migrate_noop", plain, "s", "<=10")
    bench_line("migrate_noop_verify", verify, "s", "<=10")


if __name__ == "__main__":
    run()
