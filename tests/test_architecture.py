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


ABOVE_THE_LIFECYCLE = ("portal", "api", "exchange", "register", "results", "agencyadmin")


def test_the_lifecycle_sits_below_the_apps_that_call_it() -> None:
    """The lifecycle imports no module of the apps above it, nor the desk's services and
    views (it uses the desk's models and read-only engine)."""
    bad = [
        f"{i.module}:{i.line} imports {i.target}"
        for i in GRAPH.scan().imports
        if i.module.startswith("dossiers.lifecycle")
        and (
            i.target_app in ABOVE_THE_LIFECYCLE
            or i.target.startswith(("desk.services", "desk.views", "desk.deadlines"))
            or i.target == "dossiers.services"
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


def _writes(path: Path) -> list[str]:
    """Assignments to ``<x>.status`` of a dossier and creations of the lifecycle's rows."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if (
                node.func.attr in {"create", "bulk_create"}
                and isinstance(owner, ast.Attribute)
                and owner.attr == "objects"
                and isinstance(owner.value, ast.Name)
                and owner.value.id in {"DossierEvent", "HandOver", "Apology"}
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {owner.value.id}")
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "status"
                    and isinstance(target.value, ast.Name)
                    and target.value.id in {"d", "dossier", "fresh"}
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} dossier.status")
    return found


def test_only_the_lifecycle_writes_status_events_trail_and_form_04() -> None:
    writers = []
    for path in sorted((ROOT / "platform").rglob("*.py")):
        parts = path.relative_to(ROOT / "platform").parts
        if "tests" in parts or "migrations" in parts or parts[:2] == ("dossiers", "lifecycle"):
            continue
        writers += _writes(path)
    # The deadline job inserts Form 04 drafts in one SQL statement (desk/deadlines.py); that
    # is preparing a draft for the lifecycle's ``extend``, not a write the ORM would show.
    assert writers == []


def test_the_lifecycles_side_effects_hang_off_no_signal() -> None:
    """Usage ledger, statistics, notifications, national-portal outbox and audit are called
    by ``dossiers.lifecycle.effects``; none of those apps listens to a model signal."""
    for app in ("billing", "reports", "notifications", "nationalsync", "audit"):
        base = ROOT / "billing" if app == "billing" else ROOT / "platform" / app
        for path in sorted(base.rglob("*.py")):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            assert ".connect(" not in text or "signals" not in text, path
