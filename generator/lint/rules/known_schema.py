"""FX004: every table and column a statement names exists in the bundle's recorded schema."""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from generator.lint.report import Finding
from generator.lint.rules.context import SqlFileContext, main_table

CODE = "FX004"


def check(ctx: SqlFileContext) -> Iterable[Finding]:
    schema = ctx.schema
    if schema is None:
        return
    for parsed in ctx.statements:
        tree = parsed.tree
        if tree is None:
            continue
        line = parsed.statement.line
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
