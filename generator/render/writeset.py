"""Chunk sizing under Galera's write-set limits.

Every chunk of an apply or rollback file is one transaction. On a Galera node
(`wsrep_on=ON`) a transaction that writes more than `wsrep_max_ws_rows` rows, or
whose write set exceeds `wsrep_max_ws_size` bytes, fails with ERROR 1180 and is
lost whole; so a live bundle's chunks are sized from the limits read at generation
(`facts/wsrep.py`), never above the operator's `--chunk-rows`.

Rows: the server counts each row a statement writes (inserted, updated with a
changed value, deleted) in every table of the transaction; it refuses only *more*
than the limit (measured on MariaDB 10.11 + Galera 4: 500 rows pass, 501 fail), and
locking reads (`SELECT … FOR UPDATE`) and temporary tables do not count. A chunk's
row count is the sum of the rows of all its steps (a `CheckRows` step, which only
locks, is counted too: conservative).

Bytes: the write set carries row events in ROW format — an UPDATE its before and
after image, a DELETE its before image, an INSERT its after image — plus keys and
headers. The estimate per row is `MARGIN * (before + after + ROW_OVERHEAD)`, where an
image is the sum over its columns of the value's stored size (text as UTF-8 bytes,
binary as is, each plus a 4-byte length; numbers and times 8 bytes; NULL 1 byte) plus
`COLUMN_OVERHEAD` per column. MARGIN 2 covers keys, event headers and the
certification index; a chunk's estimate stays within `wsrep_max_ws_size`.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from generator.errors import FixpackError
from generator.ops.dispatch import Dispatch
from generator.ops.operations import CapturedRestore, CheckRows, DeleteRows, InsertRows, Operation, UpdateRows
from generator.ops.rows import Row
from generator.plan.model import DatabaseTarget, Plan

MARGIN = 2
ROW_OVERHEAD = 64
COLUMN_OVERHEAD = 2

# Offline applies (render/offline_rounds.py) are written as a fixed number of rounds, one transaction
# of at most --chunk-rows rows each: enough for TOTAL_ROWS rows, but never more than MAX_ROUNDS (the
# file grows with each round, and a reviewer reads them all).
TOTAL_ROWS = 2000
MAX_ROUNDS = 5


def rounds_for(chunk_rows: int) -> int:
    """Rounds written into an offline apply for this chunk size."""
    return max(1, min(MAX_ROUNDS, -(-TOTAL_ROWS // chunk_rows)))


def value_bytes(value: Any) -> int:
    """The stored size of one value (see the module docstring)."""
    if value is None:
        return 1
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value) + 4
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass")) + 4
    if isinstance(value, bool | int | float | dt.date | dt.time | dt.timedelta):
        return 8
    if isinstance(value, decimal.Decimal):
        return 16
    return len(str(value).encode("utf-8", "replace")) + 4


def image_bytes(row: Row | None) -> int:
    if row is None:
        return 0
    return sum(value_bytes(v) + COLUMN_OVERHEAD for v in row.values)


Images = Iterable[tuple[Row | None, Row | None]]  # (before, after) of each row written; None: no image
IMAGES: Dispatch[Callable[[Any], Images]] = Dispatch("write-set images")


def images(op: Operation) -> Images:
    """(before, after) of each row the operation writes, as the ROW-format write set carries them."""
    return IMAGES.of(op)(op)


@IMAGES.register(UpdateRows)
def _updated(op: UpdateRows) -> Images:
    return ((c.before, c.after) for c in op.changes or ())


@IMAGES.register(DeleteRows)
def _deleted(op: DeleteRows) -> Images:
    return ((r, None) for r in op.rows or ())


@IMAGES.register(InsertRows)
def _inserted(op: InsertRows) -> Images:
    return ((None, r) for r in op.rows)


@IMAGES.register(CheckRows, CapturedRestore)
def _written_by_none(op: Operation) -> Images:
    return ()  # CheckRows only locks (its rows still count as chunk rows); a captured restore's are unknown


def row_estimates(op: Operation) -> list[int]:
    """Estimated write-set bytes of each row the operation writes (none for a lock-only step)."""
    return [MARGIN * (image_bytes(a) + image_bytes(b) + ROW_OVERHEAD) for a, b in images(op)]


def op_bytes(op: Operation) -> int:
    return sum(row_estimates(op))


@dataclass(frozen=True)
class ChunkSizing:
    """How one database's chunks are cut: at most `rows` rows and `max_bytes` estimated bytes."""

    rows: int
    requested: int  # --chunk-rows (or its default)
    max_bytes: int | None = None
    limits_text: str | None = None  # what was found on the server (live), for the runbook

    @property
    def lowered(self) -> bool:
        return self.rows < self.requested

    def piece_rows(self, op: Operation) -> int:
        """Rows per piece of `op`: the chunk size, fewer when its largest row makes the bytes the limit."""
        if self.max_bytes is None:
            return self.rows
        largest = max(row_estimates(op), default=0)
        if largest > self.max_bytes:
            raise FixpackError(
                f"one row of {op.table} is estimated at {largest} bytes of write set, more than "
                f"wsrep_max_ws_size={self.max_bytes} allows in one transaction: it cannot be changed "
                "on this Galera cluster without raising wsrep_max_ws_size"
            )
        return max(1, min(self.rows, self.max_bytes // largest)) if largest else self.rows


def sizing_for(db: DatabaseTarget, requested: int) -> ChunkSizing:
    limits = db.write_set
    if limits is None:
        return ChunkSizing(requested, requested)
    rows = min(requested, limits.row_limit or requested)
    return ChunkSizing(rows, requested, limits.byte_limit, limits.describe())


def chunking_notes(plan: Plan, requested: int) -> tuple[list[str], list[str]]:
    """(runbook lines per database, warnings when --chunk-rows was lowered) for a plan's databases."""
    notes: list[str] = []
    warnings: list[str] = []
    roles = [db for db in plan.databases if plan.operations_for(db.role)]
    for db in roles:
        if plan.mode == "offline":
            rounds = rounds_for(requested)
            notes.append(
                f"{db.label}: offline, up to {rounds} transaction(s) of at most {requested} row(s) each "
                f"(--chunk-rows; {rounds * requested} rows in all); before its first write the apply reads "
                "wsrep_on, wsrep_max_ws_rows and wsrep_max_ws_size and stops, changing nothing, if a chunk "
                "could exceed them"
            )
            continue
        sizing = sizing_for(db, requested)
        found = sizing.limits_text or "write-set limits not read"
        bytes_part = ""
        if sizing.max_bytes is not None:
            bytes_part = f" and at most {sizing.max_bytes} estimated write-set bytes"
        notes.append(f"{db.label}: {found}: chunks of at most {sizing.rows} row(s){bytes_part}")
        if sizing.lowered:
            warnings.append(
                f"--chunk-rows {requested} lowered to {sizing.rows} for the {db.label}: its server has "
                f"wsrep_max_ws_rows={sizing.rows} (a larger transaction fails with ERROR 1180 and is lost)"
            )
    return notes, warnings
