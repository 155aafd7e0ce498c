"""Live VM plans from synthetic rows, per catalog release, for tools/ship_lint_verdicts.py (no database).

A live bundle writes statements an offline one never does (per-row guards and
fingerprints, restores of recorded values). Their shapes (generator/lint/shapes.py)
abstract values, layout, list lengths and table widths, so what is left is the form
of each statement template the renderer has for a table read with a scope: rows in
every table a live read of an instance fills — the instance's cell with every table
that references it (`cell_wanted`, the list the live reader uses), nova_api's
instance tables and the instance's placement allocations — give a plan whose
shapes are those a real instance's bundle has. Each table gets one row and then two
(a key list of one and of several), single and merged (--batch). Values are
synthetic and typed by the catalog column (NULL where the column allows it): a
shape does not depend on them. Each is made again with the rows that reference the instance
through another row (an action's events) and long text values (restored in pieces).

Each plan is made again for an instance with volumes and a Cinder database (the
attachments Cinder's attachment_delete ends, `cinder_wanted` scopes): its volume
BDMs, their attachments, volumes and attached_mode metadata, and with two volumes
also attachment specs and a second instance's attachment on one of the volumes
(a multiattach volume stays in-use), so a live bundle of an instance with volumes
is served by shipped verdicts on a fresh machine too.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator

from generator.catalog import catalog_snapshot
from generator.domain.references import NOVA_IMPLICIT_INSTANCE_REFS, references_to
from generator.facts.instance import InstanceFacts, cell_wanted, cinder_wanted, scope_eq
from generator.facts.model import DatabaseFacts, TableRows
from generator.ops.rows import Row, Scope
from generator.plan.model import Plan
from generator.schema.model import Column, SchemaSnapshot

NOW = dt.datetime(2026, 1, 2, 3, 4, 5)
INSTANCES = ("6f1c3a52-0b7e-4d7a-9a51-3c2f1d0e9b11", "0d2e4f60-7a8b-4c9d-8e0f-1a2b3c4d5e6f")
CELL = "11111111-2222-4333-8444-555555555555"
LIVE_OPS = ("soft-delete", "purge")  # rehost needs a target host's services and nodes: not rendered here
_INTS = ("int", "bigint", "smallint", "tinyint", "mediumint")
_TEXTS = ("varchar", "char", "text", "mediumtext", "longtext", "enum")


_LONG = ("text", "mediumtext", "longtext")


def _value(col: Column, n: int, long: bool = False) -> object:
    kind = col.base_type
    if col.name in ("deleted", "queued_for_delete"):
        return 0
    if long and kind in _LONG:  # a value longer than a line piece: restored as CONCAT of pieces
        return "null" + " " * 300  # JSON (network_info, specs) that says nothing
    if kind in _INTS:
        return n
    if kind in ("float", "double", "decimal"):
        return 1.5
    if kind in ("datetime", "timestamp", "date"):
        return NOW - dt.timedelta(days=3)
    if kind in _TEXTS:
        return None if col.nullable else f"v{n}"
    return None


def _rows(
    schema: SchemaSnapshot, table: str, count: int, given: dict[str, object], first: int, long: bool = False
) -> list[Row]:
    columns = schema.table(table).columns
    out = []
    for i in range(count):
        values = {c.name: _value(c, first + i, long) for c in columns} | given
        out.append(Row(tuple(c.name for c in columns), tuple(values[c.name] for c in columns)))
    return out


def _database(
    role: str, schema: SchemaSnapshot, release: str, tables: dict[str, tuple[Scope, list[Row]]]
) -> DatabaseFacts:
    return DatabaseFacts(
        role=role,
        label=f"{role} database",
        release=release,
        schema=schema,
        database=role,
        schema_fingerprint="sha256:synthetic",
        detection="synthetic rows (tools/live_shapes.py)",
        tables={t: TableRows(t, scope, tuple(rows)) for t, (scope, rows) in tables.items()},
    )


def instance_facts(release: str, uuid: str, count: int, base: int = 0, deep: bool = False) -> InstanceFacts:
    """A stuck instance with `count` synthetic rows in every table a live read fills (keys from `base`).

    `deep`: also the rows that reference the instance through another table's rows (an
    instance action's events: one per parent row, keyed by it), and long text values."""
    nova = catalog_snapshot(release, "nova")
    refs = {r.table: r for r in references_to(nova, "instances", "uuid", uuid, NOVA_IMPLICIT_INSTANCE_REFS)}
    instance = _rows(nova, "instances", 1, {
        "id": 7 + base, "uuid": uuid, "vm_state": "error", "task_state": "deleting", "power_state": 4,
        "host": "cmp-01", "node": "cmp-01.example", "project_id": "p1", "user_id": "u1",
        "updated_at": NOW - dt.timedelta(days=1),
    }, 7 + base)[0]  # fmt: skip
    cell: dict[str, tuple[Scope, list[Row]]] = {}
    for table, scope in cell_wanted(nova, uuid, False):
        ref = refs.get(table)
        if table == "instances":
            cell[table] = (scope, [instance])
        elif ref is not None and ref.depth == 1:
            cell[table] = (scope, _rows(nova, table, count, {ref.column: uuid}, 1000 + base, deep))
        elif ref is not None and deep and ref.parent in cell:  # one row per parent row, keyed by it
            parents = cell[ref.parent][1]
            cell[table] = (scope, [
                _rows(nova, table, 1, {ref.column: p[ref.parent_column]}, 2000 + base + n, deep)[0]
                for n, p in enumerate(parents)
            ])  # fmt: skip
    api = catalog_snapshot(release, "nova_api")
    mapping = _rows(api, "instance_mappings", 1, {"instance_uuid": uuid, "cell_id": 2}, 1 + base)
    placement = catalog_snapshot(release, "placement")
    allocations = [
        _rows(placement, "allocations", 1, {"consumer_id": uuid, "resource_provider_id": 1,
                                             "resource_class_id": rc, "used": 1}, 1 + base + rc)[0]
        for rc in range(count)
    ]  # fmt: skip
    consumer = _rows(placement, "consumers", 1, {"uuid": uuid, "consumer_type_id": None}, 1 + base)
    a_tables = {"instance_mappings": (scope_eq("instance_uuid", uuid), mapping)}
    p_tables = {
        "allocations": (scope_eq("consumer_id", uuid), allocations),
        "consumers": (scope_eq("uuid", uuid), consumer),
    }
    return InstanceFacts(
        uuid=uuid,
        cell_uuid=CELL,
        cell_name="cell1",
        instance=instance,
        cell=_database("nova", nova, release, cell),
        api=_database("nova_api", api, release, a_tables),
        placement=_database("placement", placement, release, p_tables),
        cinder=None,
        read_at=NOW,
    )


