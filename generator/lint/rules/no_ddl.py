"""FX002: no DDL and nothing that commits implicitly.

CREATE/DROP/ALTER/TRUNCATE/RENAME, LOCK TABLES and `SET autocommit` all
commit the open transaction behind the guards' back.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from generator.lint.report import Finding
from generator.lint.rules.context import SqlFileContext

CODE = "FX002"
_DDL = (exp.Create, exp.Drop, exp.Alter, exp.TruncateTable, exp.RenameColumn)
_IMPLICIT_COMMIT_WORDS = (
    "LOCK",
    "UNLOCK",
    "RENAME",
    "TRUNCATE",
    "GRANT",
    "REVOKE",
    "FLUSH",
    "ANALYZE",
    "OPTIMIZE",
    "REPAIR",
    "CREATE",
    "DROP",
    "ALTER",
    "BEGIN",
)


def check(ctx: SqlFileContext) -> Iterable[Finding]:
    for parsed in ctx.statements:
        tree = parsed.tree
        line = parsed.statement.line
        first = (
            parsed.statement.text.lstrip().split(None, 1)[0].upper().rstrip(";")
            if parsed.statement.text.strip()
            else ""
        )
        if isinstance(tree, _DDL) or (isinstance(tree, exp.Command) and first in _IMPLICIT_COMMIT_WORDS):
            yield ctx.finding(CODE, line, f"{first} is DDL or commits implicitly; not allowed in a bundle")
        elif first == "BEGIN":
            yield ctx.finding(CODE, line, "BEGIN commits any open transaction; use START TRANSACTION")
        elif isinstance(tree, exp.Set) and "AUTOCOMMIT" in parsed.statement.text.upper():
            yield ctx.finding(CODE, line, "SET autocommit commits implicitly; not allowed in a bundle")
