"""The quota side of a live volume delete or `quota sync`: Cinder's recount, written as keyed updates.

Beside volume_common.py (whose options it takes): the soft-delete, the purge and `quota sync` set
a project's quota_usages rows to what Cinder's own `_sync_*` functions would count
(domain/cinder_quota.py), and lock the project's other rows so that concurrent quota activity
aborts the apply.
"""

from __future__ import annotations

from generator.domain import cinder_quota
from generator.facts.model import DatabaseFacts
from generator.facts.volume import ProjectUsage, VolumeFacts
from generator.ops.operations import ApplyTime, CheckRows, Operation, SetValue
from generator.ops.rows import Row
from generator.plan import builders as b
from generator.plan.volume_common import VolumeOptions


def kept_backups(facts: VolumeFacts, project_id: str, *, keep_live: bool) -> list[Row]:
    """The volume's live backups of `project_id` that stay: the recount read the project
    without any of the volume's backups, so these are added back (`_sync_backups`)."""
    if not keep_live:
        return []
    return [r for r in facts.live("backups") if r["project_id"] == project_id]


def quota_correction(
    cinder_facts: DatabaseFacts,
    usage: ProjectUsage,
    counts: cinder_quota.UsageCounts,
    type_names: dict[str, str],
    options: VolumeOptions,
) -> tuple[list[Operation], list[str], list[str]]:
    """Set each live quota_usages row of the project to Cinder's recount (never limits, never reserved).

    Rows are grouped by their new in_use value (one keyed UPDATE per value, updated_at
    at apply time); the project's other rows are locked and checked unchanged, so any
    concurrent quota activity of the project (a reservation or commit) aborts the apply.
    Resources Cinder does not sync (a deleted volume type's
    keys, consistencygroups) are left alone; rows Cinder has not created are left
    missing: its next reservation creates them from the same recount.
    """
    target = cinder_quota.recount(counts, type_names, no_snapshot_gb_quota=options.no_snapshot_gb_quota)
    by_value: dict[int, list[Row]] = {}
    notes: list[str] = []
    present = set()
    for row in sorted(usage.rows, key=lambda r: r["id"]):
        resource = row["resource"]
        present.add(resource)
        if resource not in target:
            notes.append(f"quota_usages {resource!r}: not a resource Cinder syncs now: left alone")
            continue
        if row["in_use"] != target[resource]:
            by_value.setdefault(target[resource], []).append(row)
            notes.append(f"quota {resource}: in_use {row['in_use']} -> {target[resource]}")
    if not usage.rows:
        notes.append(
            f"project {usage.project_id} has no quota_usages rows: Cinder creates them when it reserves"
        )
    elif not by_value:
        notes.append(f"quota usage of project {usage.project_id} already equals Cinder's recount")
    missing = sorted(r for r, v in target.items() if r not in present and v)
    if missing:
        notes.append(
            f"no quota_usages row yet for {', '.join(missing)}: left missing (Cinder creates it from the "
            "same recount on the project's next reservation)"
        )
    ops: list[Operation] = []
    changing = {r["id"] for rows in by_value.values() for r in rows}
    steady = tuple(r for r in sorted(usage.rows, key=lambda r: r["id"]) if r["id"] not in changing)
    if by_value and steady:
        ops.append(
            CheckRows(
                cinder_facts.role,
                "quota_usages",
                b.key_of(cinder_facts, "quota_usages"),
                f"the project's other quota rows must not change meanwhile (project {usage.project_id})",
                rows=steady,
            )
        )
    warnings = []
    if any(r["reserved"] for r in usage.rows):
        warnings.append(
            f"project {usage.project_id} has reservations in flight (reserved != 0): a create or delete is "
            "running; regenerate in a quiet window"
        )
    for value, rows in sorted(by_value.items()):
        op = b.update(
            cinder_facts,
            "quota_usages",
            rows,
            {"in_use": SetValue(value), "updated_at": ApplyTime()},
            scope=None,
            purpose=f"quota usage of project {usage.project_id} recounted as Cinder's _sync_* do: "
            f"in_use = {value}",
        )
        if op:
            ops.append(op)
    return ops, notes, warnings
