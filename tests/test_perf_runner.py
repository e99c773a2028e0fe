"""The benchmark runner finds the benchmarks and judges their BENCH lines."""

from __future__ import annotations

import pytest

from tests.perf.__main__ import BENCH_RE, Result, discover


def parse(line: str) -> Result:
    match = BENCH_RE.match(line)
    assert match, line
    name, value, unit, op, goal = match.groups()
    return Result(name, float(value), unit, op or "", float(goal or "nan"))


def test_benchmarks_are_discovered_and_helpers_are_not() -> None:
    names = discover()
    assert {"provisioning", "routing", "migrate_noop", "portal"} <= set(names)
    assert not {"common", "loadgen", "wsgi_routing", "__main__"} & set(names)


def test_goals_are_judged_and_goal_none_is_only_reported() -> None:
    assert parse("BENCH provisioning_clone 0.04 s goal=<=1").met
    assert not parse("BENCH provisioning_ratio 0.3 ratio goal=<=0.25").met
    assert parse("BENCH routing 0.95 ratio goal=>=0.9").met
    assert not parse("BENCH portal_tracking_ratio 0.1 ratio goal=>=0.6").met
    reported = parse("BENCH portal_detail_p99 12.5 ms goal=none")
    assert reported.met and reported.op == ""
    assert BENCH_RE.match("BENCH broken") is None


def _sizes_in_a_fresh_process(quick: bool) -> list[str]:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "BENCH_QUICK"}
    if quick:
        env["BENCH_QUICK"] = "1"
    code = (
        "from tests.perf import deadline_job, invoicing, stats_dashboard, worklist;"
        "print(deadline_job.AGENCIES, deadline_job.DOSSIERS, invoicing.AGENCIES,"
        " stats_dashboard.ALL_AGENCIES, worklist.DOSSIERS)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.split()


def test_quick_mode_runs_every_benchmark_on_small_data_and_full_mode_is_unchanged() -> None:
    assert _sizes_in_a_fresh_process(quick=False) == ["200", "5000", "4000", "4000", "50000"]
    quick = [int(n) for n in _sizes_in_a_fresh_process(quick=True)]
    assert quick == [10, 300, 100, 20, 6000]


def test_a_crashing_benchmark_fails_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """A missed goal is only reported; a benchmark that crashes makes the exit status 1."""
    import sys

    from tests.perf import __main__ as runner

    monkeypatch.setenv("BENCH_QUICK", "0")  # --quick sets it: undone after the test
    monkeypatch.setattr(runner, "discover", lambda: ["crashes", "misses"])

    def fake_run_one(name: str, stream: bool = True) -> tuple[int, list[Result], float]:
        if name == "crashes":
            return 1, [], 0.1
        return 0, [parse("BENCH misses 0.1 ratio goal=>=0.9")], 0.1

    monkeypatch.setattr(runner, "run_one", fake_run_one)
    monkeypatch.setattr(sys, "argv", ["tests.perf", "misses"])
    assert runner.main() == 0
    monkeypatch.setattr(sys, "argv", ["tests.perf", "--quick"])
    assert runner.main() == 1


def test_jobs_run_benchmarks_at_once_and_a_crash_still_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys
    import threading

    from tests.perf import __main__ as runner

    monkeypatch.setenv("BENCH_QUICK", "0")
    monkeypatch.setattr(runner, "discover", lambda: ["a", "b", "crashes"])
    both = threading.Barrier(2, timeout=5)  # "a" and "b" must be running at the same time

    def fake_run_one(name: str, stream: bool = True) -> tuple[int, list[Result], float]:
        assert not stream
        if name == "crashes":
            return 1, [], 0.1
        both.wait()
        return 0, [parse(f"BENCH {name} 1 s goal=<=2")], 0.1

    monkeypatch.setattr(runner, "run_one", fake_run_one)
    monkeypatch.setattr(sys, "argv", ["tests.perf", "--jobs", "2", "a", "b"])
    assert runner.main() == 0
    monkeypatch.setattr(sys, "argv", ["tests.perf", "--jobs", "2"])
    assert runner.main() == 1
    out = capsys.readouterr().out
    assert "benchmarks that failed to run: crashes" in out
    assert "figures contended" in out


def test_what_the_overhead_benchmarks_swap_out_is_what_the_submission_calls() -> None:
    """ledger_overhead and stats_dashboard swap a function of the module the submission calls
    it from for a no-op; after the lifecycle moved those calls, they crashed (AttributeError)."""
    import importlib
    import re
    from pathlib import Path

    calls = []
    for name in ("ledger_overhead", "stats_dashboard"):
        source = (Path(__file__).parent / "perf" / f"{name}.py").read_text()
        imported = {a: m for m, a in re.findall(r"import ([\w.]+) as (\w+)", source)}
        for alias, attribute in re.findall(r'submission_overhead\((\w+), "(\w+)"', source):
            calls.append((imported[alias], attribute))
    assert len(calls) == 2
    for module, attribute in calls:
        assert callable(getattr(importlib.import_module(module), attribute)), (module, attribute)


def test_a_mix_spreads_the_load_over_its_hosts_and_paths_with_its_headers() -> None:
    """The cold figures' clients go through every (host, path) pair, cache-bypass cookie on."""
    import http.server
    import threading

    from tests.perf.loadgen import interleaved

    seen: list[tuple[str, str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            seen.append((self.headers["Host"], self.path, self.headers.get("Cookie", "")))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    mix = [(f"xa-{i}.localhost", f"/thu-tuc/P-{i}/") for i in range(5)]
    try:
        results = interleaved(
            port=server.server_address[1], host="xa-an-binh.localhost",
            paths=["/ping/", "cold"], seconds_each=0.3, rounds=1, processes=1, connections=2,
            mixes={"cold": mix}, path_headers={"cold": {"Cookie": "messages=x"}},
        )  # fmt: skip
    finally:
        server.shutdown()
    assert results["cold"].requests > 0 and results["/ping/"].requests > 0
    assert {(h, p) for h, p, c in seen if c == "messages=x"} == set(mix)
    assert {(h, p, c) for h, p, c in seen if p == "/ping/"} == {
        ("xa-an-binh.localhost", "/ping/", "")
    }


def test_the_readme_table_is_made_from_one_runs_output() -> None:
    from tests.perf.__main__ import markdown_table

    output = "\n".join(
        [
            "== portal",
            "  detail: something",
            "BENCH portal_detail_cold_ratio 0.08 ratio goal=>=0.4",
            "BENCH portal_ping 600 req/s goal=none",
            "== portal: exit 0 in 104 s; load average 8.86 8.69 7.11",
            "== routing",
            "BENCH routing 0.95 ratio goal=>=0.9",
            "== summary",
            "  routing 0.95 ratio goal >=0.9 met",
            "2 benchmark(s) in 150 s; load average 9.00 8.00 7.00",
        ]
    )
    table = markdown_table(output)
    assert table.startswith("2 benchmark(s) in 150 s; load average 9.00 8.00 7.00\n")
    assert "| `portal` | `portal_detail_cold_ratio` | 0.08 ratio | >= 0.4 | missed |" in table
    assert "| `portal` | `portal_ping` | 600 req/s |  | reported |" in table
    assert "| `routing` | `routing` | 0.95 ratio | >= 0.9 | met |" in table
    assert sum(row.startswith("| `") for row in table.splitlines()) == 3
