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
) -> list[Any]:
    """The values of one column, in `key` order: a flat JSON array per chunk, so a million uuids
    decode as a million strings (no list per row)."""
    return _paged(session, table, key, (column,), where, distinct=distinct, chunk=chunk, flat=True)


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
) -> list[Any]:
    if not getattr(session, "_bulk_ready", False):  # MariaDB bounds JSON_ARRAYAGG by group_concat_max_len
        session.execute_raw("SET SESSION group_concat_max_len = 1073741824")
        session._bulk_ready = True  # type: ignore[attr-defined]
    aliases = [f"c{i}" for i in range(len(columns))]
    inner_cols = ", ".join(f"{c} AS {a}" for c, a in zip(columns, aliases, strict=True))
    select = f"SELECT {'DISTINCT ' if distinct else ''}{key} AS k, {inner_cols} FROM {table}"
    packer = aliases[0] if flat else f"JSON_ARRAY({', '.join(aliases)})"
    out: list[Any] = []
    last: Any = None
    while True:
        cond = f"({where})" + (" AND " + key + " > %s" if last is not None else "")
        inner = f"{select} WHERE {cond} ORDER BY {key} LIMIT {int(chunk)}"
        params = (last,) if last is not None else None
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


def _decode(packed: Any, expected: int) -> list[Any] | None:
    if packed is None:
        return None
    try:
        rows = json.loads(packed)
    except ValueError:
        return None
    return rows if isinstance(rows, list) and len(rows) == expected else None
