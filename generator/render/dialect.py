"""sqlglot's MySQL dialect, adjusted to emit what the plain mysql client must receive.

Two MySQL forms do not survive sqlglot's stock generator (see the SQL safety
facts): `DUAL` comes out quoted as a table name, and `START TRANSACTION`
comes out as `BEGIN`. Every statement fixpack renders goes through `to_sql()`
so those forms are emitted correctly and identifiers are always backticked
(Nova has columns called `key`, `binary`, `deleted`...).
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.mysql import MySQL


class FixpackMySQL(MySQL):
    class Generator(MySQL.Generator):
        def transaction_sql(self, expression: exp.Transaction) -> str:
            return "START TRANSACTION"

        def table_sql(self, expression: exp.Table, sep: str = " AS ") -> str:
            if expression.name.upper() == "DUAL" and not expression.args.get("db"):
                return "DUAL"
            return super().table_sql(expression, sep)


def to_sql(expression: exp.Expression) -> str:
    """Render one statement or expression (no trailing semicolon)."""
    return expression.sql(dialect=FixpackMySQL, identify=True)


def dual() -> exp.Table:
    return exp.Table(this=exp.Identifier(this="DUAL", quoted=False))
