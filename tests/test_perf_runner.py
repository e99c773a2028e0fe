"""The benchmark runner finds the benchmarks and judges their BENCH lines."""

from __future__ import annotations

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
