"""Lint stage: sqlfluff on statement shapes, fixpack's structural rules, shellcheck.

Generation runs this before anything is written; `fixpack lint BUNDLE` runs the
same function on a bundle's files. A bundle whose lint fails is not written
unless the operator overrides.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlglot
from sqlglot.errors import ParseError

from generator.lint.report import Finding, LintReport
from generator.lint.rules import RULES
from generator.lint.rules.context import PARSED_KEYWORDS, ParsedStatement, SqlFileContext
from generator.lint.shapes import shape_key, shape_of, split_statements
from generator.lint.shellcheck import lint_shell
from generator.lint.sqlfluff_runner import cache_salt, lint_shapes, sqlfluff_version
from generator.schema.model import SchemaSnapshot

MAX_LINE_LENGTH = 120


@dataclass(frozen=True)
class LintInput:
    path: str
    text: str
    kind: str  # sql | shell
    role: str | None = None  # database role of a SQL file


def _parse(statement) -> tuple[sqlglot.exp.Expression | None, str | None]:
    try:
        return sqlglot.parse_one(statement.text, read="mysql"), None
    except ParseError as exc:
        return None, str(exc).splitlines()[0]


def lint_files(
    files: Sequence[LintInput],
    schemas: Mapping[str, SchemaSnapshot],
    target_ids: Sequence[str],
    *,
    use_cache: bool = True,
) -> LintReport:
    started = time.perf_counter()
    findings: list[Finding] = []
    shapes: dict[str, str] = {}
    occurrences: dict[str, list[tuple[str, int]]] = {}
    salt = cache_salt()
    struct_seconds = 0.0
    for f in files:
        if f.kind != "sql":
            continue
        t0 = time.perf_counter()
        parsed = []
        for statement in split_statements(f.path, f.text):
            keyword = statement.text.lstrip().split(None, 1)[0].upper().rstrip(";") if statement.text.strip() else ""
            tree = None
            if keyword in PARSED_KEYWORDS:
                tree, error = _parse(statement)
                if error:
                    findings.append(Finding("fixpack", "FX000", f.path, statement.line, f"cannot parse: {error}"))
            parsed.append(ParsedStatement(statement, tree, keyword))
            shape = shape_of(statement.text)
            key = shape_key(shape, salt)
            shapes[key] = shape
            occurrences.setdefault(key, []).append((f.path, statement.line))
        ctx = SqlFileContext(
            f.path,
            f.text,
            f.role,
            schemas.get(f.role) if f.role else None,
            tuple(target_ids),
            tuple(parsed),
            MAX_LINE_LENGTH,
        )
        for check in RULES.values():
            findings.extend(check(ctx))
        struct_seconds += time.perf_counter() - t0
    t0 = time.perf_counter()
    violations, cached = lint_shapes(shapes, use_cache=use_cache)
    fluff_seconds = time.perf_counter() - t0
    for key, found in violations.items():
        for v in found:
            path, line = occurrences[key][0]
            also = len(occurrences[key]) - 1
            suffix = f" (and {also} more statement(s) of the same shape)" if also else ""
            findings.append(Finding("sqlfluff", v["code"], path, line + v["line"] - 1, v["message"] + suffix))
    t0 = time.perf_counter()
    shell_findings, shellcheck = lint_shell({f.path: f.text for f in files if f.kind == "shell"})
    findings.extend(shell_findings)
    shell_seconds = time.perf_counter() - t0
    return LintReport(
        findings=tuple(sorted(findings, key=lambda x: (x.file, x.line, x.code))),
        files=tuple(f.path for f in files),
        seconds={
            "structure": struct_seconds,
            "sqlfluff": fluff_seconds,
            "shellcheck": shell_seconds,
            "total": time.perf_counter() - started,
        },
        shapes=len(shapes),
        shapes_from_cache=cached,
        tools={"sqlfluff": sqlfluff_version(), "sqlglot": sqlglot.__version__, "shellcheck": shellcheck},
    )
