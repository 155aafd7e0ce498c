"""plan/vm_purge.py: hard-delete an instance and every row that references it, live."""

from __future__ import annotations

from generator.ops.operations import DeleteRows, UpdateRows
from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from tests.unit import world as w


def _plan(facts, **options):
    # no Cinder database in these facts: the Cinder side is left to the API (plan/vm_cinder.py)
    return plan_vm(facts, VmOptions(op="purge", **{"skip_cinder": True, **options}))


def _action(id: int, deleted: int = 0):
    return w.row("nova", "instance_actions", id=id, action="create", instance_uuid=w.INSTANCE,
                 deleted=deleted, request_id=f"req-{id}")  # fmt: skip


def _event(id: int, action_id: int):
    return w.row("nova", "instance_actions_events", id=id, action_id=action_id, event="compute_build",
                 deleted=0)  # fmt: skip


def _facts(**instance):
    return w.vm(
        instance=w.instance_row(**instance),
        cell_rows={
            "instance_metadata": [w.metadata(1, "a"), w.metadata(2, "gone", deleted=2)],
            "instance_actions": [_action(5)],
            "instance_actions_events": [_event(50, 5)],
            "block_device_mapping": [w.bdm(8, w.INSTANCE, connection_info=None)],
        },
        api_rows={"instance_mappings": [w.row("nova_api", "instance_mappings", id=1, instance_uuid=w.INSTANCE,
                                              cell_id=2, queued_for_delete=1)]},
        placement_rows={"allocations": [w.allocation(1, w.INSTANCE, 1)],
                        "consumers": [w.consumer(1, w.INSTANCE)]},
    )  # fmt: skip


def test_purge_deletes_soft_deleted_rows_too():
    op = w.one_op(_plan(_facts()), "instance_metadata")
    assert isinstance(op, DeleteRows)
    assert [r["id"] for r in op.rows] == [1, 2]


def test_purge_deletes_the_instance_row_last_in_its_cell():
    tables = [o.table for o in _plan(_facts()).operations_for("nova")]
    assert tables[-1] == "instances"


def test_purge_deletes_grandchildren_before_their_parents():
    tables = [o.table for o in _plan(_facts()).operations_for("nova")]
    assert tables.index("instance_actions_events") < tables.index("instance_actions")


def test_purge_scope_of_a_grandchild_goes_through_its_parent():
    op = w.one_op(_plan(_facts()), "instance_actions_events")
    assert w.sql_of(op.scope.condition) == (
        f"action_id IN (SELECT id FROM instance_actions WHERE instance_uuid = '{w.INSTANCE}')"
    )


def test_purge_scope_of_block_device_mapping_is_instance_uuid_equals_target():
    op = w.one_op(_plan(_facts()), "block_device_mapping")
    assert w.sql_of(op.scope.condition) == f"instance_uuid = '{w.INSTANCE}'"


def test_purge_removes_every_nova_api_record_of_the_instance():
    op = w.one_op(_plan(_facts()), "instance_mappings", "nova_api")
    assert isinstance(op, DeleteRows) and op.rows[0]["instance_uuid"] == w.INSTANCE
    texts = w.post_texts(_plan(_facts()).postconditions)
    for table in ("instance_group_member", "build_requests", "request_specs", "instance_mappings"):
        assert any(t.startswith(f"nova_api: no {table} rows") for t in texts), table


def test_purge_of_a_soft_deleted_instance_is_allowed_and_has_no_compute_script():
    plan = _plan(_facts(deleted=7, vm_state="deleted"))
    assert plan.compute == ()
    assert w.one_op(plan, "instances").rows[0]["deleted"] == 7


def test_purge_releases_pci_devices_and_never_deletes_them():
    pci = w.row("nova", "pci_devices", id=1, status="allocated", instance_uuid=w.INSTANCE, deleted=0,
                compute_node_id=1, address="0000:00:01.0", dev_id="pci_1", dev_type="type-PCI",
                product_id="1", vendor_id="1", label="l")  # fmt: skip
    plan = _plan(w.vm(cell_rows={"pci_devices": [pci]}))
    op = w.one_op(plan, "pci_devices")
    assert isinstance(op, UpdateRows) and op.changes[0].after["status"] == "available"


def test_purge_without_include_shadow_says_shadow_tables_were_not_searched():
    assert any("--include-shadow" in f for f in _plan(_facts()).findings)


def test_purge_with_include_shadow_deletes_archived_rows_too():
    shadow = w.row("nova", "shadow_instance_metadata", id=11, key="k", value="v", instance_uuid=w.INSTANCE,
                   deleted=11)  # fmt: skip
    plan = _plan(w.vm(cell_rows={"shadow_instance_metadata": [shadow]}), include_shadow=True)
    op = w.one_op(plan, "shadow_instance_metadata")
    assert isinstance(op, DeleteRows) and [r["id"] for r in op.rows] == [11]


def test_purge_without_nova_api_warns_its_records_stay():
    plan = _plan(w.vm())
    assert any("no nova_api database was given" in x for x in plan.warnings)


def test_purge_postcondition_counts_each_table_through_its_own_scope():
    texts = w.post_texts(_plan(_facts()).postconditions)
    assert any("no instance_actions_events rows" in t and "FROM instance_actions WHERE" in t for t in texts)


def test_purge_deletes_the_instance_row_after_tables_with_no_fk_to_it():
    vuc = w.row(
        "nova", "volume_usage_cache", id=1, volume_id=w.OTHER_VOLUME, instance_uuid=w.INSTANCE, deleted=0
    )
    tables = [o.table for o in _plan(w.vm(cell_rows={"volume_usage_cache": [vuc]})).operations_for("nova")]
    assert tables == ["volume_usage_cache", "instances"]


def test_purge_with_include_shadow_deletes_the_live_instance_row_last():
    shadow = w.row("nova", "shadow_instance_metadata", id=11, key="k", value="v", instance_uuid=w.INSTANCE,
                   deleted=11)  # fmt: skip
    plan = _plan(w.vm(cell_rows={"shadow_instance_metadata": [shadow]}), include_shadow=True)
    assert [o.table for o in plan.operations_for("nova")][-1] == "instances"
