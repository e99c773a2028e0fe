"""``dev.py test`` shares the whole suite between parts that run side by side."""

from __future__ import annotations

import dev


def test_every_file_runs_once_and_the_parts_take_about_as_long() -> None:
    seconds = {f"tests/test_{i}.py": float(i) for i in range(1, 21)}
    plan = dev.plan_parts(sorted(seconds), seconds, 2)
    assert sorted(f for part in plan for f in part) == sorted(seconds)
    loads = [sum(seconds[f] for f in part) for part in plan]
    assert abs(loads[0] - loads[1]) <= 1.0  # 210 s in all: 105 each, or as near as files allow


def test_the_browser_tests_stay_in_one_part() -> None:
    files = [f"tests/browser/test_{i}.py" for i in range(6)] + [
        f"platform/app{i}/tests/test_x.py" for i in range(6)
    ]
    seconds = dict.fromkeys(files, 10.0)
    plan = dev.plan_parts(files, seconds, 2)
    with_browser = [part for part in plan if any(f.startswith("tests/browser/") for f in part)]
    assert len(with_browser) == 1
    assert all(f in with_browser[0] for f in files if f.startswith("tests/browser/"))


def test_a_file_never_timed_counts_as_an_average_one() -> None:
    seconds = {"a/test_a.py": 100.0, "b/test_b.py": 100.0}
    plan = dev.plan_parts(["a/test_a.py", "b/test_b.py", "c/test_new.py"], seconds, 2)
    assert sorted(len(part) for part in plan) == [1, 2]
    assert "c/test_new.py" in [f for part in plan for f in part]


def test_fewer_files_than_parts_leaves_no_empty_part() -> None:
    assert dev.plan_parts(["a/test_a.py"], {}, 2) == [["a/test_a.py"]]
