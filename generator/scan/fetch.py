"""Bulk key reads: many rows in few round trips, decoded in C.

A pure-Python driver spends most of a large read decoding rows one field at a time. Here the
server packs each chunk of rows into one JSON array (`JSON_ARRAYAGG`) and `json.loads` decodes
it; chunks are keyset-paged on an indexed key (`key > last ORDER BY key LIMIT n`), so each is an
index range and no result nears `max_allowed_packet`. A chunk whose JSON came back truncated or
empty (a server limit) is read again as plain rows: the result is always complete.
Only plain values belong here (strings, integers): timestamps would come back as text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from generator.connect.session import Session

CHUNK_ROWS = 20_000


def keyed_rows(
    session: Session,
    table: str,
    key: str,
    columns: Sequence[str],
    where: str = "1 = 1",
    *,
    distinct: bool = False,
    chunk: int = CHUNK_ROWS,
) -> list[list[Any]]:
    """Rows of `columns` (trusted SQL column names) of `table`, in `key` order.

    `distinct`: `columns` is just `[key]` and each value is returned once (a loose index scan).
    """
    return _paged(session, table, key, columns, where, distinct=distinct, chunk=chunk, flat=False)


def keyed_values(
    session: Session,
    table: str,
    key: str,
    column: str,
    where: str = "1 = 1",
    *,
    distinct: bool = False,
    chunk: int = CHUNK_ROWS,
    text: bool = False,
) -> list[Any]:
    """The values of one column, in `key` order: a flat JSON array per chunk, so a million uuids
    decode as a million strings (no list per row).

    `text`: the column holds strings (uuids): each chunk comes as one comma-joined string
    (GROUP_CONCAT: no JSON escaping on the server, `str.split` here) when that is provably exact
    (no NULL, exactly one piece per row, the pieces' lengths add up); else as JSON."""
    return _paged(session, table, key, (column,), where, distinct=distinct, chunk=chunk,
                  flat=True, text=text)  # fmt: skip


def _paged(
    session: Session,
    table: str,
    key: str,
    columns: Sequence[str],
    where: str,
    *,
    distinct: bool,
    chunk: int,
    flat: bool,
    text: bool = False,
) -> list[Any]:
    if not getattr(session, "_bulk_ready", False):  # MariaDB bounds JSON_ARRAYAGG by group_concat_max_len
        session.execute_raw("SET SESSION group_concat_max_len = 1073741824")
        session._bulk_ready = True  # type: ignore[attr-defined]
    aliases = [f"c{i}" for i in range(len(columns))]
    inner_cols = ", ".join(f"{c} AS {a}" for c, a in zip(columns, aliases, strict=True))
    select = f"SELECT {'DISTINCT ' if distinct else ''}{key} AS k, {inner_cols} FROM {table}"
    packer = aliases[0] if flat else f"JSON_ARRAY({', '.join(aliases)})"
    out: list[Any] = []
    # The first chunk starts at the key's lowest value, not at no bound: given only `where`, the
    # optimizer may pick an index on `where`'s columns and sort every matching row for one chunk
    # (instances: all million live rows by `deleted`, to return 20,000); `key >= lowest` keeps
    # every chunk a range on the key's index. (The keys here are NOT NULL columns.)
    lowest = session.query_tuples(f"SELECT MIN({key}) FROM {table}")[0][0]
    if lowest is None:
        return out
    last: Any = None
    while True:
        op, bound = (">", last) if last is not None else (">=", lowest)
        cond = f"({where}) AND {key} {op} %s"
        inner = f"{select} WHERE {cond} ORDER BY {key} LIMIT {int(chunk)}"
        params = (bound,)
        if text:
            n, top, joined = _joined_chunk(session, inner, params)
            if joined is not None:
                out += joined
                if n < chunk:
                    return out
                last = top
                continue
        n, top, packed = session.query_tuples(
            f"SELECT COUNT(*), MAX(k), JSON_ARRAYAGG({packer}) FROM ({inner}) AS t",
            params,
        )[0]
        if not n:
            return out
        rows = _decode(packed, n)
        if rows is None:  # truncated by a server limit: the same chunk as plain rows
            plain = session.query_tuples(inner, params)
            rows = [r[1] for r in plain] if flat else [list(r[1:]) for r in plain]
        out += rows
        if n < chunk:
            return out
        last = top


def _joined_chunk(session: Session, inner: str, params: tuple) -> tuple[int, Any, list[str] | None]:
    """(rows, last key, values) of one chunk of one text column as a comma-joined string; values
    None when the split would not give back exactly the rows' values (a NULL, a value holding a
    comma, a truncation): the caller reads that chunk as JSON instead."""
    n, nonnull, top, length, joined = session.query_tuples(
        "SELECT COUNT(*), COUNT(c0), MAX(k), SUM(CHAR_LENGTH(c0)), GROUP_CONCAT(c0 SEPARATOR ',') "
        f"FROM ({inner}) AS t",
        params,
    )[0]
    if not n:
        return 0, None, []
    if nonnull != n or not isinstance(joined, str):
        return n, top, None
    values = joined.split(",")
    if len(values) != n or len(joined) != int(length) + n - 1:
        return n, top, None
    return n, top, values


def _decode(packed: Any, expected: int) -> list[Any] | None:
    if packed is None:
        return None
    try:
        rows = json.loads(packed)
    except ValueError:
        return None
    return rows if isinstance(rows, list) and len(rows) == expected else None
