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


_LITERAL = re.compile(r"[xX]?'(?:[^'\\]|\\.|'')*'")


def _one_long_value(line: str, limit: int) -> bool:
    """A run-time captured value (a rollback's pre-image, written by the capture file's client, not by
    fixpack) is laid out around a placeholder: the line is too long only by that one literal."""
    values = _LITERAL.findall(line)
    longest = max(values, key=len, default="")
    return (
        len(longest) > limit
        and len(line) - len(longest) <= limit
        and sum(len(v) > limit for v in values) == 1
    )


def check(ctx: SqlFileContext) -> Iterable[Finding]:
    for number, line in enumerate(ctx.text.splitlines(), 1):
        limit = ctx.max_line_length
        if len(line) > limit and not _SINGLE_LITERAL.match(line) and not _one_long_value(line, limit):
            yield ctx.finding(CODE, number, f"line is {len(line)} characters (limit {ctx.max_line_length})")
