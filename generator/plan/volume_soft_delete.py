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

The encryption key in the key manager is not Cinder's database: the runbook says how
to delete it.
"""

from __future__ import annotations

from generator.domain import cinder
from generator.facts.volume import VolumeFacts
from generator.ops.operations import ApplyTime, Assignment, Operation, SetValue
from generator.plan import builders as b
from generator.plan.model import ApiCommand, Plan, Postcondition
from generator.plan.overrides import override_record
from generator.plan.volume_common import (
    VolumeOptions,
    databases,
    describe_volume,
    kept_backups,
    quota_correction,
    refuse_delete_blockers,
    refuse_unless_repairable,
)
from generator.quoting import shell_arg
from generator.sqlgen.builders import isin as _in

SOFT: dict[str, Assignment] = {"deleted": SetValue(True), "deleted_at": ApplyTime()}


def _not_in_or_null(column: str, values: list) -> b.exp.Expr:
    return b.exp.or_(
        b.exp.Is(this=b.exp.column(column), expression=b.exp.Null()), b.exp.Not(this=_in(column, values))
    )


def plan_soft_delete(facts: VolumeFacts, options: VolumeOptions) -> Plan:
    warnings = refuse_unless_repairable(facts, options)
    warnings += refuse_delete_blockers(facts, options)
    u = facts.volume_id
    c = facts.cinder
    vol = facts.volume
    assert vol is not None and facts.usage is not None
    findings = describe_volume(facts)
    ops: list[Operation] = []
    posts: list[Postcondition] = []

    def soft_delete(table: str, rows: list, scope: b.Scope, purpose: str) -> None:
        op = b.update(c, table, rows, SOFT, scope=scope, purpose=purpose)
        if op:
            ops.append(op)
            findings.append(f"{table}: {len(rows)} live row(s) to soft-delete")
        posts.append(Postcondition("cinder", f"no live {table} rows left ({scope.description})",
                                   b.count_is(table, 0, scope.tree())))  # fmt: skip

    snaps = list(facts.live("snapshots")) if options.cascade else []
    snap_ids = [s["id"] for s in snaps]
    if snaps:
        glance = [r for r in facts.live("volume_glance_metadata") if r["snapshot_id"] in snap_ids]
        scope = b.scope_where(
            "live glance metadata of the snapshots", _in("snapshot_id", snap_ids), b.eq("deleted", 0)
        )
        soft_delete("volume_glance_metadata", glance, scope, "volume_glance_metadata_delete_by_snapshot")
        meta = [r for r in facts.live("snapshot_metadata") if r["snapshot_id"] in snap_ids]
        scope = b.scope_where(
            "live metadata of the snapshots", _in("snapshot_id", snap_ids), b.eq("deleted", 0)
        )
        soft_delete("snapshot_metadata", meta, scope, "snapshot_destroy: the snapshot's metadata")
        scope = b.scope_where(f"live snapshots of volume {u}", b.eq("volume_id", u), b.eq("deleted", 0))
        destroyed: dict[str, Assignment] = {
            "status": SetValue(cinder.DELETED_STATUS),
            **SOFT,
            "updated_at": ApplyTime(),  # the API's move to 'deleting' (domain/cinder.py)
        }
        op: Operation | None = b.update(
            c, "snapshots", snaps, destroyed, scope=scope,
            purpose="--cascade: snapshot_destroy (status 'deleted'), as delete_volume(cascade=True) does",
        )  # fmt: skip
        if op:  # snaps is not empty here, so it always is
            ops.append(op)
        findings.append(f"snapshots: {len(snaps)} live snapshot(s) to delete (--cascade)")

    for table in cinder.volume_destroy_dependents(c.release):
        if table == "snapshots" and snaps:
            continue  # already deleted above, which is what volume_destroy would find
        conds = [b.eq("volume_id", u), b.eq("deleted", 0)]
        rows = [r for r in facts.live(table) if r["volume_id"] == u]
        if table == "volume_glance_metadata" and snap_ids:
            conds.append(_not_in_or_null("snapshot_id", snap_ids))
            rows = [r for r in rows if r["snapshot_id"] not in snap_ids]
        scope = b.scope_where(f"live {table} rows of volume {u}", *conds)
        soft_delete(table, rows, scope, f"volume_destroy ({c.release}): deleted = 1 like Cinder's own delete")

    op = b.update(
        c,
        "volumes",
        [vol],
        {
            "status": SetValue(cinder.DELETED_STATUS),
            **SOFT,
            "migration_status": SetValue(None),
            "terminated_at": ApplyTime(),
            "updated_at": ApplyTime(),
        },
        scope=b.scope_where(f"volumes.id = '{u}'", b.eq("id", u)),
        stays_in_scope=True,
        purpose="volume_destroy: status 'deleted', deleted = 1, migration_status NULL (+ terminated_at)",
    )
    assert op is not None
    ops.append(op)
    posts.append(
        Postcondition(
            "cinder",
            "the volume is deleted the way Cinder leaves it",
            b.count_is(
                "volumes", 1, b.eq("id", u), b.eq("deleted", 1), b.eq("status", cinder.DELETED_STATUS)
            ),
        )
    )
    for table, why in (
        ("image_volume_cache_entries", "evict the image-cache entry, as the API's delete does"),
        ("workers", "a finished cleanable operation leaves no worker row"),
    ):
        rows = [r for r in c.rows(table) if table != "workers" or r["resource_id"] in [u, *snap_ids]]
        row_scope = c.scope(table)
        if table == "workers":
            row_scope = b.scope_where(
                "workers of the volume (and cascaded snapshots)",
                _in("resource_type", list(cinder.WORKER_RESOURCE_TYPES)),
                _in("resource_id", [u, *snap_ids]),
            )
        op = b.delete(c, table, rows, scope=row_scope, purpose=why)
        if op:
            ops.append(op)
            findings.append(f"{table}: {len(rows)} row(s) to delete")

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
