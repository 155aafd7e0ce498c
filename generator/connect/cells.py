"""Find Nova's cell databases from the nova_api `cell_mappings` table.

`cell_mappings.database_connection` may be a template (Rocky+), e.g.
`mysql+pymysql://{username}:{password}@{hostname}/nova_cell1`, which Nova
fills from the running service's `[database] connection`. fixpack fills it
the same way from the nova (or nova_api) URL the operator gave.
An operator can override any cell with `--cell NAME_OR_UUID=URL`, e.g. when
the hostname in the mapping only resolves on the controllers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from generator.connect.session import Session
from generator.connect.urls import DatabaseURL, parse_url
from generator.errors import ConnectionProblem

CELL0_UUID = "00000000-0000-0000-0000-000000000000"
_TEMPLATE_VAR = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Cell:
    id: int
    uuid: str
    name: str | None
    url: DatabaseURL | None  # None when the mapping could not be read (reported, not fatal)
    problem: str | None = None

    @property
    def is_cell0(self) -> bool:
        return self.uuid == CELL0_UUID

    @property
    def label(self) -> str:
        return f"cell {self.name or self.uuid}"


def fill_template(template: str, base: DatabaseURL) -> str:
    """Substitute Nova's `{username}`-style variables from `base` (nova/objects/cell_mapping.py)."""
    values = {
        "scheme": base.scheme,
        "username": base.user or "",
        "password": base.password or "",
        "hostname": base.host or "",
        "port": str(base.port or ""),
        "path": base.database or "",
        "query": "&".join(f"{k}={v}" for k, v in base.query),
        "fragment": "",
    }

    def sub(match: re.Match) -> str:
        if match.group(1) not in values:
            raise ConnectionProblem(f"cell mapping uses unknown template variable {{{match.group(1)}}}")
        return values[match.group(1)]

    return _TEMPLATE_VAR.sub(sub, template)


def discover_cells(
    api: Session, base: DatabaseURL, overrides: Mapping[str, DatabaseURL] | None = None
) -> tuple[Cell, ...]:
    """Every cell mapping, with a usable URL for each (one round trip)."""
    overrides = overrides or {}
    cells = []
    rows = api.query("SELECT id, uuid, name, database_connection FROM cell_mappings ORDER BY id")
    for row in rows:
        override = overrides.get(row["uuid"]) or (overrides.get(row["name"]) if row["name"] else None)
        if override:
            cells.append(Cell(row["id"], row["uuid"], row["name"], override))
            continue
        try:
            text = fill_template(row["database_connection"] or "", base)
            cells.append(
                Cell(
                    row["id"],
                    row["uuid"],
                    row["name"],
                    parse_url(text, what=f"cell {row['name'] or row['uuid']} mapping"),
                )
            )
        except ConnectionProblem as exc:
            cells.append(Cell(row["id"], row["uuid"], row["name"], None, str(exc)))
    return tuple(cells)
