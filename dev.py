#!/usr/bin/env python3
"""Set up and run MotCua Cloud on a machine that has only Python 3.11+.

    python3 dev.py up      # set up, then run web + Celery worker with a demo province
    python3 dev.py test    # set up, then run the whole test suite
    python3 dev.py check   # ruff, mypy, makemigrations --check, translations
    python3 dev.py bench   # run the benchmarks (prints BENCH lines)
    python3 dev.py lock    # re-resolve requirements.lock from pyproject.toml
    python3 dev.py stop    # stop the embedded PostgreSQL and Redis under var/
    python3 dev.py totp EMAIL  # the second-factor code of a demo staff account, now

Only the standard library is used here: this file runs before the virtual
environment exists. With DATABASE_URL / REDIS_URL set, those servers are used;
without them the settings start an embedded PostgreSQL and Redis under var/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VAR = ROOT / "var"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".motcua-installed"
BIN = VENV / "bin"
PY = BIN / "python"
CHROMIUM = Path("/usr/bin/chromium")
ACCESS_LOG = VAR / "log" / "web-access.log"


def log(msg: str) -> None:
    print(f"\033[1m[dev]\033[0m {msg}", flush=True)


def run(cmd: list[str | Path], **kw: object) -> None:
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kw)  # type: ignore[call-overload]


def run_quiet(cmd: list[str | Path]) -> None:
    """Run a noisy step; show its output only if it fails."""
    out = subprocess.run([str(c) for c in cmd], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stdout, out.stderr, sep="\n")
        raise SystemExit(f"failed: {' '.join(str(c) for c in cmd)}")


def ensure_python() -> None:
    if sys.version_info < (3, 11):
        sys.exit("MotCua Cloud needs Python 3.11 or newer; this is " + sys.version.split()[0])


def install_fingerprint() -> str:
    h = hashlib.sha256()
    for f in (ROOT / "pyproject.toml", LOCK):
        h.update(f.read_bytes())
    h.update(sys.version.encode())
    # The editable install maps each top-level package to its folder: a new app
    # folder (here or under platform/) needs a reinstall, so it changes the fingerprint.
    for root in (ROOT, ROOT / "platform"):
        for init in sorted(root.glob("*/__init__.py")):
            h.update(str(init.relative_to(ROOT)).encode())
    return h.hexdigest()


def ensure_venv() -> None:
    """Create .venv and install the locked dependencies, once per lock change."""
    ensure_python()
    if not PY.exists():
        log(f"creating virtual environment in {VENV.relative_to(ROOT)}/")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    fingerprint = install_fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    log("installing dependencies (requirements.lock) ...")
    pip: list[str | Path] = [PY, "-m", "pip", "--disable-pip-version-check", "-q"]
    run_quiet([*pip, "install", "-c", LOCK, "--upgrade", "pip", "setuptools", "wheel"])
    run_quiet([*pip, "install", "-c", LOCK, "-e", ".[dev]"])
    STAMP.write_text(fingerprint)


def venv_env(settings: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = settings
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def manage(args: list[str], settings: str) -> None:
    run([PY, "manage.py", *args], env=venv_env(settings))


def ensure_chromium() -> None:
    """The browser tests drive Debian's chromium; Playwright's own download cannot work here."""
    if CHROMIUM.exists() or os.environ.get("PLAYWRIGHT_CHROMIUM"):
        return
    apt = shutil.which("apt-get")
    if apt and os.geteuid() == 0:
        log("installing Debian's chromium for the browser tests ...")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for attempt in (
            (apt, "install", "-y", "-q", "chromium"),
            (apt, "update", "-q"),
            (apt, "install", "-y", "-q", "chromium"),
        ):
            result = subprocess.run(attempt, env=env, capture_output=True, text=True)
            if attempt[1] == "install" and result.returncode == 0:
                return
    if not CHROMIUM.exists():
        log(
            "chromium is not installed and could not be installed: browser tests will FAIL. "
            "Install Debian's 'chromium' package or set PLAYWRIGHT_CHROMIUM=/path/to/chrome."
        )


def embedded(action: str, settings: str) -> str:
    out = subprocess.run(
        [str(PY), "-m", "config.embedded", action],
        cwd=ROOT,
        env=venv_env(settings),
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip()


def cmd_up(args: argparse.Namespace) -> int:
    ensure_venv()
    settings = "config.settings.local"
    started = time.monotonic()
    manage(["setup_local", "--demo", "--port", str(args.port)], settings)
    log(f"set up in {time.monotonic() - started:.1f} s")
    ACCESS_LOG.parent.mkdir(parents=True, exist_ok=True)
    env = venv_env(settings)
    bind = f"0.0.0.0:{args.port}"
    procs = {
        "web": subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "config.wsgi",
                "--bind",
                bind,
                "--workers",
                str(args.workers),
                "--threads",
                "4",
                # The terminal is the worker's (and errors'); requests go to a file.
                "--access-logfile",
                str(ACCESS_LOG),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        ),
        "worker": subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "config.celery_app",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "-Q",
                "celery,provisioning",
                "--beat",  # one process runs the daily/monthly schedule in development
                "--schedule",
                str(VAR / "celerybeat-schedule"),
            ],
            cwd=ROOT,
            env=env,
        ),
    }
    try:
        manage(["print_urls", "--port", str(args.port)], settings)
    except subprocess.CalledProcessError:
        log("could not list the URLs; the web and the worker keep running.")
    log(
        "web and worker are running; press Ctrl-C to stop. This terminal shows the worker's "
        f"log; the web's requests are in {ACCESS_LOG.relative_to(ROOT)}."
    )

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    rc = 0
    while not stopping:
        for name, p in procs.items():
            if p.poll() is not None:
                log(f"{name} exited with code {p.returncode}; stopping.")
                rc = p.returncode or 1
                stopping = True
        time.sleep(0.5)
    for p in procs.values():
        if p.poll() is None:
            p.terminate()
    for p in procs.values():
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
    return rc


# The date-boundary runs: the date-sensitive tests under a frozen, ticking clock
# (config/testclock.py), each instant chosen for the boundary it sits on.
CLOCK_MATRIX = {
    "first-of-month": "2027-03-01T07:15:00+07:00",  # the 1st; in UTC still 28 February
    "last-of-month": "2027-04-30T16:45:00+07:00",  # the 30/4 holiday, after the cut-off hour
    "leap-day": "2028-02-29T10:00:00+07:00",
    # the run crosses midnight into 2027: 31 December, then the 1 January holiday (in UTC still
    # the old year); six instants run as three pairs on two cores
    "new-year-eve": "2026-12-31T23:58:30+07:00",
    "tet": "2027-02-08T09:00:00+07:00",  # a Monday inside the Tết holiday
    "sunday": "2026-12-06T10:00:00+07:00",
}
DATE_SENSITIVE_TESTS = [
    "billing",
    "platform/desk",  # deadlines, Form 04, worklists by due date
    "platform/dossiers",  # due dates and codes at submission
    "platform/reports",  # statistics and the scorecard
    "platform/workdays",
    "platform/notifications",
    "platform/register",  # the register by period
]


def cmd_test(args: argparse.Namespace) -> int:
    ensure_venv()
    settings = "config.settings.test"
    was_running = embedded("status", settings)
    env = venv_env(settings)
    try:
        if args.clock_matrix:
            return run_clock_matrix(env, args.pytest_args)
        if args.clock:
            env["MOTCUA_TEST_CLOCK"] = CLOCK_MATRIX.get(args.clock, args.clock)
            pytest_args = args.pytest_args or [*DATE_SENSITIVE_TESTS, "-m", "not browser", "-q"]
        else:
            ensure_chromium()
            pytest_args = args.pytest_args
            if not pytest_args and args.parts > 1:
                return run_parts(env, args.parts)
        return subprocess.run([str(PY), "-m", "pytest", *pytest_args], cwd=ROOT, env=env).returncode
    finally:
        if "running" not in was_running and not args.keep_services:
            embedded("stop", settings)


TEST_PATHS = ["tests", "tenants", "platform", "onboarding", "billing"]  # pyproject's testpaths
SEED_DURATIONS = ROOT / "tests" / "durations.json"  # seconds per test file, for a fresh clone
DURATIONS = VAR / "test-durations.json"  # the same, from the last run here


def plan_parts(files: list[str], seconds: dict[str, float], parts: int) -> list[list[str]]:
    """Share the test files between ``parts`` runs so they take about as long: the longest
    first, each to the part with the least so far. The browser tests stay in one part (one
    Chromium, one axe-core install); a file never timed counts as an average one."""
    known = [seconds[f] for f in files if f in seconds]
    default = sum(known) / len(known) if known else 1.0
    groups: dict[str, list[str]] = {}
    for f in files:
        groups.setdefault("tests/browser" if f.startswith("tests/browser/") else f, []).append(f)
    weight = {g: sum(seconds.get(f, default) for f in members) for g, members in groups.items()}
    plan: list[list[str]] = [[] for _ in range(parts)]
    load = [0.0] * parts
    for group in sorted(groups, key=lambda g: (-weight[g], g)):
        least = load.index(min(load))
        plan[least].extend(groups[group])
        load[least] += weight[group]
    return [sorted(p) for p in plan if p]


def run_parts(env: dict[str, str], parts: int) -> int:
    """The whole suite as ``parts`` runs side by side (each its own shard: test database,
    Redis databases, files), planned from the last run's time per file; afterwards the
    lifecycle table's coverage is checked over all of them (tests/fixtures/lifecycle.py)."""
    files = sorted(
        str(f.relative_to(ROOT))
        for top in TEST_PATHS
        for f in (ROOT / top).rglob("test_*.py")
        if ".venv" not in f.parts
    )
    source = DURATIONS if DURATIONS.exists() else SEED_DURATIONS
    seconds = json.loads(source.read_text()) if source.exists() else {}
    plan = plan_parts(files, seconds, parts)
    logs = VAR / "test-logs"
    logs.mkdir(parents=True, exist_ok=True)
    for stale in [*logs.glob("lifecycle-seen-*.txt"), *logs.glob("durations-*.json")]:
        stale.unlink()
    procs: dict[int, tuple[subprocess.Popen[bytes], float]] = {}
    for shard, members in enumerate(plan, start=1):
        guess = sum(seconds.get(f, 0.0) for f in members)
        log(f"part {shard}/{len(plan)}: {len(members)} test files (about {guess:.0f} s last time)")
        with (logs / f"part-{shard}.log").open("wb") as out:
            procs[shard] = (
                subprocess.Popen(
                    [str(PY), "-m", "pytest", "-p", "no:cacheprovider", *members],
                    cwd=ROOT,
                    env=dict(env, MOTCUA_TEST_SHARD=str(shard), MOTCUA_TEST_PART=str(shard)),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                ),
                time.monotonic(),
            )
    rcs: dict[int, int] = {}
    while len(rcs) < len(procs):
        for shard, (proc, started) in procs.items():
            if shard in rcs or proc.poll() is None:
                continue
            rcs[shard] = proc.returncode
            tail = (logs / f"part-{shard}.log").read_text(errors="replace").splitlines()
            summary = next(
                (ln for ln in reversed(tail) if re.search(r"\d+ (passed|failed|error)", ln)), ""
            )
            took = time.monotonic() - started
            outcome = summary.strip("= ") or f"exit {proc.returncode}"
            log(f"part {shard}: {outcome} ({took:.0f} s)")
            if proc.returncode != 0:
                start = next((i for i, ln in enumerate(tail) if "= FAILURES =" in ln), -200)
                print("\n".join(tail[max(start, -400) :]), flush=True)
        time.sleep(0.5)
    merged = dict(seconds)
    for shard, rc in rcs.items():  # a failed part's times may be a hang's: not kept
        part = logs / f"durations-{shard}.json"
        if rc == 0 and part.exists():
            merged.update(json.loads(part.read_text()))
    DURATIONS.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n")
    seen = sorted(str(f) for f in logs.glob("lifecycle-seen-*.txt"))
    coverage = 0
    if len(seen) == len(plan) and all(rc == 0 for rc in rcs.values()):
        coverage = subprocess.run(
            [str(PY), "-m", "tests.fixtures.lifecycle", *seen], cwd=ROOT, env=env
        ).returncode
    log(f"logs: {logs.relative_to(ROOT)}/part-*.log")
    return 0 if coverage == 0 and all(rc == 0 for rc in rcs.values()) else 1


