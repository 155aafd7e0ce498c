"""Pre-image rows in a machine-readable file (`data/preimages.json`).

The rollback SQL already holds every pre-image; this JSON twin lets tools
work without parsing SQL: `fixpack verify` shows drift row by row and
`fixpack rehearse` loads the rows into a scratch server. Values are tagged so
they round-trip exactly: datetimes, bytes and decimals are not JSON types.

The file holds database contents (which may include secrets such as iSCSI
CHAP passwords in BDM connection_info): treat a bundle like a backup.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from generator.ops.dispatch import Dispatch
from generator.ops.operations import CapturedRestore, CheckRows, DeleteRows, InsertRows, Operation, UpdateRows
from generator.ops.rows import Row


def encode_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return {"$float": repr(value)}
    if isinstance(value, Decimal):
        return {"$decimal": format(value, "f")}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$timedelta": value.total_seconds()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode_value(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((tag, raw),) = value.items()
    if tag == "$float":
        return float(raw)
    if tag == "$decimal":
        return Decimal(raw)
    if tag == "$datetime":
        return dt.datetime.fromisoformat(raw)
    if tag == "$date":
        return dt.date.fromisoformat(raw)
    if tag == "$timedelta":
        return dt.timedelta(seconds=raw)
    if tag == "$bytes":
        return base64.b64decode(raw)
    raise ValueError(f"unknown tag {tag}")


PRE_IMAGES: Dispatch[Callable[[Any], tuple[Row, ...]]] = Dispatch("pre-images")


def _pre_rows(op: Operation) -> tuple[Row, ...]:
    """The rows the apply locks, as they were at generation."""
    return PRE_IMAGES.of(op)(op)


@PRE_IMAGES.register(UpdateRows)
def _updated(op: UpdateRows) -> tuple[Row, ...]:
    return tuple(c.before for c in op.changes or ())


@PRE_IMAGES.register(DeleteRows)
def _deleted(op: DeleteRows) -> tuple[Row, ...]:
    return op.rows or ()


@PRE_IMAGES.register(CheckRows)
def _checked(op: CheckRows) -> tuple[Row, ...]:
    return op.rows


@PRE_IMAGES.register(InsertRows, CapturedRestore)
def _none(op: Operation) -> tuple[Row, ...]:
    return ()  # an insert's rows did not exist; a captured restore's are read at run time


def collect(operations: tuple[Operation, ...]) -> dict:
    """{role: {table: {"columns": [...], "rows": [[...], ...]}}} of every row the apply locks."""
    out: dict[str, dict[str, dict]] = {}
    seen: set[tuple[str, str, tuple]] = set()
    for op in operations:
        for row in _pre_rows(op):
            key = (op.database, op.table, row.key(op.key))
            if key in seen:
                continue
            seen.add(key)
            table = out.setdefault(op.database, {}).setdefault(
                op.table, {"columns": list(row.columns), "rows": []}
            )
            table["rows"].append([encode_value(v) for v in row.values])
    return out


def decode_rows(table_entry: dict) -> list[Row]:
    cols = tuple(table_entry["columns"])
    return [Row(cols, tuple(decode_value(v) for v in values)) for values in table_entry["rows"]]
