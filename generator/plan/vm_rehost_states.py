"""The instance's vm_state, task_state and power_state when a rehost ends its move.

A resize or cold migration (compute/manager.py): completed, as `_finish_resize` leaves it —
vm_state RESIZED, task_state None, launched_at now (finish_migration spawned the guest on the
destination), waiting for confirm/revert; reverted, as `_finish_revert_resize` leaves it —
vm_state ACTIVE, or, when system_metadata old_vm_state says 'stopped', task_state
POWERING_OFF then `stop_instance`: power_state the driver's reading after power_off (SHUTDOWN),
vm_state STOPPED, task_state None. Nova's power-state sync would stop a guest that still runs
then, so the finding says to stop it.

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


def evacuated(stopped: bool) -> tuple[str, int, dict[str, Assignment], str]:
    """vm_state, power_state, the instances changes and their words after a completed evacuation
    (one declaration: the live rehost picks by the row it read, the offline one per branch)."""
    vm_state, power = (nova.STOPPED, nova.SHUTDOWN) if stopped else ("active", nova.RUNNING)
    changes: dict[str, Assignment] = {
        "vm_state": SetValue(vm_state),
        "task_state": SetValue(None),
        "power_state": SetValue(power),
        "launched_at": ApplyTime(),
        **({"progress": SetValue(0)} if stopped else {}),
    }
    words = (
        f"vm_state {vm_state!r}, task_state NULL, power_state {power}, launched_at now: as the rebuild on "
        "the destination leaves an evacuated instance"
        + (" that was stopped (it stops it again)" if stopped else "")
    )
    return vm_state, power, changes, words


def evacuation_end(inst: Row) -> tuple[dict[str, Assignment], list, str]:
    """instances column changes, their postcondition terms, and the finding."""
    vm_state, power, changes, words = evacuated(inst["vm_state"] == nova.STOPPED)
    conds = [b.eq("vm_state", vm_state), b.is_null("task_state"), b.eq("power_state", power)]
    note = (
        words
        + "; migration 'done' so the source's nova-compute, when it starts, destroys the guest left there"
    )
    return changes, conds, note


def resize_end(inst: Row, vm_state: str) -> tuple[dict[str, Assignment], list, str]:
    """instances column changes, their postcondition terms and the finding for a resize or cold
    migration ended in `vm_state` (RESIZED: completed; else the reverted state)."""
    waits = vm_state == nova.RESIZED
    changes: dict[str, Assignment] = {"vm_state": SetValue(vm_state), "task_state": SetValue(None)}
    conds = [b.eq("vm_state", vm_state), b.is_null("task_state")]
    if waits:
        changes["launched_at"] = ApplyTime()
    note = f"vm_state {vm_state!r}, task_state NULL: " + (
        "as finish_resize leaves it; then `openstack server resize confirm` (or revert)"
        if waits
        else "as finish_revert_resize leaves it"
    )
    if vm_state == nova.STOPPED and inst.get("power_state") != nova.SHUTDOWN:
        changes["power_state"] = SetValue(nova.SHUTDOWN)
        conds.append(b.eq("power_state", nova.SHUTDOWN))
        note += (
            "; power_state 4 (shutdown): the instance was stopped before the move and Nova's revert "
            "powers it off (stop_instance) — stop the guest if it runs, or Nova's power-state sync will"
        )
    return changes, conds, note
