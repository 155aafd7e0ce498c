"""The import layers written in docs/architecture.md ("Layers") hold, and there are no import cycles.

The table in the document is the only place the order is written: this test parses it, parses
every module under generator/ with `ast` (every import statement, function-local and
`TYPE_CHECKING` ones and `__import__`/`import_module` calls included) and fails on an import
that goes up a level or sideways to a sibling on the same level, and on any cycle between files
or between units, naming each offending import as file:line. No database.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*`([^`]+)`\s*\|")


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    where: str  # file:line of the import statement
    target: str  # the deepest module of the tree the statement names


def read_layers(doc: str) -> list[tuple[int, str]]:
    """(level, unit) rows of the doc's "## Layers" table, in the order written."""
    section = doc.split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
    return [(int(m.group(1)), m.group(2)) for m in map(ROW.match, section.splitlines()) if m]


def modules_under(root: Path, package: str = "generator") -> dict[str, Path]:
    """Dotted module name -> file, for every .py under root/package."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def unit_of(path: Path, root: Path, package: str = "generator") -> str:
    """`name/` for a file inside a subpackage, `name.py` for a top-level module."""
    first = path.relative_to(root / package).parts[0]
    return first if first.endswith(".py") else f"{first}/"


def _resolve(name: str, modules: Mapping[str, Path]) -> str:
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _dynamic_import(call: ast.Call) -> str:
    """The module (or, for an f-string, the constant prefix) `__import__`/`import_module` names."""
    func = call.func
    named = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if named not in ("__import__", "import_module") or not call.args:
        return ""
    arg = call.args[0]
    if isinstance(arg, ast.JoinedStr):
        arg = arg.values[0] if arg.values else arg
    text = arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else ""
    return text.rstrip(".")


def imports_of(root: Path, modules: Mapping[str, Path], package: str = "generator") -> list[Import]:
    """Every import of a `package` module by a `package` module, wherever it stands in the file."""
    found = []
    for module, path in modules.items():
        is_init = path.name == "__init__.py"
        where = str(path.relative_to(root))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=where)):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = module.split(".") if is_init else module.split(".")[:-1]
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join(parts + ([node.module] if node.module else []))
                # `from pkg import mod` imports the module pkg.mod; `from mod import name` imports mod
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            elif isinstance(node, ast.Call) and _dynamic_import(node):
                names = [_dynamic_import(node)]
            for name in names:
                if name == package or name.startswith(package + "."):
                    found.append(Import(module, f"{where}:{node.lineno}", _resolve(name, modules)))
    return list(dict.fromkeys(found))  # `from m import a, b` is one import of m


def layer_violations(
    found: Iterable[Import],
    modules: Mapping[str, Path],
    levels: Mapping[str, int],
    root: Path,
    package: str = "generator",
) -> list[str]:
    """Imports that go up a level, sideways to a sibling, or from/to a unit the table lacks."""
    bad = []
    for imp in found:
        src, dst = unit_of(modules[imp.source], root, package), unit_of(modules[imp.target], root, package)
        if src == dst:
            continue
        if src not in levels or dst not in levels:
            missing = src if src not in levels else dst
            bad.append(f"{imp.where}: {imp.target}: {missing} is not in the Layers table")
        elif levels[dst] > levels[src]:
            bad.append(
                f"{imp.where}: {imp.target}: {src} (level {levels[src]}) imports "
                f"{dst} (level {levels[dst]}) above it"
            )
        elif levels[dst] == levels[src]:
            sibling = f"{src} imports its sibling {dst} (both level {levels[src]})"
            bad.append(f"{imp.where}: {imp.target}: {sibling}")
    return bad


def _cycles(edges: Mapping[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(component)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def _shortest_cycle(start: str, edges: Mapping[str, set[str]], component: set[str]) -> list[str]:
    """The shortest path start -> ... -> start inside one component (breadth first)."""
    parent: dict[str, str] = {}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(edges.get(v, set()) & component):
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if w not in parent:
                parent[w] = v
                queue.append(w)
    raise AssertionError(f"{start} is on no cycle")


def cycle_reports(found: Iterable[Import], key: Callable[[str], str]) -> list[str]:
    """One line per cycle (`key` groups modules: files or units): its shortest loop through the
    first member, each step with the import that makes it (file:line)."""
    first: dict[tuple[str, str], str] = {}
    edges: dict[str, set[str]] = {}
    for imp in sorted(found, key=lambda i: i.where):
        a, b = key(imp.source), key(imp.target)
        if a != b:
            edges.setdefault(a, set()).add(b)
            first.setdefault((a, b), imp.where)
    reports = []
    for component in sorted(_cycles(edges), key=min):
        loop = _shortest_cycle(min(component), edges, component)
        steps = [f"{a} -> {b} ({first[a, b]})" for a, b in itertools.pairwise(loop)]
        reports.append(f"import cycle among {len(component)}: " + "; ".join(steps))
    return reports


# -- the project ------------------------------------------------------------------------------

MODULES = modules_under(ROOT)
IMPORTS = imports_of(ROOT, MODULES)
LAYERS = read_layers(DOC.read_text(encoding="utf-8"))


def _unit(module: str) -> str:
    return unit_of(MODULES[module], ROOT)


def test_the_layers_table_lists_every_unit_once_bottom_to_top() -> None:
    units = [u for _, u in LAYERS]
    actual = {_unit(m) for m in MODULES}
    assert len(LAYERS) > 10, "docs/architecture.md has no Layers table the test can read"
    assert sorted(u for u in set(units) if units.count(u) > 1) == [], "a unit is listed twice"
    assert sorted(actual - set(units)) == [], "units under generator/ missing from the Layers table"
    assert sorted(set(units) - actual) == [], "the Layers table names units that do not exist"
    levels = [level for level, _ in LAYERS]
    assert levels == sorted(levels), "the Layers table is not written bottom to top"


def test_no_import_goes_up_or_sideways() -> None:
    bad = layer_violations(IMPORTS, MODULES, dict((u, lv) for lv, u in LAYERS), ROOT)
    assert bad == [], "imports against docs/architecture.md Layers:\n" + "\n".join(bad)


def test_no_import_cycle_between_files() -> None:
    cycles = cycle_reports(IMPORTS, key=lambda m: m)
    assert cycles == [], "\n".join(cycles)


def test_no_import_cycle_between_units() -> None:
    cycles = cycle_reports(IMPORTS, key=_unit)
    assert cycles == [], "\n".join(cycles)


def test_the_import_reader_sees_the_project_s_imports() -> None:
    """The reader finds a known module-level, function-local and dynamic (`__import__`) import."""
    seen = {(i.source, i.target) for i in IMPORTS}
    assert ("generator.ops.rows", "generator.sqlgen.dialect") in seen
    assert ("generator.render.sql", "generator.render.offline") in seen  # inside render_sql()
    assert ("generator.cli", "generator.cli") in seen  # __import__(f"generator.cli.{name}")


# -- the checker itself, on a small made-up tree ----------------------------------------------

_DOC = """# x
## Layers
| level | unit | why |
|---|---|---|
| 0 | `base.py` | bottom |
| 0 | `dyn.py` | bottom, loading modules by name |
| 1 | `low/` | middle |
| 1 | `side/` | sibling of low |
| 2 | `high/` | top |
## Next
| 9 | `ignored/` | another table |
"""

_TREE = {
    "base.py": "import os\n",
    "low/__init__.py": "",
    "low/a.py": "from app import base\nfrom . import b\n",
    "low/b.py": "def f():\n    from app.high.h import g  # up, function-local\n    from app.low import a\n",
    "side/__init__.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.low.a import x\n",
    "high/__init__.py": "",
    "high/h.py": "from ..low.a import y\nimport app.base\n",
    "dyn.py": 'import importlib\n\n\ndef load(n):\n    return importlib.import_module(f"app.high.{n}")\n',
}


def _made_up(tmp_path: Path) -> tuple[dict[str, Path], list[Import]]:
    for name, text in _TREE.items():
        path = tmp_path / "app" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    modules = modules_under(tmp_path, "app")
    return modules, imports_of(tmp_path, modules, "app")


def test_checker_reads_the_table_of_its_own_section_only() -> None:
    assert read_layers(_DOC) == [(0, "base.py"), (0, "dyn.py"), (1, "low/"), (1, "side/"), (2, "high/")]


def test_checker_names_upward_sideways_and_cyclic_imports_by_file_and_line(tmp_path: Path) -> None:
    modules, found = _made_up(tmp_path)
    levels = {u: lv for lv, u in read_layers(_DOC)}

    def unit(m: str) -> str:
        return unit_of(modules[m], tmp_path, "app")

    assert sorted(layer_violations(found, modules, levels, tmp_path, "app")) == [
        "app/dyn.py:5: app.high: dyn.py (level 0) imports high/ (level 2) above it",
        "app/low/b.py:2: app.high.h: low/ (level 1) imports high/ (level 2) above it",
        "app/side/__init__.py:3: app.low.a: side/ imports its sibling low/ (both level 1)",
    ]
    assert cycle_reports(found, key=lambda m: m) == [
        "import cycle among 3: app.high.h -> app.low.a (app/high/h.py:1); "
        "app.low.a -> app.low.b (app/low/a.py:2); app.low.b -> app.high.h (app/low/b.py:2)"
    ]
    assert cycle_reports(found, key=unit) == [
        "import cycle among 2: high/ -> low/ (app/high/h.py:1); low/ -> high/ (app/low/b.py:2)"
    ]
