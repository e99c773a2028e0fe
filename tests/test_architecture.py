"""The shape of the code: the rules of the import graph and the dossier lifecycle's one home.

``tools/import_graph.py`` reads the source (``ast``); these tests fail when a change breaks
a rule, naming the line that does.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _graph_module() -> Any:
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "tools/import_graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_graph"] = module
    spec.loader.exec_module(module)
    return module


GRAPH = _graph_module()


def test_no_app_uses_another_apps_underscore_names() -> None:
    assert GRAPH.private_names(GRAPH.scan()) == []


def test_the_underscore_rule_catches_both_spellings(tmp_path, monkeypatch) -> None:
    """``from desk.services import _lock`` and ``desk._lock`` after ``from desk import
    services as desk`` are both caught (the rule would fail without the fix of issue 11)."""
    for app in ("alpha", "beta"):
        (tmp_path / "platform" / app).mkdir(parents=True)
        (tmp_path / "platform" / app / "__init__.py").write_text("")
    (tmp_path / "platform/beta/services.py").write_text("def _lock(): pass\n")
    (tmp_path / "platform/alpha/one.py").write_text("from beta.services import _lock\n")
    (tmp_path / "platform/alpha/two.py").write_text(
        "from beta import services as beta\n\ndef f():\n    return beta._lock()\n"
    )
    monkeypatch.setattr(GRAPH, "ROOT", tmp_path)
    found = GRAPH.private_names(GRAPH.scan())
    assert found == ["alpha.one:1 -> beta.services._lock", "alpha.two:4 -> beta.services._lock"]


ABOVE_THE_LIFECYCLE = (
    "desk", "portal", "api", "exchange", "register", "results", "agencyadmin", "reorg", "copies",
    "onboarding", "console", "config",
)  # fmt: skip


def test_the_lifecycle_sits_below_the_apps_that_call_it() -> None:
    """The lifecycle imports no module of the apps above it (the desk included: the records it
    writes and the read-only engine live in the dossiers app), at module level or inside a
    function."""
    bad = [
        f"{i.module}:{i.line} imports {i.target}"
        for i in GRAPH.scan().imports
        if i.module.startswith("lifecycle")
        and (
            i.target_app in ABOVE_THE_LIFECYCLE
            or (i.target == "lifecycle.submit" and i.module != "lifecycle.submit")
        )
    ]
    assert bad == []


# The bottom of the graph, lowest first: each may import only those before it (issue 11).
LOWER_APPS = ("core", "tenants", "audit", "accounts", "workdays", "catalog")


def test_the_lower_apps_import_only_lower_ones() -> None:
    """``core`` imports no app of ours; ``tenants`` only ``core``; and so on up the list: an
    import from a lower app into a higher one (at module level or inside a function) fails,
    naming its line."""
    rank = {app: n for n, app in enumerate(LOWER_APPS)}
    bad = [
        f"{i.module}:{i.line} imports {i.target}"
        for i in GRAPH.scan().imports
        if i.app in rank
        and i.target_app != i.app
        and not i.type_checking
        and rank.get(i.target_app, len(LOWER_APPS)) > rank[i.app]
    ]
    assert bad == []


def test_the_lower_apps_are_in_no_cycle() -> None:
    cycles = GRAPH.scan().cycles()
    assert [sorted(set(c) & set(LOWER_APPS)) for c in cycles if set(c) & set(LOWER_APPS)] == []


def test_the_apps_import_each_other_in_no_cycle() -> None:
    """Module-level imports between apps form no cycle (issue 11, point 4)."""
    assert GRAPH.scan().cycles() == []


def test_no_import_inside_a_function_hides_a_cycle() -> None:
    """An import inside a function would close no cycle either if it were at module level:
    none is there to dodge one (an app above is reached through settings instead, e.g.
    ``BILLING_WEBHOOK_HANDLERS``)."""
    graph = GRAPH.scan()
    edges = graph.edges()

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            app = todo.pop()
            if app == goal:
                return True
            if app not in seen:
                seen.add(app)
                todo.extend(edges.get(app, ()))
        return False

    hiding = [
        f"{i.module}:{i.line} imports {i.target}"
        for i in graph.cross_app(function_level=True)
        if reaches(i.target_app, i.app)
    ]
    assert hiding == []


def test_the_cycle_rule_catches_a_cycle(tmp_path, monkeypatch) -> None:
    """The rule itself: two apps importing each other are one cycle."""
    for name, other in (("alpha", "beta"), ("beta", "alpha")):
        (tmp_path / f"platform/{name}").mkdir(parents=True)
        (tmp_path / f"platform/{name}/__init__.py").write_text("")
        (tmp_path / f"platform/{name}/services.py").write_text(f"from {other} import services\n")
    monkeypatch.setattr(GRAPH, "ROOT", tmp_path)
    assert [sorted(c) for c in GRAPH.scan().cycles()] == [["alpha", "beta"]]


LIFECYCLE_ROWS = {"DossierEvent", "HandOver", "Apology"}


def _manager_model(node: ast.expr) -> str | None:
    """``Apology`` for ``Apology.objects.filter(...).select_for_update()`` and the like."""
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Attribute) and node.attr == "objects":
            return node.value.id if isinstance(node.value, ast.Name) else None
        node = node.func if isinstance(node, ast.Call) else node.value
    return None


def _writes(path: Path, root: Path = ROOT) -> list[str]:
    """Assignments to ``<x>.status`` of a dossier; creations and updates of the lifecycle's
    rows through their manager; SQL inserting into their tables."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            model = _manager_model(node.func.value)
            if node.func.attr in {"create", "bulk_create", "update", "delete"} and (
                model in LIFECYCLE_ROWS
            ):
                found.append(f"{path.relative_to(root)}:{node.lineno} {model}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            sql = node.value.upper()
            if "INSERT INTO {APOLOGY_T}" in sql or "INSERT INTO NOTIFICATIONS_APOLOGY" in sql:
                found.append(f"{path.relative_to(root)}:{node.lineno} SQL Apology")
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "status"
                    and isinstance(target.value, ast.Name)
                    and target.value.id in {"d", "dossier", "fresh"}
                ):
                    found.append(f"{path.relative_to(root)}:{node.lineno} dossier.status")
    return found


