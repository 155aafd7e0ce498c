"""FX001: every UPDATE and DELETE is keyed.

Its WHERE must pin a complete primary or unique key of the table to literals
(`id IN (…)`, composite keys as OR-ed ANDs) or compare a column with the
bundle's target UUID, directly or through a parent table
(`action_id IN (SELECT id FROM instance_actions WHERE instance_uuid = <target>)`)
— never a bare state predicate like `vm_state='error'`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from generator.lint.report import Finding
from generator.lint.rules.context import SqlFileContext, main_table

CODE = "FX001"


def _literal(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal | exp.HexString | exp.Introducer | exp.Null)


def _value(node: exp.Expr) -> str | None:
    return node.this if isinstance(node, exp.Literal) and node.is_string else None


def _constrained(cond: exp.Expr, targets: tuple[str, ...]) -> tuple[set[str], bool]:
    """(columns pinned to literals, whether a column is compared with a target id)."""
    cond = cond.unnest()
    if isinstance(cond, exp.And):
        cols: set[str] = set()
        hit = False
        for part in cond.flatten():
            c, h = _constrained(part, targets)
            cols |= c
            hit = hit or h
        return cols, hit
    if isinstance(cond, exp.EQ) and isinstance(cond.this, exp.Column) and _literal(cond.expression):
        return {cond.this.name}, _value(cond.expression) in targets
    if (
        isinstance(cond, exp.In)
        and isinstance(cond.this, exp.Column)
        and cond.expressions
        and all(_literal(e) for e in cond.expressions)
    ):
        return {cond.this.name}, all(_value(e) in targets for e in cond.expressions)
    query = cond.args.get("query") if isinstance(cond, exp.In) else None
    if query is not None and isinstance(cond.this, exp.Column):
        # `action_id IN (SELECT id FROM parent WHERE instance_uuid = <target>)`: keyed through the parent
        inner = query.this if isinstance(query, exp.Subquery) else query
        where = inner.args.get("where") if isinstance(inner, exp.Select) else None
        if where is not None and _constrained(where.this, targets)[1]:
            return {cond.this.name}, True
    return set(), False


def _keyed(cond: exp.Expr, keys: tuple[tuple[str, ...], ...], targets: tuple[str, ...]) -> bool:
    cond = cond.unnest()
    if isinstance(cond, exp.Or):
        return all(_keyed(branch, keys, targets) for branch in cond.flatten())
    if isinstance(cond, exp.And):
        parts = list(cond.flatten())
        ors = [p for p in parts if isinstance(p.unnest(), exp.Or)]
        if any(_keyed(o, keys, targets) for o in ors):
            return True
    cols, hit = _constrained(cond, targets)
    return hit or any(key and set(key) <= cols for key in keys)


def check(ctx: SqlFileContext) -> Iterable[Finding]:
    for parsed in ctx.statements:
        tree = parsed.tree
        if not isinstance(tree, exp.Update | exp.Delete):
            continue
        where = tree.args.get("where")
        table = main_table(tree)
        if where is None:
            yield ctx.finding(CODE, parsed.statement.line, f"{tree.key.upper()} of {table} has no WHERE")
            continue
        keys: tuple[tuple[str, ...], ...] = ()
        if ctx.schema is not None and table and ctx.schema.has_table(table):
            keys = ctx.schema.table(table).unique_keys
        if not _keyed(where.this, keys, ctx.target_ids):
            yield ctx.finding(
                CODE,
                parsed.statement.line,
                f"{tree.key.upper()} of {table} is not keyed by a primary/unique key or the target UUID",
            )
