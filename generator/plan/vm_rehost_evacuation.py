"""The instance's state when a rehost ends an evacuation that reached its destination.

An evacuation is a rebuild on the destination (compute/manager.py rebuild_instance): after the
driver spawned the guest, `_update_instance_after_spawn` saves power_state (the driver's
reading), vm_state ACTIVE, task_state None and launched_at; when the instance was STOPPED
before the evacuation (orig_vm_state; from 2023.2 also the API's target_state, microversion
2.95) `_do_rebuild_instance` then stops it (progress 0; stop_instance: power_state SHUTDOWN,
vm_state STOPPED, task_state None); the resource tracker's finish_evacuation applies the
migration context, moves host/node and sets the migration 'done'. 'done' is what the source
host's nova-compute looks for when it comes back (`_destroy_evacuated_instances`): it destroys
the guest left there, frees the source allocations and sets 'completed' — so the rehost leaves
'done' and lets the source finish its part.

A rehost cannot see the API's target_state (the request is gone): an instance that is
'stopped' stays stopped, any other (typically 'error' or 'active' with a rebuild task state
left by the failure) ends ACTIVE and running, the operator having said the guest runs there.
"""

from __future__ import annotations

from generator.domain import nova
from generator.ops.operations import ApplyTime, Assignment, SetValue
from generator.ops.rows import Row
from generator.plan import builders as b


def evacuation_end(inst: Row) -> tuple[dict[str, Assignment], list, str]:
    """instances column changes, their postcondition terms, and the finding."""
    stopped = inst["vm_state"] == nova.STOPPED
    vm_state, power = (nova.STOPPED, nova.SHUTDOWN) if stopped else ("active", nova.RUNNING)
    changes: dict[str, Assignment] = {
        "vm_state": SetValue(vm_state),
        "task_state": SetValue(None),
        "power_state": SetValue(power),
        "launched_at": ApplyTime(),
    }
    if stopped:
        changes["progress"] = SetValue(0)
    conds = [b.eq("vm_state", vm_state), b.is_null("task_state"), b.eq("power_state", power)]
    note = (
        f"vm_state {vm_state!r}, task_state NULL, power_state {power}, launched_at now: as the rebuild on "
        "the destination leaves an evacuated instance"
        + (" that was stopped (it stops it again)" if stopped else "")
        + "; migration 'done' so the source's nova-compute, when it starts, destroys the guest left there"
    )
    return changes, conds, note
