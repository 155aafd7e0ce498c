"""plan/vm_soft_delete.py (and the plan/vm.py dispatch): Nova's own instance delete, live."""

from __future__ import annotations

import pytest

from generator.errors import FixpackError, TargetProblem
from generator.ops.operations import ApplyTime, CopyColumn, DeleteRows, SetValue, UpdateRows
from generator.plan.overrides import Overrides
from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from tests.unit import world as w

OTHER = w.OTHER_INSTANCE


def _plan(facts, **options):
    return plan_vm(facts, VmOptions(op="soft-delete", **options))


def _full():
    return w.vm(
        cell_rows={
            "instance_metadata": [w.metadata(1, "a"), w.metadata(2, "b"), w.metadata(3, "old", deleted=3)],
            "tags": [w.row("nova", "tags", resource_id=w.INSTANCE, tag="web")],
            "pci_devices": [
                w.row("nova", "pci_devices", id=1, status="allocated", instance_uuid=w.INSTANCE, deleted=0,
                      compute_node_id=1, address="0000:00:01.0", dev_id="pci_1", dev_type="type-PCI",
                      product_id="1", vendor_id="1", label="l"),
            ],
            "migrations": [w.migration(4, "error")],
        },
        api_rows={
            "instance_mappings": [w.row("nova_api", "instance_mappings", id=1, instance_uuid=w.INSTANCE,
                                        cell_id=2, queued_for_delete=0, project_id="p1")],
            "build_requests": [w.row("nova_api", "build_requests", id=9, instance_uuid=w.INSTANCE,
                                     project_id="p1")],
        },
        placement_rows={
            "allocations": [w.allocation(1, w.INSTANCE, 1), w.allocation(2, w.MIGRATION, 1)],
            "consumers": [w.consumer(1, w.INSTANCE), w.consumer(2, w.MIGRATION)],
        },
    )  # fmt: skip


def test_soft_delete_sets_deleted_to_id_on_live_instance_metadata_of_that_instance_only():
    op = w.one_op(_plan(_full()), "instance_metadata")
    assert isinstance(op, UpdateRows)
    assert dict(op.assignments)["deleted"] == CopyColumn("id")
    assert [c.before["id"] for c in op.changes] == [1, 2]  # the already-deleted row 3 is left alone
    assert [c.after["deleted"] for c in op.changes] == [1, 2]
    assert w.sql_of(op.scope.condition) == f"instance_uuid = '{w.INSTANCE}' AND deleted = 0"


def test_soft_delete_keeps_updated_at_and_stamps_deleted_at_at_apply_time():
    op = w.one_op(_plan(_full()), "instance_metadata")
    assert dict(op.assignments) == {"deleted": CopyColumn("id"), "deleted_at": ApplyTime()}


def test_soft_delete_leaves_the_instance_row_as_the_compute_manager_does():
    op = w.one_op(_plan(_full()), "instances")
    after = op.changes[0].after
    assert (after["vm_state"], after["task_state"], after["power_state"], after["deleted"]) == (
        "deleted", None, 0, 7,
    )  # fmt: skip
    # its scope is the live instance: once deleted = id it leaves it (the guard then expects 0)
    assert w.sql_of(op.scope.condition) == f"uuid = '{w.INSTANCE}' AND deleted = 0"
    assert not op.stays_in_scope
    assert {"terminated_at", "deleted_at", "updated_at"} <= op.apply_time_columns


def test_soft_delete_changes_the_instance_row_after_its_children():
    cell_tables = [o.table for o in _plan(_full()).operations_for("nova")]
    assert cell_tables[-1] == "instances"


def test_soft_delete_hard_deletes_tags_keyed_by_resource_id():
    op = w.one_op(_plan(_full()), "tags")
    assert isinstance(op, DeleteRows) and op.key == ("resource_id", "tag")
    assert w.sql_of(op.scope.condition) == f"resource_id = '{w.INSTANCE}'"


def test_soft_delete_releases_held_pci_devices_instead_of_deleting_them():
    op = w.one_op(_plan(_full()), "pci_devices")
    assert isinstance(op, UpdateRows)
    assert dict(op.assignments) == {
        "status": SetValue("available"), "instance_uuid": SetValue(None), "request_id": SetValue(None),
        "updated_at": ApplyTime(),  # the PCI tracker's save is an ORM flush
    }  # fmt: skip


