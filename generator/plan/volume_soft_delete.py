"""Volume soft-delete: what Cinder's own delete does to the database, for that release.

In order (children first, each a soft delete — deleted = 1, deleted_at = now,
updated_at kept — of live rows only, as Cinder's model_query reads them):
- with --cascade, each live snapshot as the manager's `delete_snapshot` does:
  its glance metadata (`volume_glance_metadata_delete_by_snapshot`), its
  snapshot_metadata and the snapshot itself, status 'deleted' (`snapshot_destroy`),
  and its updated_at = now: the API first moves each snapshot to 'deleting' with a
  conditional update (the ORM's onupdate fires), which `snapshot_destroy` then keeps;
- `volume_destroy`'s dependents for the release (`cinder.volume_destroy_dependents`):
  volume_metadata, volume_admin_metadata, transfers, volume_glance_metadata,
  volume_attachment, and from Yoga snapshots — only deleted/deleted_at change;
- the volume: status 'deleted', deleted = 1, deleted_at, migration_status NULL
  (`volume_destroy`), terminated_at and updated_at = now (the API's move to 'deleting');
- the image-cache entry evicted (hard DELETE, `ImageVolumeCache.evict`) and the
  cleanup `workers` rows removed (hard DELETE, as a finished cleanable operation does);
- quota_usages of the project recounted as Cinder's sync functions count it.

The steps are declared once in plan/volume_recipes.py (the offline planner evaluates the
same ones as run-time scopes). Live-only here, because they need the rows read at generation:
the refusals (volume_common), the cascaded snapshots' ids the steps are bound to, the findings
with their row counts, and the quota correction from the counts read (the backups kept are
counted back in; offline recounts the same domain/cinder_quota.py terms at run time instead).

The encryption key in the key manager is not Cinder's database: the runbook says how
to delete it.
"""

from __future__ import annotations

from generator.domain import cinder
from generator.facts.volume import VolumeFacts
from generator.ops.operations import DeleteRows, Operation
from generator.plan.model import ApiCommand, Plan, Postcondition
from generator.plan.overrides import override_record
from generator.plan.recipe import Evaluated, live_step
from generator.plan.volume_common import (
    VolumeOptions,
    databases,
    describe_volume,
    refuse_delete_blockers,
    refuse_unless_repairable,
)
from generator.plan.volume_quota import kept_backups, quota_correction
from generator.plan.volume_recipes import soft_delete, volume_deleted
from generator.quoting import shell_arg


def _finding(op: Operation, cascade: bool) -> str:
    if isinstance(op, DeleteRows):
        return f"{op.table}: {op.row_count} row(s) to delete"
    if op.table == "snapshots" and cascade:
        return f"snapshots: {op.row_count} live snapshot(s) to delete (--cascade)"
    return f"{op.table}: {op.row_count} live row(s) to soft-delete"


def plan_soft_delete(facts: VolumeFacts, options: VolumeOptions) -> Plan:
    warnings = refuse_unless_repairable(facts, options)
    warnings += refuse_delete_blockers(facts, options)
    u = facts.volume_id
    c = facts.cinder
    vol = facts.volume
    assert vol is not None and facts.usage is not None
    findings = describe_volume(facts)
    snaps = list(facts.live("snapshots")) if options.cascade else []
    snap_ids = [s["id"] for s in snaps]
    # `taken` = `cascaded`: the facts were read before the cascade, so its rows are still live there
    steps = soft_delete(c.release, u, cascade=options.cascade, cascaded=snap_ids, taken=snap_ids)
    done = Evaluated()
    for step, targets in steps:  # the rows of the facts each bound scope keeps
        done += live_step(step, c, targets)
    assert any(op.table == "volumes" for op in done.operations), "refuse_unless_repairable: a live volume"
    ops: list[Operation] = list(done.operations)
    posts: list[Postcondition] = [*done.postconditions, volume_deleted(u)]
    findings += [_finding(op, options.cascade) for op in ops if op.table != "volumes"]

    backups = kept_backups(facts, vol["project_id"], keep_live=True)
    counts = facts.usage.counts.plus_backups(len(backups), sum(r["size"] or 0 for r in backups))
    qops, notes, qwarnings = quota_correction(c, facts.usage, counts, facts.type_names, options)
    ops += qops
    findings += notes
    warnings += qwarnings
    if facts.live("backups"):
        findings.append(
            f"backups: {len(facts.live('backups'))} live backup(s) kept (restorable without the volume)"
        )
    return Plan(
        target_kind="volume",
        op="soft-delete",
        targets=(u,),
        mode="live",
        release=c.release,
        databases=databases(c),
        operations=tuple(ops),
        postconditions=tuple(posts),
        findings=tuple(findings),
        warnings=tuple(warnings),
        api_first=_api_first(u, bool(facts.live("snapshots")), vol["project_id"], c.release),
        options={
            **override_record(options),
            "cascade": options.cascade,
            "no_snapshot_gb_quota": options.no_snapshot_gb_quota,
        },
    )


def _api_first(u: str, has_snapshots: bool, project_id: str, release: str) -> tuple[ApiCommand, ...]:
    cascade = " --cascade" if has_snapshots else ""
    return (
        ApiCommand(f"openstack volume show {u} -c status -c attachments", "see what Cinder thinks first"),
        ApiCommand(
            f"cinder reset-state --state available {u}",
            "a volume stuck in deleting/error_deleting can be deleted again once available",
        ),
        ApiCommand(f"cinder delete{cascade} {u}", "then let Cinder delete it (its backend too)"),
        ApiCommand(f"cinder force-delete {u}", "as admin, whatever its status"),
        ApiCommand(
            f"cinder-manage quota check --project-id {shell_arg(project_id)}",
            "afterwards, compare the project's quota usage with Cinder's own recount (sync to fix)"
            + cinder.quota_manage_caveat(release),
        ),
    )