def run_clock_matrix(env: dict[str, str], extra: list[str], parallel: int = 2) -> int:
    """The date-sensitive tests once per boundary instant, ``parallel`` runs at a time (each
    its own shard: test database, Redis databases, files); a summary at the end."""
    logs = VAR / "test-logs" / "clock-matrix"
    logs.mkdir(parents=True, exist_ok=True)
    pending = list(CLOCK_MATRIX.items())
    running: dict[int, tuple[str, str, subprocess.Popen[bytes], float]] = {}
    outcomes: list[tuple[str, str, int, float]] = []
    while pending or running:
        for shard in range(1, parallel + 1):
            if shard not in running and pending:
                name, when = pending.pop(0)
                log(f"date-sensitive tests with the clock at {when} ({name}), shard {shard}")
                with (logs / f"{name}.log").open("wb") as out:
                    proc = subprocess.Popen(
                        [
                            str(PY), "-m", "pytest", *DATE_SENSITIVE_TESTS,
                            "-m", "not browser", "-q", "-p", "no:cacheprovider", *extra,
                        ],
                        cwd=ROOT,
                        env=dict(env, MOTCUA_TEST_CLOCK=when, MOTCUA_TEST_SHARD=str(shard)),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )  # fmt: skip
                running[shard] = (name, when, proc, time.monotonic())
        for shard, (name, when, proc, started) in list(running.items()):
            if proc.poll() is not None:
                del running[shard]
                seconds = time.monotonic() - started
                outcomes.append((name, when, proc.returncode, seconds))
                tail = (logs / f"{name}.log").read_text(errors="replace").splitlines()
                summary = next(
                    (ln for ln in reversed(tail) if re.search(r"\d+ (passed|failed|error)", ln)), ""
                )
                log(f"{name}: {summary.strip('= ') or 'exit ' + str(proc.returncode)}")
                if proc.returncode != 0:
                    print("\n".join(tail[-60:]), flush=True)
        time.sleep(0.5)
    for name, when, rc, seconds in outcomes:
        log(f"{'ok    ' if rc == 0 else 'FAILED'} {name:15} {when}  {seconds:5.0f} s")
    log(f"logs: {logs.relative_to(ROOT)}/")
    return 0 if all(rc == 0 for _, _, rc, _ in outcomes) else 1


