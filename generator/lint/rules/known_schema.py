"""FX004: every table and column a statement names exists in the bundle's recorded schema."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlglot import exp

from generator.lint.report import Finding
from generator.lint.rules.context import SqlFileContext, main_table

CODE = "FX004"
_QUALIFIED = re.compile(r"`((?:[^`]|``)+)`\.`((?:[^`]|``)+)`")
_FROM = re.compile(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+`((?:[^`]|``)+)`")


def _text_references(ctx: SqlFileContext, text: str, line: int) -> Iterable[Finding]:
    """Unparsed statements: fixpack qualifies every column, so `t`.`c` names them all."""
    schema = ctx.schema
    assert schema is not None
    for table in _FROM.findall(text):
        if not schema.has_table(table):
            yield ctx.finding(CODE, line, f"table {table} is not in the {ctx.role} schema")
    for table, column in _QUALIFIED.findall(text):
        if schema.has_table(table) and not schema.table(table).has_column(column):
            yield ctx.finding(CODE, line, f"column {table}.{column} is not in the {ctx.role} schema")
        elif not schema.has_table(table):
            yield ctx.finding(CODE, line, f"table {table} is not in the {ctx.role} schema")


def check(ctx: SqlFileContext) -> Iterable[Finding]:
    schema = ctx.schema
    if schema is None:
        return
    for parsed in ctx.statements:
        tree = parsed.tree
        line = parsed.statement.line
        if tree is None:
            yield from _text_references(ctx, parsed.statement.text, line)
            continue
        for table in tree.find_all(exp.Table):
            if table.name.upper() != "DUAL" and not schema.has_table(table.name):
                yield ctx.finding(CODE, line, f"table {table.name} is not in the {ctx.role} schema")
        default = main_table(tree)
        insert_cols = []
        if isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Schema):
            insert_cols = [c.name for c in tree.this.expressions]
        for name in insert_cols:
            if default and schema.has_table(default) and not schema.table(default).has_column(name):
                yield ctx.finding(CODE, line, f"column {default}.{name} is not in the {ctx.role} schema")
        for column in tree.find_all(exp.Column):
            owner = column.table or default
            if not owner or not schema.has_table(owner):
                continue
            if not schema.table(owner).has_column(column.name):
                yield ctx.finding(CODE, line, f"column {owner}.{column.name} is not in the {ctx.role} schema")