def test_only_the_lifecycle_writes_status_events_trail_and_form_04() -> None:
    writers = []
    for path in sorted((ROOT / "platform").rglob("*.py")):
        parts = path.relative_to(ROOT / "platform").parts
        if "tests" in parts or "migrations" in parts or parts[0] == "lifecycle":
            continue
        writers += _writes(path)
    assert writers == []


def test_the_write_rule_sees_updates_and_sql(tmp_path) -> None:
    """What the rule would have missed before: an update through a filtered manager (the
    notifications outbox marking Form 04 sent) and the deadline job's SQL insert of drafts."""
    path = tmp_path / "x.py"
    path.write_text(
        "Apology.objects.filter(dossier_id=1).update(status='sent')\n"
        "SQL = 'WITH ins AS (INSERT INTO {apology_t} (dossier_id) SELECT 1)'\n"
    )
    found = [w.split(" ", 1)[1] for w in _writes(path, tmp_path)]
    assert found == ["Apology", "SQL Apology"]


def test_the_lifecycles_side_effects_hang_off_no_signal() -> None:
    """Usage ledger, statistics, notifications, national-portal outbox and audit are called
    by ``lifecycle.effects``; none of those apps listens to a model signal."""
    for app in ("billing", "reports", "notifications", "nationalsync", "audit"):
        base = ROOT / "billing" if app == "billing" else ROOT / "platform" / app
        for path in sorted(base.rglob("*.py")):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            assert ".connect(" not in text or "signals" not in text, path
