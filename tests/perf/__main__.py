"""Run the benchmarks, each in its own process, and summarise their BENCH lines.

    python -m tests.perf                 # every benchmark
    python -m tests.perf routing portal  # just these

A benchmark is a module ``tests/perf/<name>.py`` with a ``run()`` function (and
runnable as ``python -m tests.perf.<name>``). It prints result lines
``BENCH <name> <value> <unit> goal=<op><number>`` (``goal=none``: reported
only). A missed goal is reported in the summary; the exit status is non-zero
only when a benchmark crashed or printed no result.

``--jobs N`` runs up to N benchmarks at once (each still in its own process and database),
printing each one's output whole when it ends. On this 2-core machine that makes their figures
contended: it is for ``--quick`` (which proves every benchmark runs, not figures, and runs
``QUICK_JOBS`` at once by default: the operations proofs mostly wait); a full run for the
README's figures keeps ``--jobs 1``, its default.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
HELPERS = {"__init__", "__main__", "common", "loadgen", "wsgi_routing"}
# Rough seconds of each benchmark with --quick (load average 2-5), to start the long ones first
# with --jobs; the others count as 10.
SLOW = {
    "failover": 65,
    "restore_agency": 60,
    "worklist": 30,
    "portal": 28,
    "onboard_country": 26,
    "routing": 21,
    "migrate_noop": 20,
    "api_submit": 16,
}
# --quick runs this many at once unless --jobs says otherwise: its figures only prove that every
# benchmark runs (and show gaps), and the operations proofs mostly wait (a promotion, a backup).
QUICK_JOBS = 4
BENCH_RE = re.compile(r"^BENCH (\S+) (\S+) (\S+) goal=(?:(<=|>=|<|>)(\S+)|none)\s*$")


@dataclass(frozen=True)
class Result:
    name: str
    value: float
    unit: str
    op: str  # "" when the figure is reported without a goal (goal=none)
    goal: float

    @property
    def met(self) -> bool:
        if not self.op:
            return True
        return {
            "<=": self.value <= self.goal,
            ">=": self.value >= self.goal,
            "<": self.value < self.goal,
            ">": self.value > self.goal,
        }[self.op]


def discover() -> list[str]:
    return sorted(
        path.stem
        for path in HERE.glob("*.py")
        if path.stem not in HELPERS
        and not path.stem.startswith("_")
        and re.search(r"^def run\(", path.read_text(), re.MULTILINE)
    )


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_one(name: str, stream: bool = True) -> tuple[int, list[Result], float]:
    """Run benchmark ``name`` in its own process; its output is printed as it comes
    (``stream``) or whole at its end, followed by its seconds and the load average."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", f"tests.perf.{name}"],
        stdout=subprocess.PIPE,
        stderr=None if stream else subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    results = []
    lines = [f"== {name}\n"] if not stream else []
    assert proc.stdout is not None
    for line in proc.stdout:
        if stream:
            print(line, end="", flush=True)
        else:
            lines.append(line)
        match = BENCH_RE.match(line.strip())
        if match:
            metric, value, unit, op, goal = match.groups()
            results.append(Result(metric, float(value), unit, op or "", float(goal or "nan")))
    code = proc.wait()
    seconds = time.monotonic() - started
    lines.append(f"== {name}: exit {code} in {seconds:.0f} s; load average {load_average()}\n")
    print("".join(lines), end="", flush=True)
    return code, results, seconds


def markdown_table(output: str) -> str:
    """The README's figures table from one run's output: every BENCH line as a row (which
    benchmark printed it, figure, goal, verdict), under the run's wall time and load average."""
    rows = ["| benchmark | figure | value | goal | |", "| --- | --- | --- | --- | --- |"]
    current = ""
    footer = ""
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("== ") and not line.startswith("== summary") and ":" not in line:
            current = line[3:]
        elif line.startswith("== ") and ": exit " in line:
            current = line[3:].split(":", 1)[0]
        elif re.match(r"^\d+ benchmark\(s\) in ", line):
            footer = line
        match = BENCH_RE.match(line)
        if match:
            metric, value, unit, op, goal = match.groups()
            r = Result(metric, float(value), unit, op or "", float(goal or "nan"))
            verdict = ("met" if r.met else "missed") if r.op else "reported"
            goal_text = f"{op} {goal}" if op else ""
            rows.append(f"| `{current}` | `{metric}` | {value} {unit} | {goal_text} | {verdict} |")
    return (f"{footer}\n\n" if footer else "") + "\n".join(rows) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small data, to prove every benchmark runs (CI); figures are not the README's",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=0,
        help=f"benchmarks run at once (default 1; {QUICK_JOBS} with --quick: figures contended)",
    )
    parser.add_argument(
        "--table-from",
        metavar="LOG",
        help="print the README's figures table from a run's saved output, and run nothing",
    )
    args = parser.parse_args()
    if args.table_from:
        print(markdown_table(Path(args.table_from).read_text()), end="")
        return 0
    if args.quick:
        os.environ["BENCH_QUICK"] = "1"
    started = time.monotonic()
    available = discover()
    unknown = [n for n in args.names if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    names = args.names or available
    crashed: list[str] = []
    summary: list[tuple[str, Result | None, str]] = []
    jobs = max(1, args.jobs or (QUICK_JOBS if args.quick else 1))
    if jobs == 1:
        outcomes = []
        for name in names:
            print(f"== {name}", flush=True)
            outcomes.append((name, *run_one(name)))
    else:
        # The longest first, so the others fill the remaining lane(s) around it.
        order = sorted(names, key=lambda n: -SLOW.get(n, 10))
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            runs = pool.map(lambda n: run_one(n, stream=False), order)
            done = dict(zip(order, runs, strict=True))
        outcomes = [(name, *done[name]) for name in names]
        print(f"({jobs} benchmarks at once: figures contended, not the README's)")
    for name, code, results, seconds in outcomes:
        if code != 0 or not results:
            crashed.append(name)
            summary.append((name, None, f"ERROR (exit {code}, {len(results)} results)"))
        for result in results:
            summary.append((name, result, f"{seconds:.0f}s"))
    print("\n== summary")
    for name, entry, note in summary:
        if entry is None:
            print(f"  {name:<14} {note}")
            continue
        goal = f"goal {entry.op}{entry.goal:g}" if entry.op else "(reported)"
        verdict = ("met" if entry.met else "MISSED") if entry.op else ""
        print(
            f"  {entry.name:<24} {entry.value:>10.4g} {entry.unit:<6} {goal}  {verdict:<6}"
            f"  [{name}: {note}]"
        )
    missed = [r.name for _n, r, _ in summary if r is not None and not r.met]
    if missed:
        print(f"goals missed: {', '.join(missed)}")
    load = load_average()
    print(f"{len(names)} benchmark(s) in {time.monotonic() - started:.0f} s; load average {load}")
    if crashed:
        print(f"benchmarks that failed to run: {', '.join(crashed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
