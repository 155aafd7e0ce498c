"""plan/vm_offline_rehost.py: the evacuation end and the stopped revert, read at run time."""

from __future__ import annotations

from generator.ops.operations import ApplyTime, SetValue
from tests.unit import world as w
from tests.unit.plan.test_vm_offline_rehost import _plan


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
