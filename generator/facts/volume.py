"""Everything a volume repair may touch, read live: the volume and every Cinder row that
references it, its project's quota usage and the counts Cinder recounts it from, and
on the Nova side the block_device_mapping rows that hold the volume and their instances.

Round trips: Cinder — release detection and schema, one multi-statement read of
every row referencing the volume (the live FK graph from volumes.id plus the
references Cinder keeps without a FK: backups, image cache entries, workers), and
one for the project's quota_usages rows and recount aggregates. Nova — one
nova_api query for the cells of the instances named or attached, then per cell one
read of the volume's live BDMs and their instances. Quota sync reads only the
Cinder part, for many projects in one statement per aggregate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from generator.connect.cells import Cell
from generator.connect.optionfile import LABELS
from generator.connect.session import Session
from generator.domain import cinder, cinder_quota
from generator.domain.references import CINDER_IMPLICIT_VOLUME_REFS, references_to
from generator.errors import ConnectionProblem
from generator.facts.live import DatabaseInfo, LiveDatabases
from generator.facts.model import DatabaseFacts, TableRows
from generator.facts.reader import read_tables, select_for
from generator.ops.rows import Row, Scope
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.builders import eq as _eq
from generator.sqlgen.builders import isin as _in
from generator.sqlgen.literals import sql_literal


@dataclass(frozen=True)
class NovaCell:
    """One cell database: the live BDMs of the volume there and the instances involved."""

    uuid: str | None
    name: str | None
    facts: DatabaseFacts

    @property
    def label(self) -> str:
        return self.name or self.uuid or "nova"


@dataclass(frozen=True)
class ProjectUsage:
    """A project's live quota_usages rows and Cinder's counts (without what a repair removes)."""

    project_id: str
    rows: tuple[Row, ...]
    counts: cinder_quota.UsageCounts


@dataclass(frozen=True)
class VolumeFacts:
    volume_id: str
    cinder: DatabaseFacts
    usage: ProjectUsage | None  # the volume's project, counted without the volume's own rows
    nova_cells: tuple[NovaCell, ...] = ()
    nova_given: bool = False
    skipped_cells: tuple[str, ...] = ()  # cells whose database could not be opened
    read_at: dt.datetime = field(default_factory=lambda: dt.datetime(1970, 1, 1))

    @property
    def volume(self) -> Row | None:
        rows = self.cinder.rows("volumes")
        return rows[0] if rows else None

    def live(self, table: str) -> tuple[Row, ...]:
        """Rows of `table` not soft-deleted (Cinder's Boolean `deleted`; tables without it: all)."""
        return tuple(r for r in self.cinder.rows(table) if not r.get("deleted"))

    @property
    def type_names(self) -> dict[str, str]:
        """Live volume types, id -> name (the per-type quota resources)."""
        return {r["id"]: r["name"] for r in self.cinder.rows("volume_types") if not r["deleted"]}


def volume_scopes(schema: SchemaSnapshot, volume_id: str) -> list[tuple[str, Scope]]:
    """(table, scope) of every row that references the volume, one scope per table.

    The FK graph from volumes.id (volume_glance_metadata is reached twice: by
    volume_id and through snapshots) plus the implicit references and *their* FK
    children (backup_metadata through backups), and the `workers` rows of the
    volume and its snapshots (cleanable operations; no FK).
    """
    merged: dict[str, Scope] = {}

    def add(table: str, scope: Scope) -> None:
        if table in merged:
            old = merged[table]
            scope = Scope(exp.or_(old.tree(), scope.tree()), f"{old.description} or {scope.description}")
        merged[table] = scope

    refs = references_to(schema, "volumes", "id", volume_id, CINDER_IMPLICIT_VOLUME_REFS)
    for ref in refs:
        add(ref.table, ref.scope)
        if ref.via_fk:
            continue
        pk = schema.table(ref.table).primary_key
        for child, fk in schema.referencing(ref.table):
            if len(fk.columns) == 1 and len(pk) == 1 and fk.ref_columns == pk:
                cond: exp.Expr = exp.column(fk.columns[0]).isin(
                    query=exp.select(exp.column(pk[0])).from_(ref.table).where(ref.scope.tree())
                )
                add(child.name, Scope(cond, f"{child.name}.{fk.columns[0]} -> {ref.table} of the volume"))
    if schema.has_table("workers"):
        snaps = exp.select("id").from_("snapshots").where(_eq("volume_id", volume_id))
        cond = exp.and_(
            _in("resource_type", list(cinder.WORKER_RESOURCE_TYPES)),
            exp.or_(_eq("resource_id", volume_id), exp.column("resource_id").isin(query=snaps)),
        )
        add("workers", Scope(cond, "cleanup workers of the volume and its snapshots (no FK)"))
    return list(merged.items())


def read_usage(
    session: Session,
    info: DatabaseInfo,
    projects: Sequence[str] | None,
    *,
    exclude_volume: str | None = None,
) -> tuple[dict[str, ProjectUsage], dict[str, TableRows]]:
    """Quota rows and recount aggregates of `projects` (None: every project with usage rows).

    One round trip: the live quota_usages rows, the live volume types and the
    four aggregates of `cinder_quota.usage_queries`.
    """
    schema = info.schema
    qscope = Scope(
        exp.and_(_in("project_id", list(projects)), _eq("deleted", 0))
        if projects is not None
        else _eq("deleted", 0),
        "live quota_usages rows of the project(s)",
    )
    tscope = Scope(_eq("deleted", 0), "live volume types (the per-type quota resources)")
    queries = cinder_quota.usage_queries(info.release, projects, exclude_volume)
    statements = [
        (select_for(schema, "quota_usages", qscope), None),
        (select_for(schema, "volume_types", tscope), None),
    ]
    statements += [(sql, None) for sql in queries.values()]
    results = session.query_many(statements)
    usage_rows = tuple(Row.from_dict(r) for r in results[0])
    tables = {
        "quota_usages": TableRows("quota_usages", qscope, usage_rows),
        "volume_types": TableRows("volume_types", tscope, tuple(Row.from_dict(r) for r in results[1])),
    }
    counts = cinder_quota.counts_from_rows(dict(zip(queries, results[2:], strict=True)))
    wanted = set(projects) if projects is not None else {r["project_id"] for r in usage_rows}
    by_project: dict[str, list[Row]] = {}  # one pass, not one per project (a scan reads them all)
    for r in usage_rows:
        by_project.setdefault(r["project_id"], []).append(r)
    out = {
        p: ProjectUsage(p, tuple(by_project.get(p, ())), counts.get(p, cinder_quota.UsageCounts()))
        for p in sorted(wanted)
    }
    return out, tables


def cinder_info(live: LiveDatabases) -> tuple[Session, DatabaseInfo]:
    if not live.has("cinder"):
        raise ConnectionProblem("no Cinder database given: pass --cinder-url or --cinder-conf")
    session = live.session("cinder")
    return session, live.info("cinder", session, "cinder", LABELS["cinder"])


def read_volume(live: LiveDatabases, volume_id: str, *, instances: Sequence[str] = ()) -> VolumeFacts:
    """The volume's Cinder rows and usage, and the Nova cells holding BDMs for it.

    `instances`: only these instances matter on the Nova side (their cells are
    found from nova_api); without it every cell is read for the volume's BDMs.
    """
    prefer_cell_release(live)
    session, info = cinder_info(live)
    wanted = [("volumes", Scope(_eq("id", volume_id), f"volumes.id = {sql_literal(volume_id)}"))]
    wanted += volume_scopes(info.schema, volume_id)
    tables = read_tables(session, info.schema, wanted)
    volume = tables["volumes"].rows[0] if tables["volumes"].rows else None
    usage = None
    if volume is not None:
        usages, extra = read_usage(session, info, [volume["project_id"]], exclude_volume=volume_id)
        usage = usages[volume["project_id"]]
        tables.update(extra)
    facts = info.facts(tables, "cinder")
    read_at = session.query("SELECT UTC_TIMESTAMP() AS now")[0]["now"]

    attached = {
        r["instance_uuid"]
        for r in tables["volume_attachment"].rows
        if not r["deleted"] and r["instance_uuid"]
    }
    cells, skipped = _read_nova(
        live, volume_id, sorted(set(instances) | attached), only_named=bool(instances)
    )
    return VolumeFacts(
        volume_id,
        facts,
        usage,
        cells,
        nova_given=bool(live.cells()),
        skipped_cells=skipped,
        read_at=read_at,
    )


def prefer_cell_release(live: LiveDatabases) -> None:
    """Detect a Nova cell's release first: its nova-compute service versions pin the release
    down where Cinder's schema markers are shared by several (2024.1 .. 2026.2), and
    LiveDatabases then prefers it for Cinder too."""
    for cell in sorted(live.cells(), key=lambda c: c.is_cell0):
        try:
            session = live.cell_session(cell)
            live.info("cell:" + cell.uuid, session, "nova", _cell_label(cell, session))
        except ConnectionProblem:
            continue
        return


def _cell_label(cell: Cell, session: Session) -> str:
    return f"Nova cell database ({cell.name or session.database})"


def _mapped_cells(live: LiveDatabases, uuids: Sequence[str]) -> dict[str, str]:
    """instance uuid -> cell uuid, from nova_api instance_mappings (one round trip)."""
    if not uuids or not live.has("nova_api"):
        return {}
    marks = ", ".join(["%s"] * len(uuids))
    rows = live.session("nova_api").query(
        "SELECT m.instance_uuid, c.uuid FROM instance_mappings m JOIN cell_mappings c ON c.id = m.cell_id "
        f"WHERE m.instance_uuid IN ({marks})",
        tuple(uuids),
    )
    return {r["instance_uuid"]: r["uuid"] for r in rows}


def _read_nova(
    live: LiveDatabases, volume_id: str, instances: Sequence[str], *, only_named: bool
) -> tuple[tuple[NovaCell, ...], tuple[str, ...]]:
    cells = live.cells()
    if not cells:
        return (), ()
    if only_named:
        mapped = set(_mapped_cells(live, instances).values())
        chosen = [c for c in cells if c.uuid in mapped] or list(cells)
    else:
        chosen = list(cells)
    out: list[NovaCell] = []
    skipped: list[str] = []
    for cell in chosen:
        try:
            out.append(_read_cell(live, cell, volume_id, instances))
        except ConnectionProblem as exc:
            skipped.append(f"{cell.label}: {exc}")
    return tuple(out), tuple(skipped)


def _read_cell(live: LiveDatabases, cell: Cell, volume_id: str, instances: Sequence[str]) -> NovaCell:
    session = live.cell_session(cell)
    label = _cell_label(cell, session)
    info = live.info("cell:" + cell.uuid, session, "nova", label)
    live_bdms = exp.and_(_eq("volume_id", volume_id), _eq("deleted", 0))
    holders = exp.select("instance_uuid").from_("block_device_mapping").where(live_bdms.copy())
    wanted = [
        ("block_device_mapping", Scope(live_bdms, f"live block_device_mapping rows of volume {volume_id}")),
        (
            "instances",
            Scope(
                exp.or_(exp.column("uuid").isin(query=holders), _in("uuid", list(instances))),
                "instances holding the volume",
            ),
        ),
    ]
    tables = read_tables(session, info.schema, wanted)
    return NovaCell(cell.uuid or None, cell.name, info.facts(tables, "nova", label))
