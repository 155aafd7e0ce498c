"""Everything a VM repair may touch, read live: the instance, every row that
references it in its cell, its nova_api records, its placement allocations,
and what Cinder says is attached to it.

Round trips: per database, release detection (2-3), schema (3) and one
multi-statement read of all rows; the instance's cell is found from
`instance_mappings` or, when that is missing, by asking every cell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlglot import exp

from generator.connect.cells import CELL0_UUID, Cell
from generator.connect.optionfile import LABELS
from generator.connect.session import Session
from generator.domain.references import NOVA_IMPLICIT_INSTANCE_REFS, references_to
from generator.errors import ConnectionProblem, TargetProblem
from generator.facts.live import LiveDatabases
from generator.facts.model import DatabaseFacts, TableRows
from generator.facts.reader import read_tables
from generator.ops.rows import Row, Scope
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.builders import eq as _eq
from generator.sqlgen.builders import isin as _in
from generator.sqlgen.literals import sql_literal


@dataclass(frozen=True)
class HostFacts:
    """The rehost target: its nova-compute service, compute node(s) and resource provider."""

    host: str
    services: tuple[Row, ...]
    compute_nodes: tuple[Row, ...]
    providers: tuple[Row, ...]
    source_nodes: tuple[Row, ...] = ()  # the compute node the instance points at now
    # the target providers' inventories and what every consumer uses of them now (capacity check)
    inventories: tuple[Row, ...] = ()
    usage: tuple[Row, ...] = ()
    # availability_zone metadata of the target host's aggregates (nova_api); None: not read
    zones: tuple[str, ...] | None = None


@dataclass(frozen=True)
class InstanceFacts:
    uuid: str
    cell_uuid: str | None
    cell_name: str | None
    instance: Row
    cell: DatabaseFacts
    api: DatabaseFacts | None
    placement: DatabaseFacts | None
    cinder: DatabaseFacts | None
    read_at: dt.datetime
    target_host: HostFacts | None = None
    include_shadow: bool = False

    @property
    def in_cell0(self) -> bool:
        return self.cell_uuid == CELL0_UUID


def scope_eq(column: str, value: object, description: str | None = None) -> Scope:
    return Scope(_eq(column, value), description or f"{column} = {sql_literal(value)}")


def _locate(live: LiveDatabases, uuid: str) -> tuple[Cell, Row]:
    """The cell holding the instance: from instance_mappings, else by asking every cell."""
    cells = live.cells()
    if not cells:
        raise ConnectionProblem(
            "no Nova database given: pass --nova-api-url (cells are found from it) "
            "or --nova-url, or --nova-conf"
        )
    mapped: Cell | None = None
    if live.has("nova_api"):
        rows = live.session("nova_api").query(
            "SELECT m.cell_id, c.uuid FROM instance_mappings m LEFT JOIN cell_mappings c ON c.id = m.cell_id "
            "WHERE m.instance_uuid = %s",
            (uuid,),
        )
        if rows and rows[0]["uuid"]:
            mapped = next((c for c in cells if c.uuid == rows[0]["uuid"]), None)
    order = ([mapped] if mapped else []) + [c for c in cells if c is not mapped]
    searched = []
    for cell in order:
        session = live.cell_session(cell)
        found = session.query("SELECT id FROM instances WHERE uuid = %s", (uuid,))
        searched.append(cell.name or cell.uuid or session.database)
        if found:
            return cell, Row.from_dict(found[0])
    raise TargetProblem(
        f"instance {uuid} not found: no instance_mappings cell had it and no cell database "
        f"holds it (searched: {', '.join(searched)})"
    )


def _cell_references(schema, uuid: str, include_shadow: bool):
    refs = list(references_to(schema, "instances", "uuid", uuid, NOVA_IMPLICIT_INSTANCE_REFS))
    if include_shadow:
        refs += references_to(
            schema, "instances", "uuid", uuid, NOVA_IMPLICIT_INSTANCE_REFS, prefix="shadow_"
        )
    return refs


def volume_bdm_ids(tables: dict) -> list[str]:
    """The volumes of the instance's volume BDMs (deleted or not: a purge of a deleted
    instance still ends the Cinder attachments Nova left behind)."""
    bdms = tables.get("block_device_mapping")
    return sorted({r["volume_id"] for r in bdms.rows if r["volume_id"]}) if bdms else []


def cinder_wanted(uuid: str, bdm_volumes: list[str]) -> list[tuple[str, Scope]]:
    """What a VM repair reads from Cinder: the volumes of the instance's BDMs and of its live
    attachments, every live attachment of those volumes (the status a volume is left in
    depends on the attachments that remain), the specs of the instance's attachments and
    the volumes' `attached_mode` admin metadata (what Cinder's attachment delete ends)."""
    mine = exp.and_(_eq("instance_uuid", uuid), _eq("deleted", 0))
    attached = exp.select("volume_id").from_("volume_attachment").where(mine)
    volumes = exp.or_(_in("id", bdm_volumes), exp.column("id").isin(query=attached))
    of_volumes = exp.or_(_in("volume_id", bdm_volumes), exp.column("volume_id").isin(query=attached.copy()))
    return [
        (
            "volume_attachment",
            Scope(
                exp.and_(_eq("deleted", 0), of_volumes), "live Cinder attachments of the instance's volumes"
            ),
        ),
        ("volumes", Scope(volumes, "the volumes of the instance's BDMs and Cinder attachments")),
        (
            "attachment_specs",
            Scope(
                exp.and_(
                    _eq("deleted", 0),
                    exp.column("attachment_id").isin(
                        query=exp.select("id").from_("volume_attachment").where(mine.copy())
                    ),
                ),
                "live specs of the instance's attachments",
            ),
        ),
        (
            "volume_admin_metadata",
            Scope(
                exp.and_(_eq("deleted", 0), _eq("key", "attached_mode"), of_volumes.copy()),
                "attached_mode admin metadata of those volumes",
            ),
        ),
    ]


def read_cinder(
    session: Session, schema: SchemaSnapshot, uuid: str, bdm_volumes: list[str]
) -> dict[str, TableRows]:
    """The rows of `cinder_wanted`, read by key: the instance's live attachments first (one round
    trip), then each table through an index, those ids as literals.

    A scope's `IN (SELECT … FROM volume_attachment WHERE instance_uuid = …)` ORed with a key list
    keeps MariaDB from using any index: each table was read whole (the volumes of a 100k-instance
    cloud: 42 ms). Both reads are in the session's one snapshot, so the rows are the scopes' rows,
    and the scopes are what the facts keep (the bundle's guards read by them at apply time)."""
    wanted = cinder_wanted(uuid, bdm_volumes)
    if not schema.has_table("volume_attachment"):
        return read_tables(session, schema, wanted)
    mine = session.query(
        "SELECT id, volume_id FROM volume_attachment WHERE instance_uuid = %s AND deleted = 0", (uuid,)
    )
    attachments = sorted({r["id"] for r in mine})
    volumes = sorted(set(bdm_volumes) | {r["volume_id"] for r in mine if r["volume_id"] is not None})
    by_key = {
        "volume_attachment": exp.and_(_eq("deleted", 0), _in("volume_id", volumes)),
        "volumes": _in("id", volumes),
        "attachment_specs": exp.and_(_eq("deleted", 0), _in("attachment_id", attachments)),
        "volume_admin_metadata": exp.and_(
            _eq("deleted", 0), _eq("key", "attached_mode"), _in("volume_id", volumes)
        ),
    }
    read = read_tables(
        session, schema, [(t, Scope(by_key[t], s.description) if t in by_key else s) for t, s in wanted]
    )
    scopes = dict(wanted)
    return {t: TableRows(t, scopes[t], rows.rows) for t, rows in read.items()}


def _with_pci_relatives(scope: Scope, uuid: str) -> Scope:
    """The instance's PCI devices and their live SR-IOV relatives (its PFs' VFs, its VFs'
    PF and sibling VFs), whose status Nova's PciDevice.free() also changes (plan/vm_pci.py).
    Matched here by address only; the planner pairs them per compute node."""

    def mine(column: str) -> exp.Select:
        return (
            exp.select(column)
            .from_("pci_devices")
            .where(
                exp.and_(
                    _eq("instance_uuid", uuid), _eq("deleted", 0), exp.column(column).is_(exp.null()).not_()
                )
            )
        )

    related = exp.and_(
        _eq("deleted", 0),
        exp.column("compute_node_id").isin(query=mine("compute_node_id")),
        exp.or_(
            exp.column("address").isin(query=mine("parent_addr")),
            exp.column("parent_addr").isin(query=mine("address")),
            exp.column("parent_addr").isin(query=mine("parent_addr")),
        ),
    )
    return Scope(exp.or_(scope.tree(), related), f"{scope.description}, and their PF/VF relatives")


def cell_wanted(schema: SchemaSnapshot, uuid: str, include_shadow: bool) -> list[tuple[str, Scope]]:
    """What a VM repair reads from the instance's cell (the rehost target's services aside): the
    instance, its shadow row, every referencing row and the PCI devices' SR-IOV relatives. One
    list for read_instance and the fleet batch reader (facts/batch.py), so they cannot drift."""
    wanted = [("instances", scope_eq("uuid", uuid, f"instances.uuid = '{uuid}'"))]
    if include_shadow and schema.has_table("shadow_instances"):
        wanted.append(("shadow_instances", scope_eq("uuid", uuid)))
    wanted += [
        (r.table, _with_pci_relatives(r.scope, uuid) if r.table == "pci_devices" else r.scope)
        for r in _cell_references(schema, uuid, include_shadow)
    ]
    return wanted


def read_instance(
    live: LiveDatabases, uuid: str, *, to_host: str | None = None, include_shadow: bool = False
) -> InstanceFacts:
    cell, _ = _locate(live, uuid)
    session = live.cell_session(cell)
    cell_label = f"Nova cell database ({cell.name or session.database})"
    info = live.info("cell:" + cell.uuid, session, "nova", cell_label)
    wanted = cell_wanted(info.schema, uuid, include_shadow)
    host_facts = None
    # nova-compute on the instance's own host (is it alive?) and on a rehost target
    on_instance_host = exp.column("host").isin(
        query=exp.select("host").from_("instances").where(_eq("uuid", uuid))
    )
    wanted.append(
        (
            "services",
            Scope(
                exp.and_(
                    exp.or_(on_instance_host, _eq("host", to_host or "")),
                    _eq("binary", "nova-compute"),
                    _eq("deleted", 0),
                ),
                "nova-compute services of the instance host and the target host",
            ),
        )
    )
    if to_host:
        wanted += [
            (
                "compute_nodes",
                Scope(exp.and_(_eq("host", to_host), _eq("deleted", 0)), f"compute nodes of {to_host}"),
            ),
        ]
    tables = read_tables(session, info.schema, wanted)
    instance = tables["instances"].rows[0]
    source_nodes: tuple[Row, ...] = ()
    cell_facts = info.facts(tables, "nova", cell_label)

    api_facts = None
    zones: tuple[str, ...] | None = None
    if live.has("nova_api"):
        api_session = live.session("nova_api")
        if to_host:
            # availability_zones.get_host_availability_zone: the host's aggregates' AZ metadata
            zones = tuple(
                r["value"]
                for r in api_session.query(
                    "SELECT m.value FROM aggregate_hosts h JOIN aggregate_metadata m "
                    "ON m.aggregate_id = h.aggregate_id AND m.`key` = 'availability_zone' "
                    "WHERE h.host = %s ORDER BY h.aggregate_id",
                    (to_host,),
                )
            )
        api_info = live.info("nova_api", api_session, "nova_api", LABELS["nova_api"])
        api_tables = read_tables(
            api_session,
            api_info.schema,
            [
                (t, scope_eq("instance_uuid", uuid))
                for t in ("instance_mappings", "request_specs", "build_requests", "instance_group_member")
            ],
        )
        api_facts = api_info.facts(api_tables, "nova_api")

    migrations = tables.get("migrations")
    consumers = [uuid] + [m["uuid"] for m in migrations.rows if m["uuid"]] if migrations else [uuid]
    placement_facts = None
    providers: tuple[Row, ...] = ()
    capacity: tuple[tuple[Row, ...], tuple[Row, ...]] = ((), ())
    if live.has("placement"):
        p_session = live.session("placement")
        p_info = live.info("placement", p_session, "placement", LABELS["placement"])
        node_uuids = [n["uuid"] for n in tables["compute_nodes"].rows] if to_host else []
        p_wanted = [
            (
                "allocations",
                Scope(_in("consumer_id", consumers), "allocations held by the instance (and its migrations)"),
            ),
            ("consumers", Scope(_in("uuid", consumers), "placement consumers of the instance")),
        ]
        p_tables = read_tables(p_session, p_info.schema, p_wanted)
        rp_ids = sorted({a["resource_provider_id"] for a in p_tables["allocations"].rows})
        extra = read_tables(
            p_session,
            p_info.schema,
            [
                (
                    "resource_providers",
                    Scope(exp.or_(_in("id", rp_ids), _in("uuid", node_uuids)), "resource providers involved"),
                ),
            ],
        )
        p_tables.update(extra)
        providers = tuple(r for r in extra["resource_providers"].rows if r["uuid"] in node_uuids)
        if providers:
            ids = [r["id"] for r in providers]
            marks = ", ".join(["%s"] * len(ids))
            inventories, usage = p_session.query_many(
                [
                    (f"SELECT * FROM inventories WHERE resource_provider_id IN ({marks})", ids),
                    (
                        "SELECT resource_provider_id, resource_class_id, SUM(used) AS used "
                        f"FROM allocations WHERE resource_provider_id IN ({marks}) "
                        "GROUP BY resource_provider_id, resource_class_id",
                        ids,
                    ),
                ]
            )
            capacity = (
                tuple(Row.from_dict(r) for r in inventories),
                tuple(Row.from_dict({**r, "used": int(r["used"])}) for r in usage),
            )
        if to_host:
            # Which of the providers the instance (or its migrations) use are compute nodes:
            # only those allocations move with a rehost (nested/shared providers stay).
            rp_uuids = [r["uuid"] for r in extra["resource_providers"].rows]
            node_scope = exp.or_(
                _in("uuid", rp_uuids),
                exp.and_(
                    _eq("host", instance["host"] or ""), _eq("hypervisor_hostname", instance["node"] or "")
                ),
            )
            source_nodes = read_tables(
                session,
                info.schema,
                [
                    (
                        "compute_nodes",
                        Scope(exp.and_(node_scope, _eq("deleted", 0)), "compute nodes the instance uses"),
                    )
                ],
            )["compute_nodes"].rows
        placement_facts = p_info.facts(p_tables, "placement")
    if to_host:
        host_facts = HostFacts(
            to_host,
            tuple(r for r in tables["services"].rows if r["host"] == to_host),
            tables["compute_nodes"].rows,
            providers,
            source_nodes,
            *capacity,
            zones,
        )

    cinder_facts = None
    if live.has("cinder"):
        c_session = live.session("cinder")
        c_info = live.info("cinder", c_session, "cinder", LABELS["cinder"])
        c_tables = read_cinder(c_session, c_info.schema, uuid, volume_bdm_ids(tables))
        cinder_facts = c_info.facts(c_tables, "cinder")

    read_at = session.query("SELECT UTC_TIMESTAMP() AS now")[0]["now"]
    return InstanceFacts(
        uuid,
        cell.uuid or None,
        cell.name,
        instance,
        cell_facts,
        api_facts,
        placement_facts,
        cinder_facts,
        read_at,
        host_facts,
        include_shadow,
    )
