"""The unit layer itself: no database, and a test module for every planner and renderer."""

from __future__ import annotations

import ast
from pathlib import Path

import pymysql
import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "tests" / "unit"
DATABASE_FIXTURES = {"db_server", "make_deployment"}
# Modules every planner shares (or the dispatch): covered through the planners' tests, which import them.
SHARED = {"plan": {"builders", "model", "vm", "vm_common", "volume_common"}, "render": {"files"}}


def _unit_sources() -> list[Path]:
    return sorted(p for p in UNIT.rglob("*.py") if p.name != "conftest.py")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out


def test_no_unit_test_asks_for_a_database_fixture_or_marker():
    offenders = []
    for path in _unit_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                used = DATABASE_FIXTURES & {a.arg for a in node.args.args}
                if used:
                    offenders.append(f"{path.relative_to(ROOT)}::{node.name} uses {sorted(used)}")
            marker = isinstance(node, ast.Attribute) and node.attr in ("db", "docker")
            if marker and isinstance(node.value, ast.Attribute) and node.value.attr == "mark":
                offenders.append(f"{path.relative_to(ROOT)}: pytest.mark.{node.attr}")
    assert offenders == []


def test_a_database_connection_is_refused_inside_the_unit_layer():
    with pytest.raises(AssertionError, match="opened a database connection"):
        pymysql.connect(host="127.0.0.1", port=1, user="nobody", connect_timeout=1)


@pytest.mark.parametrize("package", ["plan", "render"])
def test_every_planner_and_renderer_has_its_own_unit_test_module(package: str):
    modules = sorted(p.stem for p in (ROOT / "generator" / package).glob("*.py") if p.stem != "__init__")
    imported = set().union(*(_imported_modules(p) for p in _unit_sources()))
    missing = []
    for name in modules:
        dotted = f"generator.{package}.{name}"
        if name in SHARED[package]:
            if dotted not in imported:
                missing.append(f"{dotted}: imported by no unit test")
            continue
        if not (UNIT / package / f"test_{name}.py").is_file():  # may test it through its entry point
            missing.append(f"{dotted}: no tests/unit/{package}/test_{name}.py")
    assert missing == []
