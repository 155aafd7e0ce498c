"""The key sets a scan reads (scan/context.py) as the checks use them: plain sets and dicts in
frozen holders, so a million instances cost a million strings, not a million objects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InstanceIndex:
    """Every instance uuid of every cell, as sets: a million instances are a million strings.

    `live_by_cell`: cell uuid ('' for a lone --nova-url database) -> live instance uuids, each uuid
    under the first cell holding a live row for it (a live row wins over a deleted one);
    `live`: their union; `known`: every uuid with a row in any cell, deleted ones included
    (they tell 'deleted' from 'unknown'). The checks work on these with set operations and
    read a row's other columns only for what they are about to report.
    """

    live_by_cell: dict[str, set[str]]
    live: set[str]
    known: set[str]


@dataclass(frozen=True, slots=True)
class Mappings:
    """nova_api's instance mappings as read: uuid -> cell_mappings.id (a dict built in C from the
    rows, no object per mapping), cell id -> cell uuid, and created_at of the mappings without a cell.
    `get` gives (cell uuid or None while scheduling, created_at of a cell-less mapping)."""

    cell_ids: dict[str, int | None]
    cells: dict[int, str]
    created: dict[str, dt.datetime | None]

    def get(self, uuid: str) -> tuple[str | None, dt.datetime | None] | None:
        if uuid not in self.cell_ids:
            return None
        cell_id = self.cell_ids[uuid]
        cell = None if cell_id is None else self.cells.get(cell_id)
        return (cell, self.created.get(uuid) if cell_id is None else None)

    def cell_id_of(self, cell_uuid: str) -> int | None:
        return next((i for i, u in self.cells.items() if u == cell_uuid), None)

    def __len__(self) -> int:
        return len(self.cell_ids)


@dataclass(frozen=True, slots=True)
class ComputeNode:
    uuid: str | None
    cell: str
    host: str | None
    hypervisor_hostname: str | None
    hypervisor_type: str | None
    deleted: bool
