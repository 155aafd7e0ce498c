"""Volume purge: hard-delete the volume and every Cinder row that references it.

The rows come from the live schema's foreign keys from volumes.id (attachments and
their specs, snapshots and their metadata, glance metadata of the volume and of its
snapshots, metadata, admin metadata, transfers) plus the references Cinder keeps
without a FK (backups and their metadata, image-cache entries, cleanup workers),
deleted or not, children before parents by a topological sort of the FK graph, the
volume row last — what `volume_destroy` followed by `cinder-manage db purge` would
leave, without waiting for the purge age.

Backups are resources of their own: a live backup restores without its source
volume, so live backups are kept (their volume_id then names a volume that is gone,
as after any Cinder delete); --cascade removes them too. Live snapshots are refused
without --cascade (their data lives on the backend). The project's quota_usages are
recounted from what remains, as for soft-delete.
"""

from __future__ import annotations

from generator.domain.toposort import topological_order
from generator.facts.volume import VolumeFacts, volume_scopes
from generator.ops.operations import Operation
from generator.ops.rows import Row, Scope
from generator.plan import builders as b
from generator.plan.model import ApiCommand, Plan, Postcondition
from generator.plan.overrides import override_record
from generator.plan.volume_common import (
    VolumeOptions,
    databases,
    describe_volume,
    refuse_delete_blockers,
    refuse_unless_repairable,
)
from generator.plan.volume_quota import kept_backups, quota_correction


def _delete_order(facts: VolumeFacts, tables: set[str]) -> list[str]:
    """Children before parents by the live FK graph."""
    schema = facts.cinder.schema
    depends: dict[str, set[str]] = {t: set() for t in tables}
    for table in tables:
        for fk in schema.table(table).foreign_keys:
            if fk.ref_table in depends and fk.ref_table != table:
                depends[fk.ref_table].add(table)  # the parent waits for its children
    return topological_order(tables, depends)


def _backup_scopes(u: str, scopes: dict[str, Scope], keep_live: bool) -> None:
    """Narrow backups (and backup_metadata through them) to the deleted ones when live ones stay."""
    if not keep_live or "backups" not in scopes:
        return
    cond = b.exp.and_(b.eq("volume_id", u), b.eq("deleted", 1))
    scopes["backups"] = Scope(cond, f"deleted backups of volume {u} (live ones are kept)")
    if "backup_metadata" in scopes:
        sub = b.exp.select("id").from_("backups").where(cond.copy())
        scopes["backup_metadata"] = Scope(
            b.exp.column("backup_id").isin(query=sub), "metadata of the deleted backups of the volume"
        )


def plan_purge(facts: VolumeFacts, options: VolumeOptions) -> Plan:
    warnings = refuse_unless_repairable(facts, options)
    warnings += refuse_delete_blockers(facts, options)
    u = facts.volume_id
    c = facts.cinder
    vol = facts.volume
    assert vol is not None and facts.usage is not None
    findings = describe_volume(facts)
    keep_live = not options.cascade
    scopes = dict(volume_scopes(c.schema, u))
    _backup_scopes(u, scopes, keep_live)
    live_backup_ids = {r["id"] for r in facts.live("backups")} if keep_live else set()

    def rows_of(table: str) -> list[Row]:
        rows = list(c.rows(table))
        if table == "backups":
            rows = [r for r in rows if r["id"] not in live_backup_ids]
        elif table == "backup_metadata":
            rows = [r for r in rows if r["backup_id"] not in live_backup_ids]
        return rows

    with_rows = {t for t in scopes if rows_of(t)}
    ops: list[Operation] = []
    posts: list[Postcondition] = []
    for table in [t for t in _delete_order(facts, with_rows | {"volumes"}) if t != "volumes"] + ["volumes"]:
        rows = rows_of(table)
        if table == "volumes":
            scope = Scope(b.eq("id", u), f"volumes.id = '{u}'")
            purpose = "the volume row itself, last"
        else:
            scope = scopes[table]
            purpose = f"every row referencing the volume ({scope.description}), deleted or not"
        op = b.delete(c, table, rows, scope=scope, purpose=purpose)
        if op:
            ops.append(op)
            findings.append(f"{table}: {len(rows)} row(s) to delete")
        posts.append(
            Postcondition(
                "cinder", f"no {table} rows of the volume remain", b.count_is(table, 0, scope.tree())
            )
        )
    if live_backup_ids:
        findings.append(
            f"backups: {len(live_backup_ids)} live backup(s) kept (restorable without the volume; --cascade "
            "removes their rows too)"
        )
    elif options.cascade and facts.live("backups"):
        warnings.append(
            f"--cascade removes {len(facts.live('backups'))} live backup row(s): delete them through the API "
            "first (openstack volume backup delete) or their data stays in the backup store, unreferenced"
        )

    backups = kept_backups(facts, vol["project_id"], keep_live=keep_live)
    counts = facts.usage.counts.plus_backups(len(backups), sum(r["size"] or 0 for r in backups))
    qops, notes, qwarnings = quota_correction(c, facts.usage, counts, facts.type_names, options)
    ops += qops
    findings += notes
    warnings += qwarnings
    return Plan(
        target_kind="volume",
        op="purge",
        targets=(u,),
        mode="live",
        release=c.release,
        databases=databases(c),
        operations=tuple(ops),
        postconditions=tuple(posts),
        findings=tuple(findings),
        warnings=tuple(warnings),
        api_first=(
            ApiCommand(f"openstack volume show {u} -c status -c attachments", "see what Cinder thinks first"),
            ApiCommand(f"cinder force-delete {u}", "if the volume is not deleted yet, let Cinder delete it"),
            ApiCommand(
                "cinder-manage db purge <days>",
                "Cinder's own purge removes soft-deleted rows older than <days> (every volume's, not just "
                "this one)",
            ),
        ),
        options={
            **override_record(options),
            "cascade": options.cascade,
            "no_snapshot_gb_quota": options.no_snapshot_gb_quota,
        },
    )
