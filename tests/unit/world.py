"""Hand-built facts for the unit layer, shaped the way the facts stage shapes live ones.

`generator/facts/instance.py` and `generator/facts/volume.py` read every table with a
scope (the FK graph from the target plus the references Nova and Cinder keep without a
FK) and hand the planner frozen `DatabaseFacts`; the builders here do the same from
rows written by hand: each table gets the scope the live reader would have used
(`references_to`, `volume_scopes`), every row carries every catalog column (NULL unless
given), and the schema is the catalog snapshot of the release. No database is opened.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from functools import cache

from sqlglot import exp

from generator.catalog import catalog_snapshot
from generator.domain import cinder_quota
from generator.domain.references import NOVA_IMPLICIT_INSTANCE_REFS, references_to
from generator.facts.instance import HostFacts, InstanceFacts
from generator.facts.model import DatabaseFacts, TableRows
from generator.facts.volume import NovaCell, ProjectUsage, VolumeFacts, volume_scopes
from generator.ops.rows import Row, Scope
from generator.plan import builders as b
from generator.plan.model import Plan
from generator.render.files import RenderedFile
from generator.scratch.deployment import CELL0_UUID
from tests.hand_facts import ATTACHED_TO, INSTANCE, NOW, OTHER_VOLUME, VOLUME

RELEASE = "2025.1"
CELL1_UUID = "11111111-2222-4333-8444-555555555555"
OTHER_INSTANCE = "9d4a6f41-3f7e-4c11-9a2b-4e5f60718293"
PORT = "5e6f7a8b-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
PORT2 = "6f7a8b9c-2d3e-4f40-9bac-1d2e3f4a5b6c"
MIGRATION = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
SNAPSHOT = "1b2c3d4e-5f60-4b7c-8d9e-0f1a2b3c4d5e"
BACKUP = "2c3d4e5f-6071-4c8d-9eaf-102b3c4d5e6f"
TARGET_NODE_UUID = "3d4e5f60-7182-4d9e-8fb0-213c4d5e6f70"
SOURCE_NODE_UUID = "4e5f6071-8293-4eaf-90c1-324d5e6f7081"
IQN = "iqn.2010-10.org.openstack:volume-" + OTHER_VOLUME

__all__ = ["ATTACHED_TO", "INSTANCE", "NOW", "OTHER_VOLUME", "VOLUME"]


@cache
def schema(kind: str, release: str = RELEASE):
    return catalog_snapshot(release, kind)


def row(kind: str, table: str, release: str = RELEASE, **values: object) -> Row:
    """A row with every catalog column of `table` (NULL unless given); unknown columns are a test bug."""
    columns = schema(kind, release).table(table).column_names
    unknown = set(values) - set(columns)
    assert not unknown, f"{table} has no column(s) {sorted(unknown)}"
    return Row(tuple(columns), tuple(values.get(c) for c in columns))


def database(
    role: str,
    kind: str,
    tables: Mapping[str, Sequence[Row]],
    scopes: Mapping[str, Scope] | None = None,
    *,
    label: str | None = None,
    name: str | None = None,
    release: str = RELEASE,
) -> DatabaseFacts:
    """DatabaseFacts of one database: rows per table, each table with the scope it was read by."""
    scopes = scopes or {}
    fallback = Scope(exp.true(), "hand-built")
    return DatabaseFacts(
        role=role,
        label=label or f"{role} database",
        release=release,
        schema=schema(kind, release),
        database=name or role,
        schema_fingerprint="sha256:hand-built",
        detection="hand-built facts (tests/unit/world.py)",
        tables={t: TableRows(t, scopes.get(t, fallback), tuple(rs)) for t, rs in tables.items()},
    )


# -- VM -------------------------------------------------------------------------------
def instance_row(uuid: str = INSTANCE, **values: object) -> Row:
    base: dict[str, object] = dict(
        id=7, uuid=uuid, deleted=0, vm_state="error", task_state="deleting", power_state=4,
        host="cmp-01", node="cmp-01.example", display_name="web-1", project_id="p1", user_id="u1",
        updated_at=NOW - dt.timedelta(days=1), created_at=NOW - dt.timedelta(days=2),
    )  # fmt: skip
    base.update(values)
    return row("nova", "instances", **base)


def cell_scopes(uuid: str = INSTANCE, release: str = RELEASE) -> dict[str, Scope]:
    """The scopes `facts.instance.read_instance` reads a cell with."""
    scopes = {"instances": Scope(b.eq("uuid", uuid), f"instances.uuid = '{uuid}'")}
    for ref in references_to(schema("nova", release), "instances", "uuid", uuid, NOVA_IMPLICIT_INSTANCE_REFS):
        scopes[ref.table] = ref.scope
    return scopes


def network_info(*ports: str, vif_type: str = "ovs", hybrid: bool = False) -> str:
    return json.dumps(
        [
            {
                "id": p,
                "address": f"fa:16:3e:00:00:{i:02x}",
                "type": vif_type,
                "devname": f"tap{p[:11]}",
                "details": {"ovs_hybrid_plug": hybrid, "port_filter": True},
                "network": {"bridge": "br-int", "id": "net-1"},
                "preserve_on_delete": False,
            }
            for i, p in enumerate(ports, 1)
        ]
    )


def iscsi_connection(iqn: str = IQN, portal: str = "192.0.2.10:3260", lun: int = 1) -> str:
    return json.dumps(
        {
            "driver_volume_type": "iscsi",
            "data": {"target_iqn": iqn, "target_portal": portal, "target_lun": lun},
        }
    )


def vm(
    *,
    instance: Row | None = None,
    cell_rows: Mapping[str, Sequence[Row]] | None = None,
    api_rows: Mapping[str, Sequence[Row]] | None = None,
    placement_rows: Mapping[str, Sequence[Row]] | None = None,
    cinder_rows: Mapping[str, Sequence[Row]] | None = None,
    cell0: bool = False,
    target_host: HostFacts | None = None,
    read_at: dt.datetime = NOW,
) -> InstanceFacts:
    """InstanceFacts as `read_instance` returns them; a database is given only when its rows are."""
    inst = instance or instance_row()
    uuid = inst["uuid"]
    cell = database(
        "nova", "nova", {"instances": [inst], **(cell_rows or {})}, cell_scopes(uuid),
        label="Nova cell database (cell1)", name="nova_cell1",
    )  # fmt: skip
    api = None if api_rows is None else database("nova_api", "nova_api", api_rows, label="Nova API database")
    placement = (
        None
        if placement_rows is None
        else database("placement", "placement", placement_rows, label="Placement database")
    )
    cin = None if cinder_rows is None else database("cinder", "cinder", cinder_rows, label="Cinder database")
    return InstanceFacts(
        uuid=uuid,
        cell_uuid=CELL0_UUID if cell0 else CELL1_UUID,
        cell_name="cell0" if cell0 else "cell1",
        instance=inst,
        cell=cell,
        api=api,
        placement=placement,
        cinder=cin,
        read_at=read_at,
        target_host=target_host,
    )


def metadata(id: int, key: str, uuid: str = INSTANCE, deleted: int = 0) -> Row:
    return row("nova", "instance_metadata", id=id, key=key, value="v", instance_uuid=uuid, deleted=deleted)


def allocation(id: int, consumer: str, rp: int, rc: int = 0, used: int = 1) -> Row:
    return row(
        "placement", "allocations", id=id, consumer_id=consumer, resource_provider_id=rp,
        resource_class_id=rc, used=used,
    )  # fmt: skip


def inventory(
    rp: int, rc: int, total: int, *, reserved: int = 0, ratio: float = 1.0, max_unit: int = 0
) -> Row:
    return row(
        "placement", "inventories", id=rp * 100 + rc, resource_provider_id=rp, resource_class_id=rc,
        total=total, reserved=reserved, min_unit=1, max_unit=max_unit or total, step_size=1,
        allocation_ratio=ratio,
    )  # fmt: skip


def usage(rp: int, rc: int, used: int) -> Row:
    """What every consumer uses of a class on a provider (SUM(used) per provider and class)."""
    return Row.from_dict({"resource_provider_id": rp, "resource_class_id": rc, "used": used})


def consumer(id: int, uuid: str, generation: int = 1) -> Row:
    return row(
        "placement", "consumers", id=id, uuid=uuid, project_id=1, user_id=1, generation=generation,
        consumer_type_id=None,
    )  # fmt: skip


def provider(id: int, uuid: str, name: str, generation: int = 5) -> Row:
    return row(
        "placement", "resource_providers", id=id, uuid=uuid, name=name, generation=generation,
        root_provider_id=id,
    )  # fmt: skip


def service(id: int, host: str, *, disabled: int = 0, forced_down: int = 0, **values: object) -> Row:
    return row(
        "nova", "services", id=id, host=host, binary="nova-compute", topic="compute", disabled=disabled,
        forced_down=forced_down, deleted=0, updated_at=NOW - dt.timedelta(minutes=1), **values,
    )  # fmt: skip


def compute_node(id: int, host: str, hostname: str, uuid: str) -> Row:
    return row(
        "nova", "compute_nodes", id=id, host=host, hypervisor_hostname=hostname, uuid=uuid, deleted=0,
        service_id=id, vcpus=8, memory_mb=1024, local_gb=10, vcpus_used=0, memory_mb_used=0,
        local_gb_used=0, hypervisor_type="QEMU", hypervisor_version=1, cpu_info="{}",
    )  # fmt: skip


def rehost_world(
    *,
    services: Sequence[Row] | None = None,
    nodes: Sequence[Row] | None = None,
    placement: bool = True,
    migrations: Sequence[Row] = (),
    instance: Row | None = None,
    extra: Sequence[Row] = (),
    target_allocations: Sequence[Row] = (),
    capacity: Sequence[Row] = (),
    usage: Sequence[Row] = (),
    more_cell_rows: Mapping[str, Sequence[Row]] | None = None,
) -> InstanceFacts:
    """A VM pointing at cmp-01 that really runs on cmp-02 (--to-host cmp-02), with placement.
    `extra`: instance_extra rows; `target_allocations`: other consumers' allocations on cmp-02."""
    inst = instance or instance_row(vm_state="error", task_state=None, power_state=1)
    svc = list(services) if services is not None else [service(2, "cmp-02")]
    target_nodes = (
        list(nodes) if nodes is not None else [compute_node(2, "cmp-02", "cmp-02.example", TARGET_NODE_UUID)]
    )
    source = compute_node(1, "cmp-01", "cmp-01.example", SOURCE_NODE_UUID)
    inventories = tuple(inventory(2, rc, 65536) for rc in (0, 1, 2))
    host = HostFacts(
        "cmp-02", tuple(svc), tuple(target_nodes), (), (source,), inventories + tuple(capacity), tuple(usage)
    )
    prows = None
    if placement:
        prows = {
            "allocations": [allocation(1, INSTANCE, 1, 0, 2), allocation(2, INSTANCE, 1, 1, 512)]
            + [allocation(3, m["uuid"], 2, 0, 2) for m in migrations if m["uuid"]]
            + list(target_allocations),
            "consumers": [consumer(1, INSTANCE)] + [consumer(2, m["uuid"]) for m in migrations if m["uuid"]],
            "resource_providers": [
                provider(1, SOURCE_NODE_UUID, "cmp-01.example"),
                provider(2, TARGET_NODE_UUID, "cmp-02.example"),
            ],
        }
    return vm(
        instance=inst,
        cell_rows={
            "services": svc,
            "compute_nodes": target_nodes,
            "migrations": list(migrations),
            "instance_extra": list(extra),
            **(more_cell_rows or {}),
        },
        placement_rows=prows,
        target_host=host,
    )


