"""plan/batch.py: many targets' plans merged into one plan with combined scopes."""

from __future__ import annotations

import pytest

from generator.errors import FixpackError
from generator.plan.batch import merge_plans
from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from generator.plan.vm_offline import plan_vm_offline
from tests.unit import world as w

A, B = w.INSTANCE, w.OTHER_INSTANCE


def _vm(uuid: str, id: int, meta_ids: tuple[int, ...]):
    inst = w.instance_row(uuid, id=id)
    return w.vm(
        instance=inst, cell_rows={"instance_metadata": [w.metadata(i, f"k{i}", uuid) for i in meta_ids]}
    )


def _plans(op: str = "soft-delete"):
    return [plan_vm(_vm(A, 7, (1, 2)), VmOptions(op=op)), plan_vm(_vm(B, 8, (3,)), VmOptions(op=op))]


def test_batch_merges_same_table_steps_into_one_with_an_in_list_scope():
    plan = merge_plans(_plans())
    op = w.one_op(plan, "instance_metadata")
    assert w.sql_of(op.scope.condition) == f"instance_uuid IN ('{A}', '{B}') AND deleted = 0"
    assert [c.before["id"] for c in op.changes] == [1, 2, 3]
    assert op.scope_count == 3


def test_batch_binds_every_plans_own_targets_into_the_step_declaration():
    # A's plan frees its migration's consumer too: merging must keep it, not rebind only A and B
    facts_a = w.vm(
        instance=w.instance_row(A, id=7),
        cell_rows={"migrations": [w.migration(4, "error")]},
        placement_rows={"allocations": [w.allocation(1, A, 1), w.allocation(2, w.MIGRATION, 1)]},
    )
    facts_b = w.vm(instance=w.instance_row(B, id=8), placement_rows={"allocations": [w.allocation(3, B, 1)]})
    plans = [plan_vm(f, VmOptions(op="soft-delete")) for f in (facts_a, facts_b)]
    op = w.one_op(merge_plans(plans), "allocations")
    assert w.sql_of(op.scope.condition) == f"consumer_id IN ('{A}', '{w.MIGRATION}', '{B}')"
    assert op.scope.description == "allocations of consumer(s) <2 targets>"
    (check,) = [
        p for p in merge_plans(plans).postconditions if p.description.startswith("the instance holds")
    ]
    assert f"consumer_id IN ('{A}', '{w.MIGRATION}', '{B}')" in w.sql_of(check.condition)


def test_batch_keeps_children_before_the_instance_rows():
    assert [o.table for o in merge_plans(_plans()).operations] == ["instance_metadata", "instances"]


def test_batch_merges_per_target_postconditions_into_one_count():
    plan = merge_plans(_plans())
    merged = [p for p in plan.postconditions if "instance_metadata" in p.description]
    assert len(merged) == 1
    assert f"instance_uuid IN ('{A}', '{B}')" in w.sql_of(merged[0].condition)


def test_batch_soft_deleted_instance_postcondition_expects_one_row_per_target():
    plan = merge_plans(_plans())
    (inst,) = [p for p in plan.postconditions if "soft-deleted the way Nova" in p.description]
    assert w.sql_of(inst.condition).endswith(") = 2")


def test_batch_targets_are_all_instances_and_api_commands_loop_over_them():
    plan = merge_plans(_plans())
    assert plan.targets == (A, B)
    assert "for UUID in" in plan.api_first[0].command
    assert all(A not in c.command for c in plan.api_first)


def test_batch_lists_each_targets_commands_when_they_differ_by_more_than_the_target():
    """A volume's commands also name its instances: no loop over $UUID, each plan's own commands."""
    from dataclasses import replace

    from generator.plan.model import ApiCommand

    a, b = _plans()
    a = replace(a, api_first=(ApiCommand(f"openstack server remove volume {A} x", "why"),))
    b = replace(b, api_first=(ApiCommand(f"openstack server remove volume {B} y", "why"),))
    plan = merge_plans([a, b])
    assert [c.command for c in plan.api_first] == [a.api_first[0].command, b.api_first[0].command]


def test_batch_refuses_rehost():
    with pytest.raises(FixpackError, match="one bundle per instance"):
        merge_plans([plan_vm(w.rehost_world(), VmOptions(op="rehost", to_host="cmp-02"))] * 2)


def test_batch_refuses_mixed_operations():
    soft = plan_vm(_vm(A, 7, ()), VmOptions(op="soft-delete"))
    purge = plan_vm(_vm(B, 8, ()), VmOptions(op="purge"))
    with pytest.raises(FixpackError, match="one operation"):
        merge_plans([soft, purge])


def test_batch_refuses_two_targets_changing_the_same_row():
    with pytest.raises(FixpackError, match="change the same instance_metadata row"):
        merge_plans([plan_vm(_vm(A, 7, (1,)), VmOptions(op="soft-delete")),
                     plan_vm(_vm(B, 8, (1,)), VmOptions(op="soft-delete"))])  # fmt: skip


def test_batch_of_offline_plans_merges_scopes_and_preconditions():
    plans = [plan_vm_offline(u, VmOptions(op="soft-delete"), w.RELEASE) for u in (A, B)]
    plan = merge_plans(plans)
    scope = w.sql_of(w.one_op(plan, "instance_metadata").scope.condition)
    assert scope == f"instance_uuid IN ('{A}', '{B}') AND deleted = 0"
    exists = [p for p in plan.preconditions if "is in this database" in p.description]
    assert len(exists) == 1 and w.sql_of(exists[0].condition).endswith(") = 2")


def _with_volume(uuid: str, id: int, attachment: str, *, shared: bool):
    """An instance attached to VOLUME (shared: the other instance's attachment is in Cinder too)."""
    inst = w.instance_row(uuid, id=id)
    mine = w.attachment(attachment, uuid, volume_id=w.VOLUME)
    other = w.attachment(
        "ffffffff-0000-4000-8000-00000000000" + ("1" if attachment.endswith("2") else "2"),
        B if uuid == A else A,
        volume_id=w.VOLUME,
    )
    return w.vm(
        instance=inst,
        cell_rows={"block_device_mapping": [w.bdm(id, uuid, w.VOLUME, attachment_id=attachment)]},
        cinder_rows={
            "volume_attachment": [mine, other] if shared else [mine],
            "volumes": [w.volume_row(status="in-use", attach_status="attached")],
        },
    )


def test_batch_refuses_two_instances_detaching_one_multiattach_volume():
    plans = [
        plan_vm(
            _with_volume(A, 7, "ffffffff-0000-4000-8000-000000000001", shared=True), VmOptions("soft-delete")
        ),
        plan_vm(
            _with_volume(B, 8, "ffffffff-0000-4000-8000-000000000002", shared=True), VmOptions("soft-delete")
        ),
    ]
    with pytest.raises(FixpackError, match=f"both attached to volume {w.VOLUME}"):
        merge_plans(plans)


def test_batch_writes_cinder_when_only_a_later_instance_has_volumes():
    plans = [
        plan_vm(_vm(A, 7, (1,)), VmOptions(op="soft-delete")),
        plan_vm(
            _with_volume(B, 8, "ffffffff-0000-4000-8000-000000000002", shared=False), VmOptions("soft-delete")
        ),
    ]
    plan = merge_plans(plans)
    assert [d.role for d in plan.databases][-1] == "cinder"
    assert w.one_op(plan, "volume_attachment", "cinder")
