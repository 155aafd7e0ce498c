"""Facts for the orphan cleanups: a Placement consumer's rows (`fixpack allocation`) and a
nova_api instance's records (`fixpack mapping`), each with what every Nova cell says about
the uuid — the evidence the planners judge "orphaned" by.

Both repairs delete rows that are only safe to delete when nothing in Nova still owns them,
so the facts read every cell (found from nova_api's cell_mappings): an unreachable cell is a
ConnectionProblem, never "not found". Round trips: per database, detection and schema once,
one multi-statement read of the rows to change, and one query per cell per evidence table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp

from generator.connect.optionfile import LABELS
from generator.errors import ConnectionProblem
from generator.facts.live import LiveDatabases
from generator.facts.model import DatabaseFacts
from generator.facts.reader import read_tables
from generator.ops.rows import Row, Scope
from generator.sqlgen.builders import isin as _in


@dataclass(frozen=True)
class CellRecord:
    """A row about the uuid in one cell: an instance or a migration (its uuid is a consumer)."""

    cell: str  # the cell's name (or uuid) for people
    kind: str  # "instance" | "migration"
    uuid: str
    deleted: bool
    state: str | None  # instance vm_state / migration status
    task_state: str | None
    updated_at: dt.datetime | None


@dataclass(frozen=True)
class NovaEvidence:
    """What Nova holds about a set of uuids: rows in every cell, mappings and build requests."""

    cells_searched: tuple[str, ...]
    records: tuple[CellRecord, ...]
    mappings: tuple[Row, ...]  # instance_mappings rows (with `cell_name` of the mapped cell, or None)
    build_requests: tuple[Row, ...]  # build_requests rows: instance_uuid, created_at

    def of(self, uuid: str, kind: str | None = None) -> tuple[CellRecord, ...]:
        return tuple(r for r in self.records if r.uuid == uuid and (kind is None or r.kind == kind))

    def mapping(self, uuid: str) -> Row | None:
        return next((m for m in self.mappings if m["instance_uuid"] == uuid), None)

    def build_request(self, uuid: str) -> Row | None:
        return next((b for b in self.build_requests if b["instance_uuid"] == uuid), None)


@dataclass(frozen=True)
class AllocationFacts:
    """`fixpack allocation CONSUMER --op delete`: the consumers' Placement rows and Nova's view."""

    consumers: tuple[str, ...]
    placement: DatabaseFacts  # allocations, consumers, resource_providers, consumer_types
    nova: NovaEvidence
    read_at: dt.datetime


@dataclass(frozen=True)
class MappingFacts:
    """`fixpack mapping UUID --op delete`: nova_api records of the uuids and every cell's view."""

    uuids: tuple[str, ...]
    api: DatabaseFacts  # instance_mappings, build_requests, request_specs, instance_group_member
    nova: NovaEvidence
    read_at: dt.datetime


API_TABLES = ("build_requests", "request_specs", "instance_group_member", "instance_mappings")


def _marks(values: Sequence[str]) -> str:
    return ", ".join(["%s"] * len(values))


def nova_evidence(live: LiveDatabases, uuids: Sequence[str]) -> NovaEvidence:
    """Instances and migrations with these uuids in every cell, their mappings and build requests."""
    if not live.has("nova_api"):
        raise ConnectionProblem(
            "no nova_api database given: pass --nova-api-url or --nova-conf (the uuid is checked "
            "against its mappings, build requests and every cell it lists)"
        )
    api = live.session("nova_api")
    marks = _marks(uuids)
    mappings = api.query(
        "SELECT m.instance_uuid, m.cell_id, m.created_at, COALESCE(NULLIF(c.name, ''), c.uuid) AS cell_name "
        "FROM instance_mappings m LEFT JOIN cell_mappings c ON c.id = m.cell_id "
        f"WHERE m.instance_uuid IN ({marks})",
        tuple(uuids),
    )
    builds = api.query(
        f"SELECT instance_uuid, created_at FROM build_requests WHERE instance_uuid IN ({marks})", tuple(uuids)
    )
    cells = live.cells()
    if not cells:
        raise ConnectionProblem("nova_api lists no cell: cannot tell whether Nova still uses the uuid")
    records: list[CellRecord] = []
    searched = []
    for cell in cells:
        session = live.cell_session(cell)
        name = cell.name or cell.uuid or session.database or "cell"
        searched.append(name)
        for row in session.query(
            f"SELECT uuid, deleted, vm_state, task_state, updated_at FROM instances WHERE uuid IN ({marks})",
            tuple(uuids),
        ):
            records.append(
                CellRecord(
                    name, "instance", row["uuid"], bool(row["deleted"]), row["vm_state"],
                    row["task_state"], row["updated_at"],
                )
            )  # fmt: skip
        for row in session.query(
            f"SELECT uuid, deleted, status, updated_at FROM migrations WHERE uuid IN ({marks})", tuple(uuids)
        ):
            records.append(
                CellRecord(
                    name, "migration", row["uuid"], bool(row["deleted"]), row["status"], None,
                    row["updated_at"],
                )
            )  # fmt: skip
    return NovaEvidence(
        tuple(searched),
        tuple(records),
        tuple(Row.from_dict(m) for m in mappings),
        tuple(Row.from_dict(b) for b in builds),
    )


def read_allocation_consumers(live: LiveDatabases, consumers: Sequence[str]) -> AllocationFacts:
    """The consumers' allocations, consumer rows and providers, and what Nova says about them."""
    wanted = tuple(dict.fromkeys(consumers))
    session = live.session("placement")
    info = live.info("placement", session, "placement", LABELS["placement"])
    tables = dict(
        read_tables(
            session,
            info.schema,
            [
                ("allocations", Scope(_in("consumer_id", wanted), "allocations of the consumer(s)")),
                ("consumers", Scope(_in("uuid", wanted), "the consumer record(s)")),
            ],
        )
    )
    rp_ids = sorted({a["resource_provider_id"] for a in tables["allocations"].rows})
    extra = [("resource_providers", Scope(_in("id", rp_ids or [-1]), "providers the allocations are on"))]
    if info.schema.has_table("consumer_types"):
        extra.append(("consumer_types", Scope(exp.true(), "consumer types (names only)")))
    tables.update(read_tables(session, info.schema, extra))
    read_at = session.query("SELECT UTC_TIMESTAMP() AS now")[0]["now"]
    return AllocationFacts(wanted, info.facts(tables, "placement"), nova_evidence(live, wanted), read_at)


def read_mappings(live: LiveDatabases, uuids: Sequence[str]) -> MappingFacts:
    """The uuids' nova_api records (mapping, build request, request spec, group membership)."""
    wanted = tuple(dict.fromkeys(uuids))
    evidence = nova_evidence(live, wanted)
    session = live.session("nova_api")
    info = live.info("nova_api", session, "nova_api", LABELS["nova_api"])
    tables = read_tables(
        session,
        info.schema,
        [(t, Scope(_in("instance_uuid", wanted), f"{t} of the instance(s)")) for t in API_TABLES],
    )
    read_at = session.query("SELECT UTC_TIMESTAMP() AS now")[0]["now"]
    return MappingFacts(wanted, info.facts(tables, "nova_api"), evidence, read_at)