def migration(
    id: int, status: str, uuid: str | None = MIGRATION, deleted: int = 0, *, kind: str = "migration",
    source: str = "cmp-01", dest: str = "cmp-02",
) -> Row:  # fmt: skip
    return row(
        "nova", "migrations", id=id, uuid=uuid, instance_uuid=INSTANCE, status=status, deleted=deleted,
        source_compute=source, dest_compute=dest, migration_type=kind,
    )  # fmt: skip


# -- volumes --------------------------------------------------------------------------
def volume_row(**values: object) -> Row:
    base: dict[str, object] = dict(
        id=VOLUME, deleted=0, status="detaching", attach_status="attached", host="cinder-vol@lvm#lvm",
        project_id="p1", user_id="u1", volume_type_id="t1", display_name="data", size=10,
        updated_at=NOW - dt.timedelta(days=1), use_quota=1,
    )  # fmt: skip
    base.update(values)
    return row("cinder", "volumes", **base)


def attachment(id: str, instance_uuid: str = ATTACHED_TO, **values: object) -> Row:
    base: dict[str, object] = dict(
        id=id, volume_id=VOLUME, instance_uuid=instance_uuid, attach_status="attached",
        attached_host="cmp-01", mountpoint="/dev/vdb", deleted=0,
    )  # fmt: skip
    base.update(values)
    return row("cinder", "volume_attachment", **base)


