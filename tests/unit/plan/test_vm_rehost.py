"""plan/vm_rehost.py: point an instance at the host it really runs on, live."""

from __future__ import annotations

import datetime as dt

import pytest

from generator.errors import TargetProblem
from generator.ops.operations import CheckRows, UpdateRows
from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from tests.unit import world as w


def _plan(facts, **options):
    return plan_vm(facts, VmOptions(op="rehost", to_host="cmp-02", **options))


def test_rehost_points_the_instance_at_the_target_host_node_and_compute_id():
    after = w.one_op(_plan(w.rehost_world()), "instances").changes[0].after
    assert (after["host"], after["node"], after["compute_id"]) == ("cmp-02", "cmp-02.example", 2)


def test_rehost_locks_the_target_service_and_compute_node_unchanged():
    plan = _plan(w.rehost_world())
    checks = [o for o in plan.operations if isinstance(o, CheckRows)]
    assert [(c.table, c.rows[0]["id"]) for c in checks] == [("services", 2), ("compute_nodes", 2)]
    assert "disabled" in checks[0].columns


def test_rehost_refuses_when_the_target_host_has_no_compute_service():
    with pytest.raises(TargetProblem, match="no nova-compute service is registered"):
        _plan(w.rehost_world(services=[]))


def test_rehost_refuses_a_disabled_target_service_and_names_the_reason():
    facts = w.rehost_world(services=[w.service(2, "cmp-02", disabled=1, disabled_reason="maintenance")])
    with pytest.raises(TargetProblem, match=r"disabled.*maintenance"):
        _plan(facts)


def test_rehost_refuses_a_forced_down_target_service():
    with pytest.raises(TargetProblem, match="forced down"):
        _plan(w.rehost_world(services=[w.service(2, "cmp-02", forced_down=1)]))


def test_rehost_refuses_a_host_with_several_nodes_without_to_node():
    nodes = [w.compute_node(2, "cmp-02", "a.example", w.TARGET_NODE_UUID),
             w.compute_node(3, "cmp-02", "b.example", w.SOURCE_NODE_UUID)]  # fmt: skip
    with pytest.raises(TargetProblem, match=r"several compute nodes.*--to-node"):
        _plan(w.rehost_world(nodes=nodes))


def test_rehost_refuses_an_instance_already_on_the_target():
    inst = w.instance_row(host="cmp-02", node="cmp-02.example", task_state=None, power_state=1)
    with pytest.raises(TargetProblem, match="already points at cmp-02"):
        _plan(w.rehost_world(instance=inst))


def test_rehost_ends_the_open_move_as_nova_and_closes_other_unfinished_ones_with_error():
    # before: every unfinished migration, the completed live migration too, was set to 'error'
    facts = w.rehost_world(migrations=[
        w.migration(4, "running", kind="live-migration"),
        w.migration(3, "queued", uuid=None, source="cmp-07", dest="cmp-08"),
        w.migration(5, "done", uuid=None),
    ])  # fmt: skip
    ops = w.ops_on(_plan(facts), "migrations")
    assert sorted((c.before["id"], c.after["status"]) for o in ops for c in o.changes) == [
        (3, "error"), (4, "completed"),
    ]  # fmt: skip


def test_rehost_moves_source_node_allocations_to_the_target_provider():
    op = w.ops_on(_plan(w.rehost_world()), "allocations", "placement")[0]
    assert isinstance(op, UpdateRows)
    assert {c.after["resource_provider_id"] for c in op.changes} == {2}
    assert {c.before["id"] for c in op.changes} == {1, 2}


def test_rehost_frees_what_the_abandoned_migration_held():
    facts = w.rehost_world(migrations=[w.migration(4, "migrating", kind="live-migration")])
    deletes = [o for o in w.ops_on(_plan(facts), "allocations", "placement") if not isinstance(o, UpdateRows)]
    assert [r["consumer_id"] for r in deletes[0].rows] == [w.MIGRATION]


def test_rehost_bumps_the_consumer_and_target_provider_generations():
    plan = _plan(w.rehost_world())
    consumer = w.one_op(plan, "consumers").changes[0]
    rp = w.one_op(plan, "resource_providers").changes[0]
    assert consumer.after["generation"] == consumer.before["generation"] + 1
    assert (rp.before["id"], rp.after["generation"]) == (2, 6)


def test_rehost_refuses_a_target_node_without_a_resource_provider():
    facts = w.rehost_world()
    placement = w.database("placement", "placement", {
        "allocations": facts.placement.rows("allocations"), "consumers": facts.placement.rows("consumers"),
        "resource_providers": [w.provider(1, w.SOURCE_NODE_UUID, "cmp-01.example")]})  # fmt: skip
    from dataclasses import replace

    with pytest.raises(TargetProblem, match="no placement resource provider"):
        _plan(replace(facts, placement=placement))


def test_rehost_without_placement_warns_allocations_stay_on_the_old_provider():
    plan = _plan(w.rehost_world(placement=False))
    assert [db.role for db in plan.databases] == ["nova"]
    assert any("allocations stay on the old provider" in x for x in plan.warnings)


def test_rehost_has_a_rebinding_controller_script_and_a_source_host_script():
    # before: no script at all; the runbook only listed the port rebinds and attachment refreshes
    plan = _plan(w.rehost_world())
    assert plan.controller is not None and plan.controller.rehost_host == "cmp-02"
    assert [(c.host, c.move_leftovers) for c in plan.compute] == [("cmp-01", True)]


def test_rehost_ends_a_live_migration_as_nova_does_task_state_null_progress_0():
    # post_live_migration_at_destination / _rollback_live_migration: task_state None, progress 0
    inst = w.instance_row(
        vm_state="active", task_state="migrating", progress=42, updated_at=w.NOW - dt.timedelta(days=1)
    )
    plan = _plan(w.rehost_world(instance=inst))
    after = w.one_op(plan, "instances").changes[0].after
    assert (after["host"], after["task_state"], after["progress"]) == ("cmp-02", None, 0)
    assert any("task_state IS NULL" in t and "progress = 0" in t for t in w.post_texts(plan.postconditions))


def test_rehost_keeps_other_task_states_and_progress():
    inst = w.instance_row(vm_state="error", task_state=None, progress=42)
    after = w.one_op(_plan(w.rehost_world(instance=inst)), "instances").changes[0].after
    assert (after["task_state"], after["progress"]) == (None, 42)
