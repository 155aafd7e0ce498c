"""What a rehost writes when it ends the instance's move, declared once for both evaluators.

Per outcome (completed / reverted, read from `--to-host` against the move) and migration type,
each `Write` names the table, the rows of the instance it touches, the assignments (none:
delete) and the purpose; vm_rehost.py applies it to the rows it read, vm_offline_rehost.py
emits it as a scope the file reads at run time. What stays per evaluator is `When` itself:
the live rehost read the migration row and knows the outcome (`When.holds`); an offline
bundle has no rows at generation, so it tests the session values @fixpack_move_* the file
reads when it runs (vm_offline_rehost_outcome.move_is), and every outcome's writes are in it.

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

from dataclasses import dataclass, field

from sqlglot import exp

from generator.domain import nova
from generator.ops.operations import ApplyTime, Assignment, SetValue
from generator.plan import builders as b

COMPLETED, REVERTED, UNKNOWN = "completed", "reverted", "unknown"
RESIZE_LIKE = ("resize", "migration")
MOVE_TYPES = (*RESIZE_LIKE, "live-migration", "evacuation")


@dataclass(frozen=True)
class When:
    """An outcome of the instance's open move, of some migration types (None: any)."""

    kind: str
    moves: tuple[str, ...] | None = None

    def holds(self, kind: str, move: str) -> bool:
        """Live (Outcome.is_): the outcome the migration row it read gave; offline tests the same
        When in SQL at run time (vm_offline_rehost_outcome.Run.move_is)."""
        return kind == self.kind and (self.moves is None or move in self.moves)


WAITS = When(COMPLETED, RESIZE_LIKE)  # finish_resize: confirm/revert next, the migration context kept
REVERTED_RESIZE = When(REVERTED, RESIZE_LIKE)
EVACUATED = When(COMPLETED, ("evacuation",))
# The side of the move's records that becomes the instance's: instance_extra.flavor's 'new'/'old'
# flavor, and the migration context's new_/old_ resources (apply_migration_context on any completed
# move, revert_migration_context on a reverted resize; a rolled back live migration or a failed
# evacuation only drops the context).
FLAVOR_SIDES = ((WAITS, "new"), (REVERTED_RESIZE, "old"))
CONTEXT_SIDES = ((When(COMPLETED), "new"), (REVERTED_RESIZE, "old"))
CONTEXT_COLUMNS = ("numa_topology", "pci_requests", "resources")
RESIZE_ENDER = {"new": "finish_resize", "old": "finish_revert_resize"}
# instance_extra.flavor after the move, each key the stored part it takes (None: null); the keys
# not listed stay: a completed resize keeps old/new for confirm/revert, a reverted one clears them
# (_revert_instance_flavor_host_node)
FLAVOR_DOCUMENT: dict[str, dict[str, str | None]] = {
    "new": {"cur": "new"},
    "old": {"cur": "old", "old": None, "new": None},
}

POINTS = "the instance points at the target host and node"
NONE_OPEN = "no unfinished migration of the instance remains (but a completed resize waiting for confirm)"


@dataclass(frozen=True)
class Write:
    """One write of a rehost: the instance's rows of `table` that `rows` keep, when the move ends
    `when` (None: whatever the outcome). Live applies it to the rows it read (merging the
    instance's and instance_extra's writes into one UPDATE of the row), offline emits it as a
    scope (Run.emit)."""

    table: str
    purpose: str
    assignments: tuple[tuple[str, Assignment], ...] = ()  # none: the rows are deleted
    rows: tuple[exp.Expr, ...] = field(default=(), compare=False)
    when: When | None = None

    @property
    def changes(self) -> dict[str, Assignment]:
        return {**dict(self.assignments), "updated_at": ApplyTime()}


def end_status(kind: str, move: str) -> str:
    return nova.MOVE_END_STATUS.get((move, kind), nova.MIGRATION_CLOSED_STATUS)


