"""fixpack's structural SQL rules, one per module (as sqlfluff keeps its rules).

Each rule is a function `check(ctx: SqlFileContext) -> Iterable[Finding]`
registered in RULES with its code; they run on sqlglot trees of the real
statements (cheap: sqlglot parses hundreds of statements in milliseconds).
"""

from __future__ import annotations

from generator.lint.rules import (
    client_commands,
    guarded_transaction,
    keyed_where,
    known_schema,
    line_length,
    no_ddl,
)

RULES = {
    keyed_where.CODE: keyed_where.check,
    no_ddl.CODE: no_ddl.check,
    guarded_transaction.CODE: guarded_transaction.check,
    known_schema.CODE: known_schema.check,
    line_length.CODE: line_length.check,
    client_commands.CODE: client_commands.check,
}
