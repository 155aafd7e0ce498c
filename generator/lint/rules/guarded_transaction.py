"""FX003: every data change happens inside a transaction, after a guard.

A file's INSERT/UPDATE/DELETE must sit between START TRANSACTION and COMMIT,
preceded in that transaction by at least one guard (`SELECT … AS guard`), and
no transaction may be left open at the end of the file.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from generator.lint.report import Finding
from generator.lint.rules.context import SqlFileContext

CODE = "FX003"


def check(ctx: SqlFileContext) -> Iterable[Finding]:
    in_tx = False
    guarded = False
    opened_at = 0
    for parsed in ctx.statements:
        tree = parsed.tree
        line = parsed.statement.line
        if isinstance(tree, exp.Transaction):
            if in_tx:
                yield ctx.finding(
                    CODE, line, "START TRANSACTION inside an open transaction (implicit commit)"
                )
            in_tx, guarded, opened_at = True, False, line
        elif isinstance(tree, exp.Commit | exp.Rollback):
            if not in_tx:
                yield ctx.finding(CODE, line, "COMMIT/ROLLBACK without an open transaction")
            in_tx = False
        elif parsed.is_guard:
            guarded = guarded or in_tx
        elif isinstance(tree, exp.Insert | exp.Update | exp.Delete):
            if not in_tx:
                yield ctx.finding(CODE, line, f"{tree.key.upper()} outside a transaction")
            elif not guarded:
                yield ctx.finding(CODE, line, f"{tree.key.upper()} before any guard in its transaction")
    if in_tx:
        yield ctx.finding(CODE, opened_at, "transaction opened here is never committed")