def end_move(kind: str, moves: tuple[str, ...]) -> Write:
    """The open move's end status, as Nova leaves it for the outcome (moves sharing one status)."""
    status = end_status(kind, moves[0])
    return Write(
        "migrations",
        f"end the {'/'.join(moves)} as Nova does when it {kind} ('{status}')",
        (("status", SetValue(status)),),
        when=When(kind, moves),
    )


CLOSE_OTHERS = Write(
    "migrations",
    "close the instance's other unfinished migrations (status 'error')",
    (("status", SetValue(nova.MIGRATION_CLOSED_STATUS)),),
)
DROP_TOKENS = Write(
    "console_auth_tokens",
    "drop the console tokens of the old host, as _post_live_migration does",
    when=When(COMPLETED, ("live-migration",)),
)
POP_OLD_VM_STATE = Write(  # a hard delete: _instance_metadata_update_in_place never soft-deletes
    "instance_system_metadata",
    "drop the stashed old_vm_state, as finish_revert_resize does",
    rows=(b.eq("deleted", 0), b.eq("key", "old_vm_state")),
    when=REVERTED_RESIZE,
)
END_LIVE_MIGRATION = Write(
    "instances",
    "end the live migration as Nova does on the host the guest runs on: task_state NULL, progress 0",
    tuple((k, SetValue(v)) for k, v in nova.LIVE_MIGRATION_END.items()),
    rows=(b.eq("deleted", 0), b.eq("task_state", nova.LIVE_MIGRATING)),
)
DROP_CONTEXT = Write(  # not when WAITS: a completed resize keeps it for confirm/revert
    "instance_extra",
    "drop the stale migration context of the failed move",
    (("migration_context", SetValue(None)),),
    rows=(b.eq("deleted", 0), b.not_(b.is_null("migration_context"))),
)
POWER_OFF = Write(
    "instances",
    "power_state 4 (shutdown): Nova's revert stops an instance that was stopped (stop_instance); "
    "stop the guest if it runs, or Nova's power-state sync will",
    (("power_state", SetValue(nova.SHUTDOWN)),),
    rows=(b.eq("deleted", 0),),
    when=REVERTED_RESIZE,
)


def point_at(host: str, node: str, compute_id: Assignment | None) -> Write:
    """instances: host, node and (from 2023.2) compute_id of the target."""
    more = (("compute_id", compute_id),) if compute_id is not None else ()
    stamp = ("updated_at", ApplyTime())
    return Write(
        "instances",
        f"point the instance at {host} / {node}",
        (("host", SetValue(host)), ("node", SetValue(node)), stamp, *more),
        rows=(b.eq("deleted", 0),),
    )


def resize_end(side: str, vm_state: Assignment) -> dict[str, Assignment]:
    """instances after finish_resize (side 'new': launched_at, the guest spawned on the
    destination) or finish_revert_resize ('old'); vm_state is the evaluator's (RESIZED or the
    reverted state: 'stopped' when old_vm_state says so, else 'active')."""
    spawned: dict[str, Assignment] = {"launched_at": ApplyTime()} if side == "new" else {}
    return {"vm_state": vm_state, "task_state": SetValue(None), **spawned}


def flavor_words(side: str) -> str:
    return f"instance_extra.flavor: cur = the {side} flavor" + (
        "" if side == "new" else ", old and new cleared (_revert_instance_flavor_host_node)"
    )


def context_words(side: str, columns: list[str]) -> str:
    return (
        f"{', '.join(columns)}: the migration context's {side} values, as Nova's "
        f"{'apply' if side == 'new' else 'revert'}_migration_context() saves them"
    )


def evacuated(stopped: bool) -> tuple[dict[str, Assignment], str]:
    """The instances changes and their words after a completed evacuation (the live rehost picks
    by the row it read, the offline one per run-time branch)."""
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
    return changes, words


def settled(changes: dict[str, Assignment]) -> list[tuple[str, object]]:
    """The columns the changes set to a value, and that value: the end state a check recounts."""
    return [(c, a.value) for c, a in changes.items() if isinstance(a, SetValue)]
