"""Which rows belong to an instance (or volume): real FKs read from the live schema,
plus the references Nova and Cinder keep without a foreign key.

A `Reference` is a table, the column that points at the target, and how to
select the target's rows (a `Scope`). Grandchildren are found by following the
FK graph down from the direct children (instance_actions_events through
instance_actions), so a schema with an extra FK table is covered without code
changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from generator.ops.rows import Scope
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.builders import eq
from generator.sqlgen.literals import sql_literal


def _eq(column: str, value: str | exp.Expr) -> exp.Expr:
    """`column = value`; a recipe passes its target parameter (plan/recipe.py) instead of a value."""
    if isinstance(value, exp.Expr):
        return exp.EQ(this=exp.column(column), expression=value.copy())
    return eq(column, value)


def _shown(value: str | exp.Expr) -> str:
    return "'{target}'" if isinstance(value, exp.Expr) else sql_literal(value)


@dataclass(frozen=True)
class Reference:
    table: str
    column: str  # column in `table` that points at the parent
    parent: str  # parent table
    parent_column: str
    via_fk: bool
    depth: int  # 1 = points at the target row itself
    scope: Scope


# References without a foreign key (facts §3 "References without FK"; pci_devices
# is released, not deleted, by the planner).
NOVA_IMPLICIT_INSTANCE_REFS = (
    ("console_auth_tokens", "instance_uuid"),
    ("pci_devices", "instance_uuid"),
    ("volume_usage_cache", "instance_uuid"),
    ("tags", "resource_id"),
    ("instance_id_mappings", "uuid"),
    ("bw_usage_cache", "uuid"),
    ("instance_group_member", "instance_id"),
)

CINDER_IMPLICIT_VOLUME_REFS = (
    ("backups", "volume_id"),
    ("image_volume_cache_entries", "volume_id"),
)


def references_to(
    schema: SchemaSnapshot,
    table: str,
    column: str,
    value: str | exp.Expr,
    implicit: tuple[tuple[str, str], ...] = (),
    *,
    prefix: str = "",
    max_depth: int = 4,
) -> tuple[Reference, ...]:
    """Every set of rows that references `table.column = value`, shallow before deep.

    The FK graph of the base tables is followed; with `prefix="shadow_"` the same
    shape is mapped onto Nova's archive tables (which carry no FKs of their own).
    """

    def present(name: str) -> bool:
        return schema.has_table(prefix + name)

    out: list[Reference] = []
    seen: set[tuple[str, str]] = set()
    frontier: list[tuple[str, str, exp.Expr, int]] = [(table, column, _eq(column, value), 0)]
    while frontier:
        parent, parent_col, parent_cond, depth = frontier.pop(0)
        if depth >= max_depth:
            continue
        for child, fk in schema.referencing(parent):
            if child.name.startswith("shadow_") or len(fk.columns) != 1 or len(fk.ref_columns) != 1:
                continue
            if depth == 0 and fk.ref_columns != (parent_col,):
                continue
            if (child.name, fk.columns[0]) in seen:
                continue
            ref_col = fk.ref_columns[0]
            if depth == 0:
                cond = _eq(fk.columns[0], value)
            else:
                cond = exp.column(fk.columns[0]).isin(
                    query=exp.select(exp.column(ref_col)).from_(prefix + parent).where(parent_cond.copy())
                )
            seen.add((child.name, fk.columns[0]))
            if present(child.name) and schema.table(prefix + child.name).has_column(fk.columns[0]):
                desc = f"{prefix}{child.name}.{fk.columns[0]} -> {prefix}{parent}.{ref_col}"
                out.append(
                    Reference(
                        prefix + child.name,
                        fk.columns[0],
                        prefix + parent,
                        ref_col,
                        not prefix,
                        depth + 1,
                        Scope(cond, desc),
                    )
                )
            pk = child.primary_key
            if len(pk) == 1 and present(child.name):
                frontier.append((child.name, pk[0], cond, depth + 1))
    for imp_table, imp_col in implicit:
        name = prefix + imp_table
        if (imp_table, imp_col) in seen or not schema.has_table(name):
            continue
        if not schema.table(name).has_column(imp_col):
            continue
        seen.add((imp_table, imp_col))
        out.append(
            Reference(
                name,
                imp_col,
                prefix + table,
                column,
                False,
                1,
                Scope(_eq(imp_col, value), f"{name}.{imp_col} = {_shown(value)} (no FK)"),
            )
        )
    return tuple(out)