def cmd_check(_: argparse.Namespace) -> int:
    ensure_venv()
    env = venv_env("config.settings.test")
    steps = [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy", "."],
        ["python", "manage.py", "makemigrations", "--check", "--dry-run"],
        ["python", "manage.py", "check_translations"],
    ]
    failed = []
    for step in steps:
        log("$ " + " ".join(step))
        exe = str(BIN / step[0])
        if subprocess.run([exe, *step[1:]], cwd=ROOT, env=env).returncode != 0:
            failed.append(" ".join(step))
    if failed:
        log("FAILED: " + "; ".join(failed))
        return 1
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    ensure_venv()
    env = venv_env("config.settings.bench")
    quick = ["--quick"] if args.quick else []
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []  # the runner's default otherwise
    cmd = [str(PY), "-m", "tests.perf", *quick, *jobs, *args.names]
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


def cmd_lock(_: argparse.Namespace) -> int:
    ensure_python()
    tmp = VAR / "lock-venv"
    shutil.rmtree(tmp, ignore_errors=True)
    venv.EnvBuilder(with_pip=True).create(tmp)
    pip: list[str | Path] = [
        tmp / "bin" / "python",
        "-m",
        "pip",
        "--disable-pip-version-check",
        "-q",
    ]
    run([*pip, "install", "--upgrade", "pip", "setuptools", "wheel"])
    run([*pip, "install", ".[dev]"])
    frozen = subprocess.run(
        [str(tmp / "bin" / "python"), "-m", "pip", "freeze", "--exclude-editable", "--all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [ln for ln in frozen.splitlines() if ln and not ln.lower().startswith("motcua-cloud")]
    header = "# Pinned versions for reproducible installs. Regenerate: python3 dev.py lock\n"
    LOCK.write_text(header + "\n".join(sorted(lines, key=str.lower)) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(ROOT / "build", ignore_errors=True)  # left by the non-editable install
    log(f"wrote {LOCK.name} ({len(lines)} packages)")
    return 0


def cmd_totp(args: argparse.Namespace) -> int:
    ensure_venv()
    extra = ["--secret"] if args.secret else []
    cmd = [str(PY), "manage.py", "demo_totp", args.email, *extra]
    return subprocess.run(cmd, cwd=ROOT, env=venv_env("config.settings.local")).returncode


def cmd_stop(_: argparse.Namespace) -> int:
    ensure_venv()
    for settings in ("config.settings.local", "config.settings.test", "config.settings.bench"):
        print(embedded("stop", settings))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="set up and run web + worker with a demo province")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--workers", type=int, default=2)
    up.set_defaults(func=cmd_up)
    test = sub.add_parser("test", help="set up and run the whole test suite")
    test.add_argument(
        "--keep-services",
        action="store_true",
        help="leave the embedded PostgreSQL/Redis running afterwards",
    )
    test.add_argument(
        "--clock",
        metavar="WHEN",
        help="run under a frozen, ticking clock: an ISO instant with offset, or one of "
        + ", ".join(CLOCK_MATRIX)
        + " (without test paths: the date-sensitive tests)",
    )
    test.add_argument(
        "--clock-matrix",
        action="store_true",
        help="run the date-sensitive tests once at every boundary instant (what CI runs)",
    )
    test.add_argument(
        "--parts",
        type=int,
        default=2,
        metavar="N",
        help="run the whole suite as N runs side by side (default 2; 1: one run, in order)",
    )
    test.set_defaults(func=cmd_test)
    sub.add_parser("check", help="lint, types, migrations, translations").set_defaults(
        func=cmd_check
    )
    bench = sub.add_parser("bench", help="run benchmarks")
    bench.add_argument("names", nargs="*")
    bench.add_argument(
        "--quick", action="store_true", help="every benchmark on small data (CI: they all run)"
    )
    bench.add_argument(
        "--jobs",
        type=int,
        default=0,
        help="benchmarks at once (default 1; 2 with --quick, whose figures are contended anyway)",
    )
    bench.set_defaults(func=cmd_bench)
    sub.add_parser("lock", help="re-resolve requirements.lock").set_defaults(func=cmd_lock)
    sub.add_parser("stop", help="stop embedded services").set_defaults(func=cmd_stop)
    totp = sub.add_parser("totp", help="the current second-factor code of a demo account")
    totp.add_argument("email")
    totp.add_argument("--secret", action="store_true", help="also print the TOTP secret")
    totp.set_defaults(func=cmd_totp)
    args, extra = parser.parse_known_args()
    if extra and args.command != "test":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = extra  # everything else goes to pytest
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
