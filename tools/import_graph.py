"""The import graph between the project's apps, and the largest modules.

Run from the repository root: ``python3 tools/import_graph.py`` (``--json`` for the raw
figures, ``--edges`` to list every module-level cross-app import). Only the standard
library is used, so it runs before ``.venv`` exists.

An *app* is a top-level package of the project: the folders of ``platform/`` plus
``tenants``, ``billing`` and ``onboarding``. Tests and migrations are left out (a test may
import anything; a migration is history). Counted:

- cross-app imports: ``import``/``from … import`` statements at module level (including
  inside ``if``/``try`` at module level, not under ``if TYPE_CHECKING``) naming another app;
- app edges and cycles: the graph of those imports between apps, and its strongly
  connected components with more than one app;
- function-level imports: cross-app imports inside a function or method body (usually
  there to dodge a cycle);
- the largest modules by line count.

``tests/test_architecture.py`` uses :func:`scan` for its rules: no other app's underscore names,
the lifecycle below its callers, the lower apps importing only lower ones, no cycle between
apps, and no function-level import that would close one.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ROOTS = (ROOT / "platform", ROOT)
TOP_LEVEL_APPS = ("tenants", "billing", "onboarding")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    app: str  # its app
    target: str  # the imported module, dotted (``from x import y`` gives ``x``)
    target_app: str
    names: tuple[str, ...]  # the names of ``from x import a, b``
    line: int
    function_level: bool
    type_checking: bool


@dataclass
class Graph:
    apps: list[str]
    imports: list[Import] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)  # module path -> lines
    private_uses: list[str] = field(default_factory=list)  # ``alias._name`` across apps

    def cross_app(self, *, function_level: bool = False) -> list[Import]:
        return [
            i
            for i in self.imports
            if i.app != i.target_app and i.function_level == function_level and not i.type_checking
        ]

    def edges(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = defaultdict(set)
        for i in self.cross_app():
            out[i.app].add(i.target_app)
        return out

    def cycles(self) -> list[list[str]]:
        """Strongly connected components of more than one app (Tarjan)."""
        edges = self.edges()
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on: set[str] = set()
        found: list[list[str]] = []
        counter = [0]

        def visit(v: str) -> None:
            index[v] = low[v] = counter[0]
            counter[0] += 1
            stack.append(v)
            on.add(v)
            for w in sorted(edges.get(v, ())):
                if w not in index:
                    visit(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

        for app in sorted(self.apps):
            if app not in index:
                visit(app)
        return sorted(found)


def discover_apps() -> list[str]:
    apps = [p.name for p in (ROOT / "platform").iterdir() if (p / "__init__.py").is_file()]
    apps += [name for name in TOP_LEVEL_APPS if (ROOT / name / "__init__.py").is_file()]
    return sorted(apps)


def _module_files(apps: list[str]) -> list[tuple[str, Path]]:
    files = []
    for app in apps:
        base = ROOT / "platform" / app if (ROOT / "platform" / app).is_dir() else ROOT / app
        for path in sorted(base.rglob("*.py")):
            parts = path.relative_to(base).parts
            if "tests" in parts or "migrations" in parts or parts[-1].startswith("test_"):
                continue
            dotted = ".".join((app, *parts))[: -len(".py")]
            dotted = dotted.removesuffix(".__init__")
            files.append((dotted, path))
    return files


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(
    node: ast.AST, *, in_function: bool, in_type_checking: bool
) -> list[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    found: list[tuple[ast.Import | ast.ImportFrom, bool, bool]] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            found.append((child, in_function, in_type_checking))
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            found += _walk(child, in_function=True, in_type_checking=in_type_checking)
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                found += _walk(
                    ast.Module(body=[stmt], type_ignores=[]),
                    in_function=in_function,
                    in_type_checking=True,
                )
            for stmt in child.orelse:
                found += _walk(
                    ast.Module(body=[stmt], type_ignores=[]),
                    in_function=in_function,
                    in_type_checking=in_type_checking,
                )
        else:
            found += _walk(child, in_function=in_function, in_type_checking=in_type_checking)
    return found


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, *([node.module] if node.module else [])])


def scan() -> Graph:
    apps = discover_apps()
    known = set(apps)
    graph = Graph(apps=apps)
    for dotted, path in _module_files(apps):
        text = path.read_text(encoding="utf-8")
        graph.sizes[str(path.relative_to(ROOT))] = text.count("\n")
        tree = ast.parse(text, filename=str(path))
        app = dotted.split(".")[0]
        is_package = path.name == "__init__.py"
        aliases: dict[str, str] = {}  # local name -> cross-app module it is bound to
        for node, in_function, type_checking in _walk(
            tree, in_function=False, in_type_checking=False
        ):
            targets: list[tuple[str, tuple[str, ...]]]
            if isinstance(node, ast.Import):
                targets = [(alias.name, ()) for alias in node.names]
                for alias in node.names:
                    if alias.asname:
                        aliases[alias.asname] = alias.name
            else:
                base = _resolve(dotted, is_package, node)
                targets = [(base, tuple(alias.name for alias in node.names))]
                for alias in node.names:
                    # ``from desk import services as desk``: a module bound to a local name
                    aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
            for target, names in targets:
                target_app = target.split(".")[0]
                if target_app not in known:
                    continue
                graph.imports.append(
                    Import(
                        module=dotted,
                        app=app,
                        target=target,
                        target_app=target_app,
                        names=names,
                        line=node.lineno,
                        function_level=in_function,
                        type_checking=type_checking,
                    )
                )
        for attribute in ast.walk(tree):
            if (
                isinstance(attribute, ast.Attribute)
                and isinstance(attribute.value, ast.Name)
                and attribute.attr.startswith("_")
                and not attribute.attr.startswith("__")
                and attribute.attr != "_meta"  # Django's documented model API
                and attribute.value.id in aliases
            ):
                target = aliases[attribute.value.id]
                if target.split(".")[0] in known and target.split(".")[0] != app:
                    graph.private_uses.append(
                        f"{dotted}:{attribute.lineno} -> {target}.{attribute.attr}"
                    )
    return graph


def private_names(graph: Graph) -> list[str]:
    """Every use of another app's underscore name: imported by name, or reached as an
    attribute of an imported module (``desk._lock``)."""
    imported = {
        f"{i.module}:{i.line} -> {i.target}.{name}"
        for i in graph.imports
        if i.app != i.target_app
        for name in i.names
        if name.startswith("_") and not name.startswith("__")
    }
    return sorted(imported | set(graph.private_uses))


def figures(graph: Graph, *, top: int = 10) -> dict[str, object]:
    edges = graph.edges()
    return {
        "apps": len(graph.apps),
        "cross_app_imports": len(graph.cross_app()),
        "app_edges": sum(len(v) for v in edges.values()),
        "cycles": graph.cycles(),
        "apps_in_cycles": sum(len(c) for c in graph.cycles()),
        "function_level_cross_app_imports": len(graph.cross_app(function_level=True)),
        "function_level_imports_all": len([i for i in graph.imports if i.function_level]),
        "private_cross_app_names": private_names(graph),
        "largest_modules": sorted(graph.sizes.items(), key=lambda kv: -kv[1])[:top],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--edges", action="store_true", help="list every cross-app import")
    parser.add_argument("--top", type=int, default=10, help="how many of the largest modules")
    args = parser.parse_args(argv)
    graph = scan()
    data = figures(graph, top=args.top)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    print(f"apps: {data['apps']}")
    print(f"cross-app imports (module level): {data['cross_app_imports']}")
    print(f"app edges: {data['app_edges']}")
    cycles = data["cycles"]
    assert isinstance(cycles, list)
    print(f"cycles (strongly connected groups of apps): {len(cycles)}")
    for group in cycles:
        print("  " + " <-> ".join(group))
    print(f"function-level cross-app imports: {data['function_level_cross_app_imports']}")
    print(f"function-level imports (all): {data['function_level_imports_all']}")
    private = data["private_cross_app_names"]
    assert isinstance(private, list)
    print(f"another app's underscore names imported: {len(private)}")
    for line in private:
        print("  " + line)
    print("largest modules (lines):")
    largest = data["largest_modules"]
    assert isinstance(largest, list)
    for path, lines in largest:
        print(f"  {lines:6}  {path}")
    if args.edges:
        print("edges:")
        for app, targets in sorted(graph.edges().items()):
            print(f"  {app} -> {', '.join(sorted(targets))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
