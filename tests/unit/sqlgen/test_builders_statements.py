"""sqlgen/builders.py `update` / `insert`: the trees sqlglot's `exp.update` / `exp.insert` build
(names parsed once and copied, the caller's own `where`/query used as is), rendered the same."""

from __future__ import annotations

import pytest
from sqlglot import exp

from generator.sqlgen.builders import insert, parsed, update
from generator.sqlgen.dialect import dual, to_sql
from generator.sqlgen.literals import literal_node

NAMES = ["deleted", "key", "binary", "status", "uuid", "deleted_at", "values", "order"]


def _where() -> exp.Expr:
    return exp.and_(exp.column("id").isin(literal_node(1), literal_node(2)), exp.column("deleted").eq(0))


@pytest.mark.parametrize("table", ["instances", "block_device_mapping", "key_pairs"])
def test_update_is_exp_update(table: str) -> None:
    values = {n: literal_node(f"it's {n}", hex_text=True) for n in NAMES}
    ours = update(table, dict(values), _where())
    theirs = exp.update(table, {n: v.copy() for n, v in values.items()}, where=_where())
    assert ours == theirs
    assert to_sql(ours, owned=True) == to_sql(theirs)


def test_insert_is_exp_insert() -> None:
    def query() -> exp.Select:
        return exp.select(*(exp.alias_(literal_node(n), n) for n in NAMES)).from_(dual())

    ours = insert(query(), "instance_extra", NAMES)
    theirs = exp.insert(query(), "instance_extra", columns=NAMES)
    assert ours == theirs
    assert to_sql(ours, owned=True) == to_sql(theirs)


def test_parsed_names_are_fresh_copies() -> None:
    first, second = parsed("key"), parsed("key")
    assert first == second and first is not second
    first.set("this", exp.to_identifier("other"))
    assert parsed("key") == second
