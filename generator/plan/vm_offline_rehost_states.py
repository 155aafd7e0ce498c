"""The instance's end state in an offline rehost, per outcome read when the file runs.

What the live rehost writes (vm_rehost_states.py), as scoped steps: a completed evacuation
ends as the rebuild on the destination leaves it (an instance 'stopped' before stays stopped
with power_state 4 and progress 0, any other ends 'active' with power_state 1; task_state
NULL, launched_at now), and a reverted resize/cold migration of an instance whose stashed
old_vm_state is 'stopped' is powered off (power_state 4) as finish_revert_resize's
stop_instance leaves it. Both steps run before the move's end status is written (the last
steps of the file), so a re-run, the move closed, changes nothing.
"""

from __future__ import annotations

from sqlglot import exp

from generator.domain import nova
from generator.ops.operations import ApplyTime, Operation, SetValue
from generator.plan import builders as b
from generator.plan import vm_offline_rehost_outcome as rt
from generator.plan.builders import offline_update as _update
from generator.plan.vm_rehost_states import evacuated
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.builders import parse
from generator.sqlgen.literals import sql_literal


def _stopped(column: str = "vm_state") -> exp.Expr:
    return parse(f"{column} <=> {sql_literal(nova.STOPPED)}")


def evacuation_steps(cell: SchemaSnapshot, u: str, host: str, node: str) -> list[Operation]:
    """instances: a completed evacuation's end, one step per vm_state the rebuild keeps."""
    done = rt.move_is(u, "completed", host, node, ("evacuation",))
    ops: list[Operation] = []
    for stopped in (True, False):
        vm_state, power, changes, words = evacuated(stopped)
        changes["updated_at"] = ApplyTime()
        # not yet so: the row leaves the step's scope once written (an instance already so, its
        # evacuation still open, keeps its launched_at: the live rehost would stamp it)
        end = f"vm_state <=> {sql_literal(vm_state)} AND task_state IS NULL AND power_state <=> {power}" + (
            " AND progress <=> 0" if stopped else ""
        )
        ops.append(
            _update(
                "nova",
                cell,
                "instances",
                changes,
                b.scope_where(
                    f"instance {u}, {'stopped' if stopped else 'not stopped'}, its open evacuation completed "
                    "(read at run time)",
                    b.eq("uuid", u),
                    b.eq("deleted", 0),
                    _stopped() if stopped else b.not_(_stopped()),
                    done,
                    parse(f"NOT ({end})"),
                ),
                words,
            )
        )
    return ops


def stopped_revert_step(cell: SchemaSnapshot, u: str, host: str, node: str) -> Operation:
    """instances: power_state 4 for a reverted resize/cold migration of a stopped instance (before
    the stashed old_vm_state is dropped)."""
    return _update(
        "nova",
        cell,
        "instances",
        {"power_state": SetValue(nova.SHUTDOWN), "updated_at": ApplyTime()},
        b.scope_where(
            f"instance {u}, stopped before its open resize/cold migration, reverted (read at run time)",
            b.eq("uuid", u),
            b.eq("deleted", 0),
            parse(f"({rt.reverted_vm_state(u)}) = {sql_literal(nova.STOPPED)}"),
            b.not_(parse(f"power_state <=> {nova.SHUTDOWN}")),
            rt.move_is(u, "reverted", host, node, rt.RESIZE_LIKE),
        ),
        "power_state 4 (shutdown): Nova's revert stops an instance that was stopped (stop_instance); "
        "stop the guest if it runs, or Nova's power-state sync will",
    )
