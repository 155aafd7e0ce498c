"""sqlglot's MySQL dialect, adjusted to emit what the plain mysql client must receive.

Two MySQL forms do not survive sqlglot's stock generator (see the SQL safety
facts): `DUAL` comes out quoted as a table name, and `START TRANSACTION`
comes out as `BEGIN`. Every statement fixpack renders goes through `to_sql()`
so those forms are emitted correctly and identifiers are always backticked
(Nova has columns called `key`, `binary`, `deleted`...).
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.dialects.mysql import MySQL
from sqlglot.generators.mysql import MySQLGenerator


class FixpackMySQL(MySQL):
    class Generator(MySQLGenerator):
        def transaction_sql(self, expression: exp.Transaction) -> str:
            return "START TRANSACTION"

        def cast_sql(self, expression: exp.Cast, safe_prefix: str | None = None) -> str:
            # `CONVERT(x USING utf8mb4)`: the same on MySQL and MariaDB, and unlike
            # `CAST(x AS CHAR CHARACTER SET ...)` it parses in sqlfluff's mysql dialect.
            to = expression.to
            if to.this == exp.DataType.Type.CHARACTER_SET:
                return f"CONVERT({self.sql(expression, 'this')} USING {self.sql(to, 'kind')})"
            return super().cast_sql(expression, safe_prefix)

        def table_sql(self, expression: exp.Table, sep: str = " AS ") -> str:
            if expression.name.upper() == "DUAL" and not expression.args.get("db"):
                return "DUAL"
            return super().table_sql(expression, sep)

        def after_limit_modifiers(self, expression: exp.Expr) -> list[str]:
            # `FOR UPDATE` on its own line, like every other clause (stock pretty output
            # leaves it after stray spaces, which sqlfluff's layout rules reject).
            locks = " ".join(self.sql(lock) for lock in expression.args.get("locks") or [])
            return [self.seg(locks) if locks else "", self.sql(expression, "sample")]

        def case_sql(self, expression: exp.Case) -> str:
            # THEN indented under its WHEN, the layout sqlfluff's indent rule expects.
            if not self.pretty:
                return super().case_sql(expression)
            this = self.sql(expression, "this")
            statements = [f"CASE {this}" if this else "CASE"]
            for e in expression.args["ifs"]:
                statements.append(f"WHEN {self.sql(e, 'this')}")
                statements.append(self.indent(f"THEN {self.sql(e, 'true')}"))
            default = self.sql(expression, "default")
            if default:
                statements.append(f"ELSE {default}")
            statements.append("END")
            if self.too_wide(statements) or any("\n" in s for s in statements):
                return self.indent("\n".join(statements), skip_first=True, skip_last=True)
            return " ".join(s.strip() for s in statements)

        def update_sql(self, expression: exp.Update) -> str:
            # One assignment per line: long SET lists stay reviewable (and within LT05); a single
            # assignment too wide for one line (a uuid as a hex literal) goes on its own line too.
            sql = super().update_sql(expression)
            if not self.pretty:
                return sql
            if len(expression.expressions) < 2 and max(map(len, sql.splitlines())) <= 120:
                return sql
            flat = self.expressions(expression, flat=True)
            stacked = "\n" + self.indent(",\n".join(self.sql(e) for e in expression.expressions))
            return sql.replace(f" SET {flat}", f"\nSET{stacked}", 1)

        def delete_sql(self, expression: exp.Delete) -> str:
            # Multi-table DELETE: stock pretty output pads `DELETE   t FROM`.
            sql = super().delete_sql(expression)
            return "DELETE " + sql[len("DELETE") :].lstrip() if sql.startswith("DELETE ") else sql

        def in_sql(self, expression: exp.In) -> str:
            # A value list breaks one value per line when the whole predicate is too wide:
            # stock output only measures the values, so `col IN ('uuid', 'uuid')` overflows.
            sql = super().in_sql(expression)
            plain_list = not any(expression.args.get(k) for k in ("query", "unnest", "field"))
            if not self.pretty or not plain_list or "\n" in sql or len(sql) <= self.max_text_width:
                return sql
            values = self.expressions(expression, new_line=True, skip_first=True, skip_last=True)
            return f"{self.sql(expression, 'this')} IN ({values})"

        def select_sql(self, expression: exp.Select) -> str:
            # A single one-line select target stays on the SELECT line (sqlfluff LT09).
            sql = super().select_sql(expression)
            if self.pretty and len(expression.expressions) == 1 and sql.startswith("SELECT\n"):
                first, _, rest = sql[len("SELECT\n") :].partition("\n")
                if not rest or not rest.startswith(" "):
                    return "SELECT " + first.strip() + ("\n" + rest if rest else "")
            return sql


def _qualify(expression: exp.Expr) -> exp.Expr:
    """Qualify columns (`t`.`c`) in a statement that reads more than one table.

    A statement over one table (a guard's measure, a keyed UPDATE) needs no
    qualifier to be unambiguous and reads a third shorter without one, so its
    columns are written bare (qualifiers naming that table are dropped). Where
    subqueries read other tables (or DUAL), every column gets its select's single table,
    so a reviewer (and sqlfluff's RF02/RF03) sees which table each one is.
    """
    tree = expression.copy()  # callers' trees are shared between statements: never changed here
    names = {t.name for t in tree.find_all(exp.Table)}  # DUAL counts: sqlfluff sees a second table
    if len(names) <= 1:
        for column in tree.find_all(exp.Column):
            if column.table and column.table in names:
                column.set("table", None)
        return tree
    for node in tree.find_all(exp.Select, exp.Update, exp.Delete):
        name = _owner_table(node)
        if name is None:
            continue
        for column in node.find_all(exp.Column):
            owner = column.find_ancestor(exp.Select, exp.Update, exp.Delete)
            if owner is node and not column.table:
                column.set("table", exp.to_identifier(name))
    return tree


LINE_WIDTH = 120  # the bundle's line limit (lint rule FX005, sqlfluff max_line_length)


def _owner_table(node: exp.Expr) -> str | None:
    """The one table a SELECT/UPDATE/DELETE reads its own columns from (as `_qualify` decides)."""
    if isinstance(node, exp.Select):
        source = node.args.get("from_") or node.args.get("from")
        tables = [source.this] if source is not None else []
    else:
        tables = [node.this]
    if len(tables) != 1 or not isinstance(tables[0], exp.Table) or tables[0].name.upper() == "DUAL":
        return None
    return tables[0].name


def _changes_nothing(tree: exp.Expr) -> tuple[bool, bool]:
    """(whether `_qualify` and `_split_long_strings` would leave the tree as it is, whether it holds
    a multi-line token), in one walk: a statement that needs no change is rendered without the
    deep copy (a batch renders thousands of statements with 1000-value IN lists)."""
    tables: set[str] = set()
    columns: list[exp.Column] = []
    multiline = long_string = False
    for node in tree.walk():
        if isinstance(node, exp.Table):
            tables.add(node.name)
        elif isinstance(node, exp.Column):
            columns.append(node)
        if isinstance(node, exp.Literal | exp.Identifier | exp.HexString):
            text = str(node.this)
            multiline = multiline or "\n" in text
            if isinstance(node, exp.Literal) and node.is_string and len(text) > _PIECE and node is not tree:
                long_string = True
    if long_string:
        return False, multiline
    if len(tables) <= 1:
        return not any(c.table and c.table in tables for c in columns), multiline
    for column in columns:
        if not column.table:
            owner = column.find_ancestor(exp.Select, exp.Update, exp.Delete)
            if owner is not None and _owner_table(owner) is not None:
                return False, multiline
    return True, multiline


def to_sql(expression: exp.Expr, *, owned: bool = False) -> str:
    """Render one statement or expression (no trailing semicolon), laid out for review.

    `owned`: the caller built the tree for this one rendering and drops it after, so sqlglot's
    generator may work on it in place instead of on a deep copy (the text is the same; a batch
    renders tens of thousands of one-row statements)."""
    unchanged, multiline = _changes_nothing(expression) if expression.parent is None else (False, False)
    if unchanged:
        tree = expression  # sqlglot's generator renders a copy of it (copy=True below) unless owned
    else:
        tree = _split_long_strings(_qualify(expression))  # our own copy: the generator may use it
        multiline = _has_multiline_token(tree)
    copy = unchanged and not owned
    if multiline:
        return tree.sql(dialect=FixpackMySQL, copy=copy, identify=True, pretty=True)
    return wrap(tree.sql(dialect=FixpackMySQL, copy=copy, identify=True, pretty=False))


_TOKEN = re.compile(r"'(?:[^']|'')*'|`(?:[^`]|``)*`|[^\s'`]+|\s+")
_CLAUSES = ("FROM", "WHERE", "FOR", "SET", "GROUP", "HAVING", "ORDER", "UNION", "VALUES", "SELECT")


def wrap(sql: str, width: int = LINE_WIDTH - 1) -> str:  # room for the `;`
    """One-line SQL broken at spaces (never inside a literal or identifier) into lines up to `width`.

    A statement that does not fit on one line also breaks before each top-level
    clause (FROM, WHERE, FOR UPDATE…), which starts its own line; other
    continuation lines are indented by their parenthesis depth (at most six
    spaces), so a guard or a fingerprint reads in two or three full lines.
    """
    if len(sql) <= width:
        return sql
    words: list[tuple[str, int]] = []  # (word, parenthesis depth at its start)
    depth = start = 0
    current = ""
    for tok in _TOKEN.findall(sql):
        if tok.isspace():
            if current:
                words.append((current, start))
                current = ""
            continue
        if not current:
            start = depth
        current += tok
        if tok[0] not in "'`":
            depth += tok.count("(") - tok.count(")")
    if current:
        words.append((current, start))
    glued: list[tuple[str, int]] = []  # `AS alias` never splits: a reader (and lint FX003) sees it whole
    for word, d in words:
        if glued and glued[-1][0] == "AS":
            glued[-1] = (f"AS {word}", glued[-1][1])
        else:
            glued.append((word, d))
    words = glued
    lines: list[str] = []
    line = ""
    for word, d in words:
        clause = d == 0 and word in _CLAUSES and line not in ("", "DELETE", "INSERT")
        if line and (clause or len(line) + 1 + len(word) > width):
            lines.append(line)
            line = word if clause else "  " * min(d + 1, 3) + word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


_PIECE = 96  # characters of a readable string literal per line piece


def _split_long_strings(tree: exp.Expr) -> exp.Expr:
    """A string literal too long for one line becomes CONCAT of pieces: the same text, wrappable."""
    for node in list(tree.find_all(exp.Literal)):
        text = node.this
        if node.is_string and len(text) > _PIECE and node is not tree:
            pieces = [exp.Literal.string(text[i : i + _PIECE]) for i in range(0, len(text), _PIECE)]
            node.replace(exp.Anonymous(this="CONCAT", expressions=pieces))
    return tree


def _has_multiline_token(tree: exp.Expr) -> bool:
    """A literal or identifier holding a newline: joining lines could then change a value."""
    return any("\n" in str(node.this) for node in tree.find_all(exp.Literal, exp.Identifier, exp.HexString))


def dual() -> exp.Table:
    return exp.Table(this=exp.Identifier(this="DUAL", quoted=False))
