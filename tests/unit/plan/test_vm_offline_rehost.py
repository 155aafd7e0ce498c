"""plan/vm_offline_rehost.py: rehost planned offline, the target looked up when the file runs."""

from __future__ import annotations

from generator.ops.operations import ApplyTime, FromQuery, SetValue
from generator.plan.vm_common import VmOptions
from generator.plan.vm_offline import plan_vm_offline
from tests.unit import world as w

U = w.INSTANCE


def _plan(release: str = w.RELEASE):
    return plan_vm_offline(U, VmOptions(op="rehost", to_host="cmp-02", to_node="cmp-02.example"), release)


def _host_op(plan):
    """The step pointing the instance at the target (the other instances step ends a live migration)."""
    return w.ops_on(plan, "instances")[-1]


def test_offline_rehost_reads_the_compute_id_from_compute_nodes_at_run_time():
    op = _host_op(_plan())
    compute_id = dict(op.assignments)["compute_id"]
    assert isinstance(compute_id, FromQuery)
    assert w.sql_of(compute_id.query) == (
        "SELECT id FROM compute_nodes WHERE host = 'cmp-02' AND hypervisor_hostname = 'cmp-02.example' "
        "AND deleted = 0"
    )


def test_offline_rehost_before_compute_id_existed_sets_host_and_node_only():
    op = _host_op(_plan(release="2023.1"))
    assert "compute_id" not in dict(op.assignments)
    assert dict(op.assignments)["host"] == SetValue("cmp-02")


def test_offline_rehost_scope_selects_the_instance_only_while_not_yet_on_the_target():
    scope = w.sql_of(_host_op(_plan()).scope.condition)
    assert scope.startswith(f"uuid = '{U}' AND deleted = 0 AND (")
    assert "host <> 'cmp-02'" in scope and "node IS NULL" in scope


def test_offline_rehost_requires_an_enabled_service_and_the_named_node():
    pre = w.post_texts(_plan().preconditions)
    assert any("enabled nova-compute service runs on cmp-02" in p and "disabled = 0" in p for p in pre)
    assert any("compute node cmp-02.example exists on cmp-02" in p for p in pre)


def test_offline_rehost_closes_older_unfinished_migrations_and_drops_the_migration_context():
    plan = _plan()
    older = w.sql_of(w.ops_on(plan, "migrations")[0].scope.condition)
    assert "status IN ('queued'" in older and older.endswith("AND id < @fixpack_move_id")
    (drop,) = [o for o in w.ops_on(plan, "instance_extra") if "migration_context" in dict(o.assignments)]
    context = w.sql_of(drop.scope.condition)
    # a completed resize keeps its migration context for confirm/revert, as the live planner does
    assert (
        "NOT migration_context IS NULL" in context
        and "AND NOT (@fixpack_move_end <=> 'completed' AND @fixpack_move_type IN ('resize', 'migration'))"
        in context
    )


def test_offline_rehost_ends_the_open_move_last_with_the_status_nova_sets_per_outcome():
    ends = w.ops_on(_plan(), "migrations")[1:]
    statuses = [dict(o.assignments)["status"].value for o in ends]
    assert statuses == ["finished", "completed", "done", "reverted", "failed", "error"]
    scopes = [w.sql_of(o.scope.condition) for o in ends]
    assert scopes[0].endswith(
        "AND id = @fixpack_move_id AND @fixpack_move_end <=> 'completed' "
        "AND @fixpack_move_type IN ('resize', 'migration')) AND NOT status <=> 'finished'"
    )
    assert "@fixpack_move_end <=> 'reverted' AND @fixpack_move_type IN ('resize', 'migration')" in scopes[3]
    assert _plan().operations[-1] is not None and _plan().operations[-1].table == "migrations"


def test_offline_rehost_precheck_stops_a_move_to_neither_end_unless_overridden():
    from generator.plan.overrides import Overrides

    def guards(allow: Overrides) -> list[str]:
        plan = plan_vm_offline(
            U, VmOptions(op="rehost", to_host="cmp-02", to_node="cmp-02.example", allow=allow), w.RELEASE
        )
        return [p for p in w.post_texts(plan.preconditions) if "completed or reverted is unknown" in p]

    assert len(guards(Overrides())) == 1
    assert guards(Overrides.of("unknown-outcome")) == []


def test_offline_rehost_touches_only_the_cell_database_and_says_placement_is_left():
    plan = _plan()
    assert [d.role for d in plan.databases] == ["nova"]
    assert any("placement allocations" in x for x in plan.warnings)
    assert any("no shell/controller.sh" in x for x in plan.warnings)


def _end(plan):
    (end,) = [
        o
        for o in w.ops_on(plan, "instances")
        if "progress" in dict(o.assignments) and "vm_state" not in dict(o.assignments)  # not an evacuation's
    ]
    return end


def test_offline_rehost_ends_a_live_migration_task_state_null_progress_0():
    plan = _plan()
    end = _end(plan)
    values = {k: v.value for k, v in dict(end.assignments).items() if isinstance(v, SetValue)}
    assert values == {"task_state": None, "progress": 0}
    assert w.sql_of(end.scope.condition) == f"uuid = '{U}' AND deleted = 0 AND task_state = 'migrating'"
    assert any("task_state = 'migrating'" in t for t in w.post_texts(plan.postconditions))


# -- the evacuation end and the stopped revert, read at run time --------------------------------
def _values(op) -> dict:
    return {
        k: v.value if isinstance(v, SetValue) else type(v).__name__ for k, v in dict(op.assignments).items()
    }


def test_a_completed_evacuation_ends_as_the_rebuild_leaves_it_stopped_or_active():
    evac = [o for o in w.ops_on(_plan(), "instances") if "'evacuation'" in w.sql_of(o.scope.condition)]
    assert [_values(o) for o in evac] == [
        {"vm_state": "stopped", "task_state": None, "power_state": 4, "launched_at": "ApplyTime",
         "updated_at": "ApplyTime", "progress": 0},
        {"vm_state": "active", "task_state": None, "power_state": 1, "launched_at": "ApplyTime",
         "updated_at": "ApplyTime"},
    ]  # fmt: skip
    stopped, active = (w.sql_of(o.scope.condition) for o in evac)
    assert "vm_state <=> 'stopped'" in stopped and "NOT vm_state <=> 'stopped'" in active
    # the rows leave the scope once written (the apply's round guard; a re-run finds the move closed)
    assert (
        "NOT (vm_state <=> 'stopped' AND task_state IS NULL AND power_state <=> 4 AND progress <=> 0)"
        in stopped
    )
    assert "@fixpack_move_end <=> 'completed' AND @fixpack_move_type IN ('evacuation')" in stopped


def test_a_reverted_resize_of_a_stopped_instance_is_powered_off_before_old_vm_state_is_dropped():
    plan = _plan()
    (off,) = [
        o for o in w.ops_on(plan, "instances") if set(dict(o.assignments)) == {"power_state", "updated_at"}
    ]
    assert dict(off.assignments)["power_state"] == SetValue(4)
    assert isinstance(dict(off.assignments)["updated_at"], ApplyTime)
    scope = w.sql_of(off.scope.condition)
    assert "`key` = 'old_vm_state' AND value = 'stopped'" in scope and "NOT power_state <=> 4" in scope
    assert "@fixpack_move_end <=> 'reverted' AND @fixpack_move_type IN ('resize', 'migration')" in scope
    ops = list(plan.operations)
    stash = next(i for i, o in enumerate(ops) if o.table == "instance_system_metadata")
    assert ops.index(off) < stash
