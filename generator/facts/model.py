"""Frozen facts handed from the facts stage to the pure planner."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from generator.ops.rows import Row, Scope
from generator.schema.model import SchemaSnapshot


@dataclass(frozen=True)
class TableRows:
    table: str
    scope: Scope
    rows: tuple[Row, ...]

    def where(self, **equal: object) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if all(r[k] == v for k, v in equal.items()))


@dataclass(frozen=True)
class DatabaseFacts:
    """What was read from one database (or, offline, only its catalog schema)."""

    role: str
    label: str
    release: str
    schema: SchemaSnapshot = field(repr=False)
    database: str | None = None
    schema_fingerprint: str | None = None
    detection: str | None = None
    tables: Mapping[str, TableRows] = field(default_factory=dict)
    write_set: WriteSetLimits | None = None  # live: the server's Galera limits (None: not read)
    server: str | None = None  # live: `user@host:port` read from (the runbook names it)

    def rows(self, table: str) -> tuple[Row, ...]:
        found = self.tables.get(table)
        return found.rows if found else ()

    def scope(self, table: str) -> Scope | None:
        found = self.tables.get(table)
        return found.scope if found else None


@dataclass(frozen=True)
class WriteSetLimits:
    """Galera's per-transaction write-set limits on the server a database lives on, read at generation.

    With `wsrep_on=ON`, a transaction that writes more than `wsrep_max_ws_rows` rows
    (0: no limit) or a write set larger than `wsrep_max_ws_size` bytes fails with
    ERROR 1180 and is lost whole; the renderer sizes each chunk (one transaction)
    below both. A server without wsrep (MySQL, MariaDB without Galera) has `wsrep_on`
    False and no limits.
    """

    wsrep_on: bool
    max_ws_rows: int = 0  # 0: unlimited
    max_ws_size: int = 0  # bytes; 0: unlimited
    server: str = ""  # the server's version string, for the runbook

    @property
    def row_limit(self) -> int | None:
        return self.max_ws_rows if self.wsrep_on and self.max_ws_rows > 0 else None

    @property
    def byte_limit(self) -> int | None:
        return self.max_ws_size if self.wsrep_on and self.max_ws_size > 0 else None

    def describe(self) -> str:
        if not self.wsrep_on:
            return "wsrep_on=OFF (no Galera write-set limits)"
        return (
            f"Galera: wsrep_on=ON, wsrep_max_ws_rows={self.max_ws_rows}"
            f"{' (unlimited)' if self.max_ws_rows == 0 else ''}, wsrep_max_ws_size={self.max_ws_size}"
        )