def quota_row(id: int, resource: str, in_use: int, project: str = "p1", reserved: int = 0) -> Row:
    return row(
        "cinder", "quota_usages", id=id, project_id=project, resource=resource, in_use=in_use,
        reserved=reserved, deleted=0,
    )  # fmt: skip


def volume_type(id: str = "t1", name: str = "lvm") -> Row:
    return row("cinder", "volume_types", id=id, name=name, deleted=0)


def cinder_db(tables: Mapping[str, Sequence[Row]], volume_id: str = VOLUME) -> DatabaseFacts:
    """The Cinder facts `read_volume` builds: every referencing table with its live scope."""
    scopes = {"volumes": Scope(b.eq("id", volume_id), f"volumes.id = '{volume_id}'")}
    scopes.update(volume_scopes(schema("cinder"), volume_id))
    return database("cinder", "cinder", tables, scopes, label="Cinder database", name="cinder")


def nova_cell(instances: Sequence[Row], bdms: Sequence[Row], name: str = "cell1") -> NovaCell:
    facts = database(
        "nova", "nova", {"instances": list(instances), "block_device_mapping": list(bdms)},
        label=f"Nova cell database ({name})", name=f"nova_{name}",
    )  # fmt: skip
    return NovaCell(CELL1_UUID, name, facts)


