"""The house rules of the layout, checked on the source: who may import whom, and sizes.

- Each subpackage imports only the subpackages below it (``LAYERS``); nothing imports ``cli``.
- Stage modules never import each other: only ``batch/pipeline.py`` puts stages in order.
- No import circle between modules, counting imports at module level, type-only ones included
  (an import inside a function is a deliberate late load and does not count).
- Nothing under ``stages/`` or ``core/`` calls ``.collect(`` (doctest examples aside).
- No module over 300 lines; no function body (after its docstring) over 40 lines unless a
  ``# long: <reason>`` comment sits on its ``def`` line.

Each rule is a function over a folder, so that the last test can show it catches a violation
in a small package built for the purpose.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ctr_batch"
LAYERS: dict[str, set[str]] = {
    "core": set(),
    "stages": {"core"},
    "io": {"core"},
    "sql": {"core", "io"},
    "samples": {"core", "io"},
    "batch": {"core", "stages", "io", "sql"},  # sql: the pure-SQL twin as an engine
    "streaming": {"core", "stages", "io"},
    "days": {"core", "stages", "io", "sql", "batch"},
    "spark": {"core", "stages", "io", "batch", "days"},  # bucket and window work on Spark
    "reconciliation": {"core", "stages", "io", "sql", "batch", "streaming"},
    "reporting": {"core", "io", "sql", "reconciliation"},
    "cli": {"core", "stages", "io", "sql", "samples", "batch", "streaming", "days",
            "reconciliation", "reporting", "spark"},
}  # fmt: skip
FREE = {"_version"}  # modules of the top level that any layer may import
NO_COLLECT = ("stages", "core")
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40


def module_name(root: Path, path: Path) -> str:
    """``pkg.sub.module`` for `path` under the package folder `root`."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(tree: ast.Module, package: str, *, top_level_only: bool) -> set[str]:
    """Modules of `package` that `tree` imports (all of them, or only at module level)."""
    nodes = _top_level(tree.body) if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == package:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == package)
    return found


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements run on import: the body, and the bodies of its ``if`` and ``try`` blocks."""
    out: list[ast.stmt] = []
    for node in body:
        out.append(node)
        if isinstance(node, ast.If | ast.Try):
            for block in (node.body, node.orelse, getattr(node, "finalbody", [])):
                out.extend(_top_level(block))
    return out


def _modules(root: Path) -> dict[str, tuple[Path, ast.Module]]:
    return {
        module_name(root, path): (path, ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(root.rglob("*.py"))
    }


def layer_violations(root: Path, layers: dict[str, set[str]]) -> list[str]:
    """Imports that cross the layers the wrong way, and stages importing stages."""
    package, found = root.name, []
    for name, (_, tree) in _modules(root).items():
        parts = name.split(".")
        if len(parts) < 3 or parts[1] not in layers:  # the top level may load anything
            continue
        own = parts[1]
        for target in imports(tree, package, top_level_only=False):
            layer = target.split(".")[1] if "." in target else ""
            if layer in FREE or layer == "" or (layer == own and own != "stages"):
                continue
            if layer == own == "stages" and target.count(".") == 1:
                continue  # the stages package itself
            if layer == own or layer not in layers[own]:
                found.append(f"{name} imports {target}")
    return sorted(set(found))


def import_cycles(root: Path) -> list[list[str]]:
    """Circles of module-level imports between the modules of `root`."""
    modules = _modules(root)
    graph = {
        name: sorted(t for t in imports(tree, root.name, top_level_only=True) if t in modules)
        for name, (_, tree) in modules.items()
    }
    cycles, state = [], dict.fromkeys(graph, 0)  # 0 new, 1 on the path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state[nxt] == 1 and nxt != node and not _is_parent(nxt, node):
                cycles.append([*path[path.index(nxt) :], nxt])
            elif state[nxt] == 0:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in graph:
        if state[start] == 0:
            visit(start, [start])
    return cycles


def _is_parent(package: str, module: str) -> bool:
    """A module importing its own package's ``__init__`` is no circle (it runs first)."""
    return module.startswith(package + ".")


