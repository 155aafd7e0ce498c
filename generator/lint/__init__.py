"""Lint stage: sqlfluff on statement shapes, fixpack's structural rules, shellcheck.

Generation runs `lint_files()` before anything is written; `fixpack lint
BUNDLE` runs the same function on a bundle's files against the schema the
bundle recorded (`generator.review.lint`). A bundle whose lint fails is not
written unless the operator overrides.

Cost, in the order things overlap: shellcheck processes are started first
(one per script not in the cache) and collected last, so they run while the
SQL is parsed; sqlglot parses only the statements that change data or
transaction state, and each distinct literal-free *skeleton* of them once
(a batch's thousands of row INSERTs share a few); sqlfluff sees each distinct
statement *shape* once, from an on-disk cache when it has seen it before, in
a process pool otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlglot
from sqlglot.errors import ParseError

from generator.lint import shellcheck
from generator.lint.report import Finding, LintReport
from generator.lint.rules import RULES
from generator.lint.rules.context import PARSED_KEYWORDS, ParsedStatement, SqlFileContext
from generator.lint.rules.known_schema import tables_named
from generator.lint.shapes import TARGET_MARK, Statement, shape_key, shape_of, skeleton_of, split_statements
from generator.lint.sqlfluff_runner import cache_salt, lint_shapes, sqlfluff_version
from generator.schema.model import SchemaSnapshot

MAX_LINE_LENGTH = 120

__all__ = ["MAX_LINE_LENGTH", "LintInput", "lint_files", "tables_named"]


@dataclass(frozen=True)
class LintInput:
    path: str
    text: str
    kind: str  # sql | shell
    role: str | None = None  # database role of a SQL file


def _first_word(text: str) -> str:
    stripped = text.lstrip()
    return stripped.split(None, 1)[0].upper().rstrip(";") if stripped else ""


@dataclass
class _Parser:
    """sqlglot trees of statement skeletons, each distinct skeleton parsed once per lint run."""

    targets: frozenset[str]
    trees: dict[str, tuple[sqlglot.exp.Expr | None, str | None]]

    def parse(self, skeleton: str) -> tuple[sqlglot.exp.Expr | None, str | None]:
        found = self.trees.get(skeleton)
        if found is None:
            try:
                found = sqlglot.parse_one(skeleton, read="mysql"), None
            except ParseError as exc:
                found = None, str(exc).splitlines()[0]
            self.trees[skeleton] = found
        return found


@dataclass
class _Shapes:
    """Distinct statement shapes and where each first occurs."""

    salt: str
    texts: dict[str, str]
    where: dict[str, list[tuple[str, int]]]

    keys: dict[str, str] = field(default_factory=dict)  # skeleton -> shape key

    def add(self, statement: Statement, skeleton: str) -> None:
        """A skeleton's shape is the statement's shape (both abstract every literal)."""
        key = self.keys.get(skeleton)
        if key is None:
            shape = shape_of(skeleton)
            key = self.keys[skeleton] = shape_key(shape, self.salt)
            self.texts[key] = shape
        self.where.setdefault(key, []).append((statement.file, statement.line))


def _structure(
    f: LintInput, schemas: Mapping[str, SchemaSnapshot], parser: _Parser, shapes: _Shapes, memo: dict
) -> list[Finding]:
    findings: list[Finding] = []
    parsed = []
    for statement in split_statements(f.path, f.text):
        keyword = _first_word(statement.text)
        skeleton = skeleton_of(statement.text, parser.targets)
        tree = None
        if keyword in PARSED_KEYWORDS:
            tree, error = parser.parse(skeleton)
            if error:
                findings.append(Finding("fixpack", "FX000", f.path, statement.line, f"cannot parse: {error}"))
        parsed.append(ParsedStatement(statement, tree, keyword, skeleton))
        shapes.add(statement, skeleton)
    ctx = SqlFileContext(
        f.path,
        f.text,
        f.role,
        schemas.get(f.role) if f.role else None,
        (TARGET_MARK,),
        tuple(parsed),
        MAX_LINE_LENGTH,
        memo,
    )
    for check in RULES.values():
        findings.extend(check(ctx))
    return findings


def lint_files(
    files: Sequence[LintInput],
    schemas: Mapping[str, SchemaSnapshot],
    target_ids: Sequence[str],
    *,
    use_cache: bool = True,
    shell_run: shellcheck.ShellcheckRun | None = None,
) -> LintReport:
    """Every check on every file; the report says what ran, how long, and what the caches served.

    `shell_run`: a shellcheck run the caller started on some of the scripts while it was still
    rendering the rest (made with the same `use_cache`); the scripts it lacks are added to it."""
    started = time.perf_counter()
    scripts = {f.path: f.text for f in files if f.kind == "shell"}
    if shell_run is None:
        shell_run = shellcheck.start(scripts, use_cache=use_cache)
    else:
        shell_run.add(scripts)
    findings: list[Finding] = []
    shapes = _Shapes(cache_salt(), {}, {})
    parser = _Parser(frozenset(target_ids), {})
    memo: dict = {}

    t0 = time.perf_counter()
    for f in files:
        if f.kind == "sql":
            findings.extend(_structure(f, schemas, parser, shapes, memo))
            shell_run.poll()
    struct_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    violations, cached = lint_shapes(shapes.texts, use_cache=use_cache)
    fluff_seconds = time.perf_counter() - t0
    for key, found in violations.items():
        path, line = shapes.where[key][0]
        also = len(shapes.where[key]) - 1
        suffix = f" (and {also} more statement(s) of the same shape)" if also else ""
        for v in found:
            findings.append(Finding("sqlfluff", v["code"], path, line + v["line"] - 1, v["message"] + suffix))

    t0 = time.perf_counter()
    shell_findings, shellcheck_version = shell_run.finish()
    findings.extend(shell_findings)
    shell_wait = time.perf_counter() - t0
    return LintReport(
        findings=tuple(sorted(set(findings), key=lambda x: (x.file, x.line, x.code, x.message))),
        files=tuple(f.path for f in files),
        seconds={
            "structure": struct_seconds,
            "sqlfluff": fluff_seconds,
            "shellcheck_wait": shell_wait,
            "total": time.perf_counter() - started,
        },
        shapes=len(shapes.texts),
        shapes_from_cache=cached,
        tools={
            "sqlfluff": sqlfluff_version(),
            "sqlglot": sqlglot.__version__,
            "shellcheck": shellcheck_version,
        },
        scripts=len(shell_run.results),
        scripts_from_cache=shell_run.cached,
        scripts_checked=shell_run.checked,
    )
