"""Quota sync: set Cinder's quota_usages.in_use to what Cinder's own recount gives.

Cinder keeps usage in quota_usages and only recounts a row when its reservation
logic decides to (row missing, in_use < 0, until_refresh, max_age); a failed
delete or a hand-edited database leaves the count wrong, and then the project is
refused volumes it is entitled to (or given more than its limit). The recount is
that of cinder/db api `_sync_volumes`, `_sync_gigabytes`, `_sync_snapshots`,
`_sync_backups`, `_sync_backup_gigabytes`, `_sync_groups` for the release (see
domain/cinder_quota.py): per project, the global resources and volumes_/gigabytes_/
snapshots_<type> of every live volume type.

Only usage: limits (quotas, quota_classes) and `reserved` are never touched; rows
Cinder has not created are left missing (its next reservation creates them from
the same recount). Each row is guarded: any quota activity of the project between
generation and apply aborts the apply, so run it in a quiet window.
"""

from __future__ import annotations

from collections.abc import Mapping

from generator.domain.cinder import quota_manage_caveat
from generator.errors import TargetProblem
from generator.facts.model import DatabaseFacts
from generator.facts.volume import ProjectUsage
from generator.ops.operations import Operation
from generator.plan.model import ApiCommand, Plan
from generator.plan.volume_common import VolumeOptions, databases
from generator.plan.volume_quota import quota_correction
from generator.quoting import shell_arg


def plan_quota_sync(
    cinder_facts: DatabaseFacts, usages: Mapping[str, ProjectUsage], *, no_snapshot_gb_quota: bool = False
) -> Plan:
    if not usages:
        raise TargetProblem("no project has Cinder quota_usages rows: nothing to sync")
    options = VolumeOptions(op="quota-sync", no_snapshot_gb_quota=no_snapshot_gb_quota)
    type_names = {r["id"]: r["name"] for r in cinder_facts.rows("volume_types") if not r["deleted"]}
    ops: list[Operation] = []
    findings: list[str] = []
    warnings = [
        "run the apply in a quiet window: any volume, snapshot or backup created or deleted in these "
        "projects after generation changes their quota_usages rows and makes the guard abort (regenerate)"
    ]
    for project_id, usage in sorted(usages.items()):
        if not usage.rows:
            findings.append(
                f"project {project_id}: no quota_usages rows (Cinder creates them when it reserves)"
            )
            continue
        qops, notes, qwarnings = quota_correction(cinder_facts, usage, usage.counts, type_names, options)
        ops += qops
        warnings += qwarnings
        findings += [f"project {project_id}: {n}" if not n.startswith("quota usage of") else n for n in notes]
    if not ops:
        raise TargetProblem(
            f"the quota usage of {len(usages)} project(s) already equals Cinder's recount: nothing to sync"
        )
    projects = tuple(sorted(usages))
    one = projects[0] if len(projects) == 1 else "<project>"
    return Plan(
        target_kind="quota",
        op="sync",
        targets=projects,
        mode="live",
        release=cinder_facts.release,
        databases=databases(cinder_facts),
        operations=tuple(ops),
        findings=tuple(findings),
        warnings=tuple(warnings),
        api_first=(
            ApiCommand(
                f"cinder-manage quota check --project-id {shell_arg(one)}",
                "Cinder's own comparison of usage with a recount" + quota_manage_caveat(cinder_facts.release),
            ),
            ApiCommand(
                f"cinder-manage quota sync --project-id {shell_arg(one)}",
                "Cinder's own correction (Wallaby+), from a host with cinder.conf"
                + quota_manage_caveat(cinder_facts.release),
            ),
        ),
        options={"no_snapshot_gb_quota": no_snapshot_gb_quota},
    )