_TARGET = {
    "target_iqn": "iqn.2010-10.org.openstack:volume-1",
    "target_portal": "192.0.2.10:3260",
    "target_lun": 1,
}
ISCSI = json.dumps({"driver_volume_type": "iscsi", "data": _TARGET})


def _volume_id(uuid: str, n: int) -> str:
    return f"{uuid[:-4]}{0xA000 + n:04x}"


def with_cinder(facts: InstanceFacts, release: str, count: int) -> InstanceFacts:
    """`facts` for an instance with `count` volumes attached through Cinder (a Cinder database read)."""
    from dataclasses import replace

    uuid = facts.uuid
    first = 5000 + 10 * int(str(facts.instance["id"]))  # row ids of its own: the batch merges two instances
    vols = [_volume_id(uuid, n) for n in range(count)]
    atts = [_volume_id(uuid, 0x100 + n) for n in range(count)]
    nova = facts.cell.schema
    bdm_scope = facts.cell.tables["block_device_mapping"].scope
    bdms = _rows(nova, "block_device_mapping", 0, {}, 0) + [
        _rows(nova, "block_device_mapping", 1, {
            "instance_uuid": uuid, "volume_id": v, "attachment_id": a, "source_type": "volume",
            "destination_type": "volume", "device_name": f"/dev/vd{'bc'[n]}", "delete_on_termination": n % 2,
            "connection_info": ISCSI,
        }, first + n)[0]
        for n, (v, a) in enumerate(zip(vols, atts, strict=True))
    ]  # fmt: skip
    cell_tables = dict(facts.cell.tables)
    cell_tables["block_device_mapping"] = TableRows("block_device_mapping", bdm_scope, tuple(bdms))
    cinder = catalog_snapshot(release, "cinder")
    scopes = dict(cinder_wanted(uuid, vols))
    common = {"deleted": 0, "deleted_at": None}
    attached = {"instance_uuid": uuid, "attach_status": "attached", "attached_host": "cmp-01"}
    rows: dict[str, list[Row]] = {
        "volume_attachment": [
            _rows(cinder, "volume_attachment", 1, {**common, **attached, "id": a, "volume_id": v}, 1)[0]
            for v, a in zip(vols, atts, strict=True)
        ],
        "volumes": [
            _rows(cinder, "volumes", 1, {**common, "id": v, "status": "in-use", "attach_status": "attached",
                                         "project_id": "p1", "use_quota": 1}, 1)[0]
            for v in vols
        ],
        "volume_admin_metadata": [
            _rows(cinder, "volume_admin_metadata", 1, {**common, "id": first + n, "volume_id": v,
                                                       "key": "attached_mode", "value": "rw"}, 1)[0]
            for n, v in enumerate(vols)
        ],
        "attachment_specs": [],
    }  # fmt: skip
    if count > 1:  # specs of an attachment, and another instance's attachment on the last volume
        rows["attachment_specs"] = [
            _rows(cinder, "attachment_specs", 1, {**common, "id": first, "attachment_id": atts[0],
                                                  "key": "host", "value": "cmp-01"}, 1)[0]
        ]  # fmt: skip
        other = {
            **common,
            **attached,
            "id": _volume_id(uuid, 0x200),
            "volume_id": vols[-1],
            "instance_uuid": CELL,
        }
        rows["volume_attachment"].append(_rows(cinder, "volume_attachment", 1, other, 1)[0])
    tables = {t: (scopes[t], r) for t, r in rows.items() if cinder.has_table(t)}
    return replace(
        facts,
        cell=replace(facts.cell, tables=cell_tables),
        cinder=_database("cinder", cinder, release, tables),
    )


def live_plans(release: str) -> Iterator[Plan]:
    """Each live VM operation on synthetic rows: one and two rows per table, single and batched,
    without volumes and with volumes attached through Cinder, without and with deeper rows and
    long values."""
    from generator.plan.batch import merge_plans
    from generator.plan.vm import plan_vm
    from generator.plan.vm_common import VmOptions

    for op in LIVE_OPS:
        for count, volumes, deep in itertools.product((1, 2), (False, True), (False, True)):
            facts = [instance_facts(release, uuid, count, 100 * n, deep) for n, uuid in enumerate(INSTANCES)]
            if volumes:
                facts = [with_cinder(f, release, count) for f in facts]
            plans = [plan_vm(f, VmOptions(op=op)) for f in facts]
            yield plans[0]
            yield merge_plans(plans)
