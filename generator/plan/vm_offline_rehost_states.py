"""The instance's end state in an offline rehost, per outcome read when the file runs.

The writes declared in vm_rehost_states (EVACUATED's `evacuated`, POWER_OFF) as scoped steps.
Offline picks the branch at run time, so the decision is what this module adds: the
evacuation's `stopped` end for an instance 'stopped' before, its `active` end for any other;
the power-off for an instance whose stashed old_vm_state is 'stopped'. Both steps run before
the move's end status is written (the last steps of the file), so a re-run, the move closed,
changes nothing.
"""

from __future__ import annotations

from generator.domain import nova
from generator.ops.operations import Operation
from generator.plan import builders as b
from generator.plan import vm_offline_rehost_outcome as rt
from generator.plan.vm_rehost_states import EVACUATED, POWER_OFF, Write, evacuated, settled
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.builders import parse
from generator.sqlgen.literals import sql_literal


def _is(column: str, value: object) -> str:
    return f"{column} IS NULL" if value is None else f"{column} <=> {sql_literal(value)}"


def evacuation_steps(cell: SchemaSnapshot, u: str, host: str, node: str) -> list[Operation]:
    """instances: a completed evacuation's end, one step per vm_state the rebuild keeps."""
    ops: list[Operation] = []
    for stopped in (True, False):
        changes, words = evacuated(stopped)
        was_stopped = parse(_is("vm_state", nova.STOPPED))
        # not yet so: the row leaves the step's scope once written (an instance already so, its
        # evacuation still open, keeps its launched_at: the live rehost would stamp it)
        end = " AND ".join(_is(c, v) for c, v in settled(changes))
        w = Write("instances", words, tuple(changes.items()), (b.eq("deleted", 0),), EVACUATED)
        ops.append(
            rt.emit(
                cell,
                w,
                u,
                host,
                node,
                f"instance {u}, {'stopped' if stopped else 'not stopped'}, its open evacuation completed "
                "(read at run time)",
                was_stopped if stopped else b.not_(was_stopped),
                parse(f"NOT ({end})"),
            )
        )
    return ops


def stopped_revert_step(cell: SchemaSnapshot, u: str, host: str, node: str) -> Operation:
    """instances: power_state 4 for a reverted resize/cold migration of a stopped instance (before
    the stashed old_vm_state is dropped)."""
    return rt.emit(
        cell,
        POWER_OFF,
        u,
        host,
        node,
        f"instance {u}, stopped before its open resize/cold migration, reverted (read at run time)",
        parse(f"({rt.reverted_vm_state(u)}) = {sql_literal(nova.STOPPED)}"),
        b.not_(parse(_is("power_state", nova.SHUTDOWN))),
    )
