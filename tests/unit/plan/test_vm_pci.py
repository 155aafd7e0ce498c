"""plan/vm_pci.py: an instance's PCI devices released as Nova's PciDevice.free() does."""

from __future__ import annotations

from generator.ops.operations import ApplyTime, SetValue
from generator.plan.vm_common import VmOptions
from generator.plan.vm_pci import relatives_status, release_pci
from generator.plan.vm_purge import plan_purge
from generator.plan.vm_soft_delete import plan_soft_delete
from tests.unit import world as w

OTHER = w.OTHER_INSTANCE


def dev(id: int, address: str, dev_type: str, status: str, instance=None, parent=None, node=1, deleted=0):
    return w.row(
        "nova", "pci_devices", id=id, address=address, dev_type=dev_type, status=status,
        instance_uuid=instance, parent_addr=parent, compute_node_id=node, deleted=deleted,
        request_id="r" if instance else None,
    )  # fmt: skip


PF_ADDR = "0000:81:00.0"


def pf(status="unavailable", instance=None, node=1):
    return dev(1, PF_ADDR, "type-PF", status, instance, node=node)


def vf(id, status, instance=None, node=1):
    return dev(id, f"0000:81:00.{id}", "type-VF", status, instance, PF_ADDR, node=node)


def facts(*devices):
    return w.vm(cell_rows={"pci_devices": list(devices)}).cell


def test_a_vf_freed_last_makes_its_pf_available():
    cell = facts(pf(), vf(2, "allocated", w.INSTANCE), vf(3, "available"))
    ops, notes = release_pci(cell, w.INSTANCE)
    held, parent = ops
    assert [c.before["id"] for c in held.changes] == [2]
    assert held.changes[0].after["status"] == "available" and held.changes[0].after["instance_uuid"] is None
    assert [(c.before["id"], c.after["status"]) for c in parent.changes] == [(1, "available")]
    assert any("related PF/VF" in n and PF_ADDR in n for n in notes)


def test_a_pf_stays_unavailable_while_another_vf_is_in_use():
    cell = facts(pf(), vf(2, "allocated", w.INSTANCE), vf(3, "allocated", OTHER))
    ops, _ = release_pci(cell, w.INSTANCE)
    assert len(ops) == 1 and [c.before["id"] for c in ops[0].changes] == [2]


def test_all_vfs_of_a_pf_freed_together_free_the_pf():
    held = [vf(2, "allocated", w.INSTANCE), vf(3, "claimed", w.INSTANCE)]
    assert relatives_status([pf(), *held], held) == {1: "available"}


def test_a_freed_pf_frees_its_vfs():
    cell = facts(pf("allocated", w.INSTANCE), vf(2, "unavailable"), vf(3, "unavailable"), vf(4, "available"))
    held, children = release_pci(cell, w.INSTANCE)[0]
    assert [c.before["id"] for c in held.changes] == [1]
    assert sorted(c.before["id"] for c in children.changes) == [2, 3]
    assert children.scope is None  # keyed by id, rows locked and fingerprinted


def test_relatives_on_another_compute_node_are_not_touched():
    assert (
        relatives_status([pf(node=2), vf(2, "allocated", w.INSTANCE)], [vf(2, "allocated", w.INSTANCE)]) == {}
    )


def test_only_allocated_or_claimed_devices_are_released_and_the_scope_says_so():
    cell = facts(vf(2, "allocated", w.INSTANCE), vf(3, "removed", w.INSTANCE), vf(4, "claimed", w.INSTANCE))
    (held,), notes = release_pci(cell, w.INSTANCE)
    assert sorted(c.before["id"] for c in held.changes) == [2, 4]
    assert w.sql_of(held.scope.condition) == (
        f"instance_uuid = '{w.INSTANCE}' AND deleted = 0 AND status IN ('allocated', 'claimed')"
    )
    assert any("status 'removed' is not one PciDevice.free() accepts" in n for n in notes)


def test_soft_delete_and_purge_release_through_free():
    removed = dev(5, "0000:82:00.0", "type-PCI", "removed", w.INSTANCE)
    devices = {"pci_devices": [pf(), vf(2, "allocated", w.INSTANCE), removed]}
    for plan in (
        plan_soft_delete(w.vm(cell_rows=devices), VmOptions(op="soft-delete")),
        plan_purge(w.vm(cell_rows=devices), VmOptions(op="purge")),
    ):
        ops = w.ops_on(plan, "pci_devices")
        assert [sorted(c.before["id"] for c in o.changes) for o in ops] == [[2], [1]]
        assert any("0000:82:00.0" in f and "left as it is" in f for f in plan.findings)


def test_every_device_free_changes_gets_updated_at_as_the_tracker_save_stamps_it():
    """Nova's PciDevTracker.save -> pci_device_update is an ORM flush: updated_at = now on the freed
    devices and on the relatives whose status free() changed (tests/db/plan/test_differential_vm_purge.py)."""
    cell = facts(pf(), vf(2, "allocated", w.INSTANCE), vf(3, "available"))
    held, parent = release_pci(cell, w.INSTANCE)[0]
    assert dict(held.assignments)["updated_at"] == ApplyTime()
    assert dict(parent.assignments) == {"status": SetValue("available"), "updated_at": ApplyTime()}
