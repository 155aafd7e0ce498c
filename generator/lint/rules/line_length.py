"""FX005: lines stay within the configured length (sqlfluff's LT05, checked exactly).

sqlfluff runs on abstracted statement shapes, which would hide long literal
or identifier text; this rule measures the real lines with the same limit.
Comment lines are measured too. A line holding nothing but one literal value
(a long pre-image in hex, optionally aliased, assigned to one column — also by an UPDATE of that one
column, which keeps its single assignment on the UPDATE line — or compared with one column in
a WHERE list or a captured rollback's check — a long non-ASCII text key) is exempt: a value cannot be
wrapped without changing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from generator.lint.report import Finding
from generator.lint.rules.context import SqlFileContext

CODE = "FX005"
_SINGLE_LITERAL = re.compile(
    r"^\s*(?:(?:AND|OR|WHERE|ON|SET)\s+|UPDATE\s+`[^`]+`\s+SET\s+)?"  # a WHERE/SET list line, or an
    # UPDATE of one column (sqlglot keeps a single assignment on the UPDATE line)
    r"(?:(?:`[^`]+`\.)?`[^`]+`\s*(?:=|<=>)\s*)?"  # `table`.`column` = (or <=>)
    r"(?:_utf8mb4\s+)?[xX]?'[^']*'"  # the one literal
    r"(?:\s+AS\s+`[^`]+`)?[,);]*\s*$"
)


def check(ctx: SqlFileContext) -> Iterable[Finding]:
    for number, line in enumerate(ctx.text.splitlines(), 1):
        if len(line) > ctx.max_line_length and not _SINGLE_LITERAL.match(line):
            yield ctx.finding(CODE, number, f"line is {len(line)} characters (limit {ctx.max_line_length})")