def collect_calls(root: Path, folders: tuple[str, ...]) -> list[str]:
    """``.collect(`` calls in code (not docstrings) of modules under `folders`."""
    found = []
    for name, (_, tree) in _modules(root).items():
        if name.split(".")[1:2] and name.split(".")[1] in folders:
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "collect"
                ):
                    found.append(f"{name}:{node.lineno}")
    return found


def oversized(root: Path) -> list[str]:
    """Modules over ``MAX_MODULE_LINES`` lines, function bodies over ``MAX_FUNCTION_LINES``."""
    found = []
    for name, (path, tree) in _modules(root).items():
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_MODULE_LINES:
            found.append(f"{name}: {len(lines)} lines")
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            length = node.end_lineno - body[0].lineno + 1 if body and node.end_lineno else 0
            if length > MAX_FUNCTION_LINES and "# long:" not in lines[node.lineno - 1]:
                found.append(f"{name}.{node.name}: {length} lines")
    return found


def test_subpackages_import_only_the_layers_below() -> None:
    assert layer_violations(PACKAGE, LAYERS) == []


def test_every_subpackage_has_a_layer_and_a_one_line_docstring() -> None:
    folders = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
    assert folders == sorted(LAYERS)
    for folder in folders:
        doc = ast.get_docstring(ast.parse((PACKAGE / folder / "__init__.py").read_text()))
        assert doc is not None
        assert "\n" not in doc.strip(), folder


def test_no_import_circles() -> None:
    assert import_cycles(PACKAGE) == []


def test_stages_and_core_never_collect() -> None:
    assert collect_calls(PACKAGE, NO_COLLECT) == []


def test_modules_and_functions_stay_small() -> None:
    assert oversized(PACKAGE) == []


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A package breaking every rule once."""
    root = tmp_path / "pkg"
    files = {
        "__init__.py": "",
        "core/__init__.py": '"""Core."""',
        "core/a.py": "import polars as pl\nfrom pkg.stages.b import f\nx = pl.LazyFrame().collect()",  # noqa: E501
        "stages/__init__.py": '"""Stages."""',
        "stages/b.py": "from pkg.stages.c import g\ndef f():\n    pass",
        "stages/c.py": "from pkg.stages import b\ndef g():\n" + "    x = 1\n" * 41,
        "io/__init__.py": '"""Io."""',
        "io/d.py": "from pkg.cli.app import main\nfrom pkg.io.e import h",
        "io/e.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg.io.d import main",
        "cli/__init__.py": '"""Cli."""',
        "cli/app.py": "def main():\n    pass\n" + "\n" * 300,
    }
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text + "\n")
    return root


def test_the_rules_catch_violations(broken: Path) -> None:
    layers = {"core": set(), "stages": {"core"}, "io": {"core"}, "cli": {"core", "io"}}
    assert layer_violations(broken, layers) == [
        "pkg.core.a imports pkg.stages.b",
        "pkg.core.a imports pkg.stages.b.f",
        "pkg.io.d imports pkg.cli.app",
        "pkg.io.d imports pkg.cli.app.main",
        "pkg.stages.b imports pkg.stages.c",
        "pkg.stages.b imports pkg.stages.c.g",
        "pkg.stages.c imports pkg.stages.b",
    ]
    cycles = import_cycles(broken)
    assert ["pkg.io.d", "pkg.io.e", "pkg.io.d"] in cycles  # a type-only import counts
    assert any("pkg.stages.b" in cycle and "pkg.stages.c" in cycle for cycle in cycles)
    assert collect_calls(broken, NO_COLLECT) == ["pkg.core.a:3"]
    assert oversized(broken) == ["pkg.cli.app: 303 lines", "pkg.stages.c.g: 41 lines"]
