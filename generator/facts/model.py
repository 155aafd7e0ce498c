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

    def rows(self, table: str) -> tuple[Row, ...]:
        found = self.tables.get(table)
        return found.rows if found else ()

    def scope(self, table: str) -> Scope | None:
        found = self.tables.get(table)
        return found.scope if found else None
