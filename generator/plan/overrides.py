"""Named overrides: one flag per protection, each refusal naming exactly its flag.

fixpack refuses a repair that could race a service or hurt a running guest.
Each protection has its own `--allow-…` flag, so an operator who overrides one
(say, a healthy-looking instance they know is a ghost) is still protected by
every other. A refusal names the one flag that would let it through and, for the
time rule (`recent-transition`, see domain/staleness.py), when it would be
accepted without any flag. What an override let through is a warning in the
runbook, prefixed with the flag.

The CLI builds its options from `OVERRIDES`; planners call `Overrides.refuse`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# name -> (who uses it, help text). The flag is `--allow-<name>`.
OVERRIDES: dict[str, tuple[tuple[str, ...], str]] = {
    "healthy-instance": (
        ("vm",),
        "Repair an instance that looks healthy (vm_state active, power running, no task_state).",
    ),
    "recent-transition": (
        ("vm", "volume", "allocation", "mapping"),
        "Repair a row whose transitional state (an instance task_state, a volume status such as "
        "attaching/detaching/deleting/creating, a build request or a cell-less mapping) changed less "
        "than --stale-after ago.",
    ),
    "active-user": (
        ("volume",),
        "reset-detached / detach-from-nova: close the volume's attachment or BDM although an active "
        "instance (Nova BDM) may be using the disk.",
    ),
    "attached": (
        ("volume",),
        "soft-delete / purge a volume Cinder shows attached; detach-from-nova --instance: drop Nova's record "
        "although Cinder still has a live attachment.",
    ),
    "group-member": (
        ("volume",),
        "soft-delete / purge a volume that belongs to a group or consistency group.",
    ),
    "migrating": (
        ("volume",),
        "Repair a volume whose migration_status says a migration is moving its data (or that is a "
        "migration's destination).",
    ),
    "snapshot-status": (
        ("volume",),
        "soft-delete / purge --cascade: remove snapshots in a status Cinder's delete refuses (not available "
        "or error), as Cinder's force delete does.",
    ),
    "deleted-volume": (("volume",), "reset-detached / soft-delete a volume Cinder already deleted."),
    "live-consumer": (
        ("allocation",),
        "Delete the allocations of a consumer Nova still uses: a live (not deleted) instance or a "
        "migration still in progress in a cell.",
    ),
    "foreign-consumer": (
        ("allocation",),
        "Delete the allocations of a consumer Nova does not know (no instance, migration, mapping or build "
        "request) or typed for another service (Blazar, Zun, ...).",
    ),
    "instance-exists": (
        ("mapping",),
        "Delete the mapping of an instance that exists in the cell it points to (a deleted instance keeps "
        "its mapping until nova-manage db archive_deleted_rows).",
    ),
    "unknown-outcome": (
        ("vm",),
        "rehost an instance whose open move went between two other hosts than --to-host: close the move as "
        "'error' and move the instance's allocations without knowing whether it completed or reverted.",
    ),
    "over-capacity": (
        ("vm",),
        "rehost onto a compute node whose placement inventory lacks the room, max_unit or resource class "
        "for the instance's allocations.",
    ),
    "missing-volume": (
        ("volume",),
        "detach-from-nova a volume that is not in the Cinder database (purged): soft-delete Nova's BDMs "
        "anyway.",
    ),
}


def flag(name: str) -> str:
    if name not in OVERRIDES:
        raise KeyError(f"no override {name!r}")
    return f"--allow-{name}"


def flags_for(command: str) -> tuple[str, ...]:
    return tuple(flag(n) for n, (users, _) in OVERRIDES.items() if command in users)


def force_replaced(command: str) -> str:
    """The one line `--force` prints now: which named flags replace it."""
    return (
        "--force was replaced by one flag per protection; pass the one the refusal names: "
        + ", ".join(flags_for(command))
        + " (and --stale-after DURATION for the staleness threshold)"
    )


@dataclass(frozen=True)
class Overrides:
    """The protections the operator lifted (names from OVERRIDES)."""

    allowed: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.allowed) - set(OVERRIDES))
        if unknown:
            raise ValueError(f"unknown override(s): {', '.join(unknown)}")

    @classmethod
    def of(cls, *names: str) -> Overrides:
        return cls(frozenset(names))

    def __contains__(self, name: object) -> bool:
        return name in self.allowed

    def names(self) -> list[str]:
        return sorted(self.allowed)

    def refuse(
        self,
        name: str,
        subject: str,
        reason: str,
        op: str,
        warnings: list[str],
        *,
        when: str = "",
        hint: str = "",
    ) -> None:
        """Raise TargetProblem naming `--allow-<name>` unless it was given; else add a warning.

        The refusal reads `<subject>: <reason>; refusing to <op> it without --allow-<name>`, then
        `when` (time rules: when it would be accepted without the flag) and `hint` (the way that
        needs no override).
        """
        from generator.errors import TargetProblem

        if name not in self.allowed:
            tail = "".join(f"; {x}" for x in (when, hint) if x)
            raise TargetProblem(f"{subject}: {reason}; refusing to {op} it without {flag(name)}{tail}")
        warnings.append(f"{flag(name)}: {reason}")


def override_record(options: object) -> dict:
    """What the manifest records of the options: the overrides given and the staleness threshold."""
    from generator.domain.staleness import format_duration

    return {
        "overrides": [flag(n) for n in options.allow.names()],  # type: ignore[attr-defined]
        "stale_after": format_duration(options.stale_after),  # type: ignore[attr-defined]
    }


def from_record(recorded: dict, command: str) -> tuple[Overrides, dt.timedelta]:
    """The overrides and threshold a manifest recorded (`override_record`), for a bundle generated again
    from it (`fixpack continue`). A manifest written before the named flags (`"force": true`) lifts every
    protection of `command`, as `--force` did."""
    from generator.domain.staleness import DEFAULT_STALE_AFTER, parse_duration

    names = {str(f).removeprefix("--allow-") for f in recorded.get("overrides", ())} & set(OVERRIDES)
    if recorded.get("force"):
        names |= {n for n, (users, _) in OVERRIDES.items() if command in users}
    stale = recorded.get("stale_after")
    threshold = parse_duration(stale) if isinstance(stale, str) else DEFAULT_STALE_AFTER
    return Overrides(frozenset(names)), threshold
