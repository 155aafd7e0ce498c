"""plan/vm_rehost_states.py: the instance state a resize or evacuation ends in."""

from __future__ import annotations

from tests.unit import world as w
from tests.unit.plan.test_vm_rehost_outcome import _instance, _plan


def _after(vm_state: str) -> dict:
    inst = _instance(vm_state=vm_state, task_state="rebuild_spawning", progress=30)
    facts = w.rehost_world(migrations=[w.migration(4, "pre-migrating", kind="evacuation")], instance=inst)
    op = w.one_op(_plan(facts), "instances")
    assert "launched_at" in op.apply_time_columns  # the rebuild spawned the guest anew
    return op.changes[0].after


def test_an_evacuated_instance_ends_active_and_running():
    # before: task_state stayed 'rebuild_spawning' and vm_state 'error'
    after = _after("error")
    assert (after["vm_state"], after["task_state"], after["power_state"]) == ("active", None, 1)
    assert after["progress"] == 30  # only the stopped path resets it


def test_an_evacuated_stopped_instance_stays_stopped_and_powered_off():
    after = _after("stopped")
    assert (after["vm_state"], after["task_state"], after["power_state"], after["progress"]) == (
        "stopped", None, 4, 0,
    )  # fmt: skip


def test_a_reverted_resize_of_a_stopped_instance_is_powered_off():
    # before: vm_state 'stopped' with power_state still 1
    meta = w.row("nova", "instance_system_metadata", id=3, instance_uuid=w.INSTANCE, deleted=0,
                 key="old_vm_state", value="stopped")  # fmt: skip
    mig = w.migration(4, "finished", kind="resize", source="cmp-02", dest="cmp-01")
    facts = w.rehost_world(migrations=[mig], instance=_instance(vm_state="resized", power_state=1),
                           more_cell_rows={"instance_system_metadata": [meta]})  # fmt: skip
    op = w.one_op(_plan(facts), "instances")
    after = op.changes[0].after
    assert (after["vm_state"], after["task_state"], after["power_state"]) == ("stopped", None, 4)
    assert "launched_at" not in op.apply_time_columns  # no respawn: the guest never left the source
