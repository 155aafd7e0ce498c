"""Explain a guard that no longer holds, row by row.

A guard compares a fingerprint and a count, which says *that* rows drifted
but not *how*. Given the rows the bundle recorded (`data/preimages.json`),
this reads the same rows again by primary key and lists, per row, what is
gone and which columns changed from what to what; and it lists the rows that
joined the step's scope since generation. Reads only: every query is a
SELECT run through a read-only Session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlglot
from sqlglot import exp

from generator.bundle.preimages import encode_value
from generator.connect.session import Session
from generator.errors import FixpackError
from generator.ops.rows import Row
from generator.schema.model import Table
from generator.secrets import mask_value
from generator.sqlgen.dialect import to_sql
from generator.sqlgen.literals import literal_node

MAX_SHOWN = 60  # characters of a value shown in a drift line


def read_only_select(sql: str) -> exp.Select:
    """Parse a query from a bundle's data files; refuse anything but one plain SELECT.

    data/guards.json is input, possibly edited: its queries run against
    production only after this check (and the bundle's checksums) pass.
    """
    try:
        parsed = sqlglot.parse(sql, read="mysql")
    except sqlglot.errors.ParseError as exc:
        raise FixpackError(f"guard query does not parse: {str(exc).splitlines()[0]}") from None
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Select):
        raise FixpackError("guard query is not a single SELECT; refusing to run it")
    tree = parsed[0]
    if tree.args.get("into") or tree.args.get("locks") or tree.find(exp.Into):
        raise FixpackError("guard query writes or locks; refusing to run it")
    return tree


def show(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes | bytearray):
        text = "0x" + bytes(value).hex()
    else:
        text = repr(value.isoformat(sep=" ") if hasattr(value, "isoformat") else value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def _same(a: Any, b: Any) -> bool:
    try:
        return encode_value(a) == encode_value(b)
    except TypeError:
        return a == b


def key_text(table: Table, key: Sequence[Any]) -> str:
    cols = table.primary_key or table.column_names
    return ", ".join(f"{c}={show(v)}" for c, v in zip(cols, key, strict=False))


def _key_condition(table: Table, rows: Sequence[Row]) -> exp.Expr:
    cols = table.primary_key
    if len(cols) == 1:
        return exp.column(cols[0]).isin(*(literal_node(r[cols[0]]) for r in rows))
    terms = [exp.and_(*(exp.column(c).eq(literal_node(r[c])) for c in cols)) for r in rows]
    return exp.or_(*terms) if len(terms) > 1 else terms[0]


def _literal_text(node: exp.Expr) -> str | None:
    """A key literal of a guard's key condition as text (numbers, strings, `_utf8mb4 x'…'`)."""
    if isinstance(node, exp.Introducer):
        node = node.expression
    if isinstance(node, exp.HexString):
        try:
            return bytes.fromhex(node.this).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
    if isinstance(node, exp.Literal):
        return str(node.this)
    return None


def condition_keys(condition: str, key: Sequence[str]) -> set[tuple[str, ...]] | None:
    """The primary keys a guard's key condition names (`id IN (…)`, OR of ANDs of `col = lit`), as text.

    None when the condition has another shape: the caller then compares every recorded row.
    """
    try:
        tree = sqlglot.parse_one(condition, read="mysql")
    except sqlglot.errors.ParseError:
        return None
    if isinstance(tree, exp.In) and len(key) == 1 and isinstance(tree.this, exp.Column):
        values = [_literal_text(v) for v in tree.expressions]
        return None if None in values else {(v,) for v in values}  # type: ignore[misc]
    terms = list(tree.flatten()) if isinstance(tree, exp.Or) else [tree]
    out = set()
    for term in terms:
        term = term.unnest()
        pairs = {}
        for eq in term.flatten() if isinstance(term, exp.And) else [term]:
            eq = eq.unnest()
            if not isinstance(eq, exp.EQ) or not isinstance(eq.this, exp.Column):
                return None
            pairs[eq.this.name] = _literal_text(eq.expression)
        if set(pairs) != set(key) or None in pairs.values():
            return None
        out.add(tuple(str(pairs[c]) for c in key))
    return out


def rows_keyed(table: Table, recorded: Sequence[Row], keys: set[tuple[str, ...]] | None) -> list[Row]:
    """The recorded rows whose primary key is in `keys` (all of them when `keys` is None)."""
    if keys is None or not table.primary_key:
        return list(recorded)
    return [r for r in recorded if tuple(_key_text(v) for v in r.key(table.primary_key)) in keys]


def _key_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def row_drift(session: Session, table: Table, recorded: Sequence[Row]) -> list[str]:
    """One line per recorded row that is gone or differs now, naming the columns."""
    if not recorded or not table.primary_key:
        return []
    query = exp.select(*(exp.column(c) for c in table.column_names)).from_(table.name)
    current = {
        tuple(r[c] for c in table.primary_key): r
        for r in session.query(to_sql(query.where(_key_condition(table, recorded))))
    }
    lines = []
    for row in recorded:
        key = row.key(table.primary_key)
        now = current.get(key)
        where = f"{table.name} {key_text(table, key)}"
        if now is None:
            lines.append(f"{where}: row is gone (deleted since generation)")
            continue
        changes = [
            f"{col}: {show(mask_value(col, row[col]))} -> {show(mask_value(col, now.get(col)))}"
            for col in row.columns
            if col in now and not _same(row[col], now[col])
        ]
        if changes:
            lines.append(f"{where}: " + "; ".join(changes))
    return lines


def scope_change(
    session: Session, table: Table, scope_query: str, expected: int, recorded: Sequence[Row], limit: int = 10
) -> list[str]:
    """When a scope's count moved: by how much, and which rows in it the bundle did not record.

    Those rows appeared since generation — or were counted then without being
    changed (a multi-attach volume's other attachment), which is why the count
    difference is stated apart from the list.
    """
    tree = read_only_select(scope_query)
    keys = tree.copy()
    cols = table.primary_key or table.column_names
    keys.set("expressions", [exp.column(c) for c in cols])
    known = {r.key(cols) for r in recorded}
    now = [tuple(row[c] for c in cols) for row in session.query(to_sql(keys))]
    if len(now) == expected:
        return []
    lines = [f"{table.name}: {len(now)} row(s) in the step's scope now, {expected} at generation"]
    unrecorded = [k for k in now if k not in known]
    for key in unrecorded[:limit]:
        lines.append(f"{table.name} {key_text(table, key)}: in the scope now, not recorded by the bundle")
    if len(unrecorded) > limit:
        lines.append(f"{table.name}: ... and {len(unrecorded) - limit} more")
    return lines