def test_soft_delete_queues_the_instance_mapping_for_delete_and_removes_the_build_request():
    plan = _plan(_full())
    mapping = w.one_op(plan, "instance_mappings", "nova_api")
    assert mapping.changes[0].after["queued_for_delete"] == 1
    assert isinstance(w.one_op(plan, "build_requests", "nova_api"), DeleteRows)


def test_soft_delete_frees_allocations_of_the_instance_and_of_its_migrations():
    plan = _plan(_full())
    allocs = w.one_op(plan, "allocations", "placement")
    assert sorted(r["consumer_id"] for r in allocs.rows) == sorted([w.INSTANCE, w.MIGRATION])
    consumers = w.one_op(plan, "consumers", "placement")
    assert sorted(r["uuid"] for r in consumers.rows) == sorted([w.INSTANCE, w.MIGRATION])


def test_soft_delete_applies_the_cell_database_first():
    assert [db.role for db in _plan(_full()).databases] == ["nova", "nova_api", "placement"]


def test_soft_delete_postconditions_say_no_live_child_rows_and_the_instance_deleted():
    texts = w.post_texts(_plan(_full()).postconditions)
    assert any("no live instance_metadata rows" in t and "deleted = 0" in t for t in texts)
    assert any("soft-deleted the way Nova leaves it" in t for t in texts)
    assert any(t.startswith("placement: the instance holds no allocations") for t in texts)


def test_soft_delete_of_instance_without_children_changes_only_the_instance_row():
    plan = _plan(w.vm())
    assert [o.table for o in plan.operations] == ["instances"]


def test_soft_delete_without_api_and_placement_warns_they_are_not_handled():
    warnings = " ".join(_plan(w.vm()).warnings)
    assert "no nova_api database was given" in warnings
    assert "no placement database was given" in warnings


def test_soft_delete_refuses_an_already_deleted_instance():
    facts = w.vm(instance=w.instance_row(deleted=7, deleted_at=w.NOW))
    with pytest.raises(TargetProblem, match=r"already deleted.*--op purge"):
        _plan(facts)


def test_soft_delete_refuses_a_healthy_running_instance_without_its_flag():
    facts = w.vm(instance=w.instance_row(vm_state="active", power_state=1, task_state=None))
    with pytest.raises(TargetProblem, match=r"looks healthy.*without --allow-healthy-instance$"):
        _plan(facts)


def test_soft_delete_of_a_healthy_instance_with_its_flag_warns_about_a_live_unmanaged_vm():
    facts = w.vm(instance=w.instance_row(vm_state="active", power_state=1, task_state=None))
    plan = _plan(facts, allow=Overrides.of("healthy-instance"))
    assert any("live VM that Nova no longer manages" in x for x in plan.warnings)


def test_soft_delete_ends_the_cinder_attachments_itself_and_keeps_the_api_hint():
    att = w.attachment("a1b2c3d4-0000-4000-8000-000000000001", w.INSTANCE, volume_id=w.OTHER_VOLUME)
    plan = _plan(w.vm(cinder_rows={"volume_attachment": [att]}))
    assert not any("detach them through the API first" in x for x in plan.warnings)
    assert w.one_op(plan, "volume_attachment", "cinder").changes[0].before["id"] == att["id"]
    assert any(f"remove volume {w.INSTANCE} {w.OTHER_VOLUME}" in c.command for c in plan.api_first)


def test_soft_delete_of_a_cell0_instance_has_no_compute_script():
    plan = _plan(w.vm(cell0=True))
    assert plan.compute == ()
    assert any("cell0" in f for f in plan.findings)


def test_soft_delete_plans_the_compute_cleanup_of_the_instance_host_with_its_vifs():
    cache = w.row("nova", "instance_info_caches", id=1, instance_uuid=w.INSTANCE, deleted=0,
                  network_info=w.network_info(w.PORT))  # fmt: skip
    plan = _plan(w.vm(cell_rows={"instance_info_caches": [cache]}))
    (cleanup,) = plan.compute
    assert (cleanup.host, cleanup.domain_name) == ("cmp-01", "instance-00000007")
    assert [v.port_id for v in cleanup.vifs] == [w.PORT]
    assert plan.controller.neutron_ports == (w.PORT,)


def test_plan_vm_refuses_an_unknown_operation_in_one_line():
    with pytest.raises(FixpackError, match="unknown VM operation 'explode'"):
        plan_vm(w.vm(), VmOptions(op="explode"))