def bdm(id: int, instance_uuid: str = ATTACHED_TO, volume_id: str = VOLUME, **values: object) -> Row:
    base: dict[str, object] = dict(
        id=id, instance_uuid=instance_uuid, volume_id=volume_id, deleted=0, source_type="volume",
        destination_type="volume", device_name="/dev/vdb", connection_info=iscsi_connection(),
    )  # fmt: skip
    base.update(values)
    return row("nova", "block_device_mapping", **base)


def volume(
    *,
    vol: Row | None = None,
    missing: bool = False,
    tables: Mapping[str, Sequence[Row]] | None = None,
    usage_rows: Sequence[Row] = (),
    counts: cinder_quota.UsageCounts | None = None,
    cells: Sequence[NovaCell] = (),
    nova_given: bool | None = None,
    read_at: dt.datetime = NOW,
) -> VolumeFacts:
    """VolumeFacts as `read_volume` returns them (usage: the project counted without the volume).

    `missing`: the volume row is not in the Cinder database (purged).
    """
    v = None if missing else vol if vol is not None else volume_row()
    all_tables: dict[str, Sequence[Row]] = {
        "volumes": [v] if v is not None else [],
        "volume_types": [volume_type()],
    }
    all_tables.update(tables or {})
    all_tables["quota_usages"] = list(usage_rows)
    facts = cinder_db(all_tables)
    usage = ProjectUsage("p1", tuple(usage_rows), counts or cinder_quota.UsageCounts())
    return VolumeFacts(
        volume_id=VOLUME,
        cinder=facts,
        usage=usage,
        nova_cells=tuple(cells),
        nova_given=bool(cells) if nova_given is None else nova_given,
        read_at=read_at,
    )


def sql_of(expression: exp.Expression) -> str:
    """One-line SQL of a scope or condition (for substring assertions)."""
    return " ".join(expression.sql(dialect="mysql").split())


def ops_on(plan, table: str, database: str | None = None) -> list:
    """The plan's operations on `table` (of one database role when given), in order."""
    return [o for o in plan.operations if o.table == table and (database is None or o.database == database)]


def one_op(plan, table: str, database: str | None = None):
    found = ops_on(plan, table, database)
    assert len(found) == 1, f"expected one operation on {table}, found {len(found)}"
    return found[0]


def post_texts(conditions) -> list[str]:
    return [f"{c.database}: {c.description}: {sql_of(c.condition)}" for c in conditions]


def flat(text: str) -> str:
    """Rendered SQL on one line: whitespace runs collapsed, none just inside parentheses."""
    one = " ".join(text.split())
    return one.replace("( ", "(").replace(" )", ")")


def unsplit(text: str) -> str:
    """Capture-file text with its printed lines re-joined: they are CONCATs of short literals."""
    return flat(text).replace("', '", "")


@cache
def offline_vm_rendered(op: str) -> tuple[Plan, dict[str, RenderedFile], dict]:
    """(plan, {path: RenderedFile}, guard index) of an offline VM bundle, rendered once per run
    (offline SQL is the slowest to render)."""
    from generator.plan.vm_common import VmOptions
    from generator.plan.vm_offline import plan_vm_offline
    from generator.render.sql import render_sql

    plan = plan_vm_offline(INSTANCE, VmOptions(op=op), RELEASE)
    files, guards = render_sql(plan)
    return plan, {f.path: f for f in files}, guards
