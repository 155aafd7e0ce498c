"""Releasing an instance's PCI devices as Nova's `PciDevice.free()` does (live VM soft-delete and purge).

nova/objects/pci_device.py `free()` accepts only a device that is `allocated` or
`claimed` (anything else raises PciDeviceInvalidStatus and stays as it is), sets it
`available` with instance_uuid and request_id NULL, and carries the SR-IOV family along;
the PCI tracker then saves every device it changed (`pci_device_update`, an ORM flush:
updated_at = now, on the relatives too):

- freeing a PF (`type-PF`) sets every child VF `available` (they were `unavailable`
  while the PF was assigned);
- freeing a VF (`type-VF`, or a `vdpa` device) sets its parent PF `available` once every
  other child of that PF is `available` (the PF was `unavailable` while a VF was in use).

Children are found as Nova finds them (`pci_device_get_all_by_parent_addr`, and the
parent with `pci_device_get_by_addr`): live rows of the same compute node whose
`parent_addr` is the PF's address. The facts read those relatives next to the instance's
own devices (facts/instance.py); this module only decides. Freeing several VFs of one
PF in sequence, as Nova does, ends with the PF available exactly when all its children
are, which is what is computed here.
"""

from __future__ import annotations

from functools import cache

from sqlglot import exp

from generator.facts.model import DatabaseFacts
from generator.ops.operations import ApplyTime, Operation, SetValue, UpdateRows
from generator.ops.rows import Row
from generator.plan import builders as b
from generator.plan.recipe import Step, live_step, on_target

HOLDING = ("allocated", "claimed")  # the statuses PciDevice.free() accepts
AVAILABLE = "available"
PF = "type-PF"
VF_LIKE = ("type-VF", "vdpa")  # devices whose parent PF free() re-evaluates
# Offline the relatives are not read; the UPDATE would need a same-table subquery (ERROR 1093 on MySQL).
OFFLINE_PCI_WARNING = (
    "offline: the instance's allocated/claimed PCI devices are released, but not the status PciDevice.free() "
    "carries to their SR-IOV relatives: after the apply, a PF whose VFs are all available, and the VFs of a "
    "PF the instance held, may still say 'unavailable'; check `SELECT id, address, dev_type, status, "
    "parent_addr FROM pci_devices WHERE compute_node_id = <node> AND deleted = 0` and set those to "
    "'available' by hand, with updated_at = UTC now as Nova's save stamps it (a live bundle, given "
    "--nova-api-url, carries it)"
)


@cache
def held_step(table: str = "pci_devices") -> Step:
    """The devices free() releases: the instance's live rows in a status it accepts (one
    declaration: the live plan picks its rows by it, the offline one changes it at run time;
    built once per table, like the recipes' module-level steps: a batch binds it per instance)."""
    return Step(
        "nova",
        table,
        on_target("instance_uuid"),
        f"{table} the instance holds (allocated or claimed)",
        "release the PCI devices the instance held, as PciDevice.free() does",
        assignments=(
            ("status", SetValue(AVAILABLE)),
            ("instance_uuid", SetValue(None)),
            ("request_id", SetValue(None)),
            ("updated_at", ApplyTime()),
        ),
        pending=exp.and_(b.eq("deleted", 0), b.isin("status", HOLDING)),
    )


def relatives_status(rows: list[Row], held: list[Row]) -> dict[object, str]:
    """id -> new status of the PFs and VFs (not held by the instance) that free() also changes."""
    live = [r for r in rows if r["deleted"] == 0]
    held_ids = {r["id"] for r in held}
    status = {r["id"]: r["status"] for r in live}
    for r in held:
        status[r["id"]] = AVAILABLE

    def children(parent: Row) -> list[Row]:
        return [
            c
            for c in live
            if c["compute_node_id"] == parent["compute_node_id"] and c["parent_addr"] == parent["address"]
        ]

    for dev in held:
        if dev["dev_type"] == PF:
            for child in children(dev):
                status[child["id"]] = AVAILABLE
    for dev in held:
        if dev["dev_type"] not in VF_LIKE or not dev["parent_addr"]:
            continue
        parent = next(
            (
                p
                for p in live
                if p["compute_node_id"] == dev["compute_node_id"] and p["address"] == dev["parent_addr"]
            ),
            None,
        )
        if parent is not None and all(status[c["id"]] == AVAILABLE for c in children(parent)):
            status[parent["id"]] = AVAILABLE
    by_id = {r["id"]: r for r in live}
    return {i: s for i, s in status.items() if i not in held_ids and by_id[i]["status"] != s}


def release_pci(
    cell: DatabaseFacts, uuid: str, table: str = "pci_devices"
) -> tuple[list[Operation], list[str]]:
    """The operations releasing the instance's devices and their PF/VF relatives, and findings."""
    if not cell.schema.has_table(table):
        return [], []
    rows = list(cell.rows(table))
    released = live_step(held_step(table), cell, [uuid])
    ops: list[Operation] = list(released.operations)
    held = [c.before for op in released.operations if isinstance(op, UpdateRows) for c in op.changes or ()]
    findings = [
        f"{table} {r['id']} ({r['address']}): status {r['status']!r} is not one PciDevice.free() accepts "
        "(allocated, claimed): left as it is"
        for r in rows
        if r["instance_uuid"] == uuid and r["deleted"] == 0 and r["status"] not in HOLDING
    ]
    if held:
        findings.append(f"{table}: {len(held)} device(s) to release")
    changes = relatives_status(rows, held)
    relatives = [r for r in rows if r["id"] in changes]
    for new in sorted(set(changes.values())):
        group = [r for r in relatives if changes[r["id"]] == new]
        op = b.update(
            cell,
            table,
            group,
            {"status": SetValue(new), "updated_at": ApplyTime()},
            scope=None,
            purpose="status of the PF/VF relatives as PciDevice.free() propagates it (a freed PF's VFs; "
            "a PF whose VFs are all free)",
        )
        if op:
            ops.append(op)
            addresses = ", ".join(str(r["address"]) for r in group)
            findings.append(f"{table}: {len(group)} related PF/VF device(s) ({addresses}) -> {new}")
    return ops, findings
