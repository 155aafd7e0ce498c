"""Offline quota correction: each quota_usages row of the volume's project set, at apply time, to
Cinder's recount of the rows left.

Cinder's `_sync_*` counts (domain/cinder.py, per release) become correlated scalar
subqueries on the row's own project and resource — one guarded UPDATE per resource
kind, the per-type kinds matching `<part>_<live volume type name>`. The recount leaves
out the volume being deleted and its snapshots (the apply deletes them, or none are
live), so it means the same before the apply (when the capture file records the
rollback), after it, and on a re-run; a row already equal to it is not in scope. Only
in_use and updated_at change: limits and `reserved` never do.
"""

from __future__ import annotations

from sqlglot import exp

from generator.domain import cinder
from generator.ops.operations import ApplyTime, FromQuery, Operation, UpdateRows
from generator.plan import builders as b
from generator.plan.model import Postcondition
from generator.sqlgen.builders import parse as _sql
from generator.sqlgen.builders import parse_query
from generator.sqlgen.literals import sql_literal


def quota_recount_ops(
    u: str, release: str, *, no_snapshot_gb_quota: bool
) -> tuple[list[Operation], list[Postcondition]]:
    """One UPDATE per resource kind, in_use = Cinder's recount (correlated to the row's project/resource)."""
    q, v, s, k = "quota_usages", "volumes", "snapshots", "backups"
    # Without the volume and its snapshots (all deleted by the apply, or none live): the recount is
    # then the same before the apply (capture), after it and on a re-run. Full table names, no
    # aliases: every table appears once per subquery and the bundle's lint resolves `table`.`column`.
    vol = (
        f"{v}.deleted = 0 AND {v}.project_id = {q}.project_id AND {v}.id <> {sql_literal(u)} "
        f"AND {cinder.volume_counted_sql(release, v)}"
    )
    snap = (
        f"{s}.deleted = 0 AND {s}.project_id = {q}.project_id AND {s}.volume_id <> {sql_literal(u)} "
        f"AND {cinder.snapshot_counted_sql(release, s)}"
    )
    live_type = (
        "SELECT volume_types.id FROM volume_types WHERE volume_types.deleted = 0 "
        "AND CONCAT('{part}_', volume_types.name) = quota_usages.resource"
    )
    by_type_v = f"AND {v}.volume_type_id IN ({live_type})"
    by_type_s = f"AND {s}.volume_id IN (SELECT {v}.id FROM {v} WHERE {v}.volume_type_id IN ({live_type}))"
    snap_gb = f"(SELECT COALESCE(SUM({s}.volume_size), 0) FROM {s} WHERE {snap})"
    snap_gb_t = f"(SELECT COALESCE(SUM({s}.volume_size), 0) FROM {s} WHERE {snap} {by_type_s})"
    backups = f"{k}.deleted = 0 AND {k}.project_id = {q}.project_id"
    recounts = {
        "volumes": f"SELECT COUNT({v}.id) FROM {v} WHERE {vol}",
        "gigabytes": f"SELECT (SELECT COALESCE(SUM({v}.size), 0) FROM {v} WHERE {vol})"
        + ("" if no_snapshot_gb_quota else f" + {snap_gb}"),
        "snapshots": f"SELECT COUNT({s}.id) FROM {s} WHERE {snap}",
        "backups": f"SELECT COUNT({k}.id) FROM {k} WHERE {backups}",
        "backup_gigabytes": f"SELECT COALESCE(SUM({k}.size), 0) FROM {k} WHERE {backups}",
        "groups": f"SELECT COUNT(`groups`.id) FROM `groups` WHERE `groups`.deleted = 0 "
        f"AND `groups`.project_id = {q}.project_id",
        "volumes_": f"SELECT COUNT({v}.id) FROM {v} WHERE {vol} {by_type_v.format(part='volumes')}",
        "gigabytes_": f"SELECT (SELECT COALESCE(SUM({v}.size), 0) FROM {v} WHERE {vol} "
        f"{by_type_v.format(part='gigabytes')})"
        + ("" if no_snapshot_gb_quota else f" + {snap_gb_t.format(part='gigabytes')}"),
        "snapshots_": f"SELECT COUNT({s}.id) FROM {s} WHERE {snap} {by_type_s.format(part='snapshots')}",
    }
    project = parse_query(f"SELECT volumes.project_id FROM volumes WHERE volumes.id = {sql_literal(u)}")
    ops: list[Operation] = []
    posts: list[Postcondition] = []
    for resource, text in recounts.items():
        recount = parse_query(text)
        if resource.endswith("_"):
            which = _sql(
                f"quota_usages.resource IN (SELECT CONCAT('{resource}', volume_types.name) FROM volume_types "
                "WHERE volume_types.deleted = 0)"
            )
        else:
            which = b.eq("resource", resource)
        scope = b.scope_where(
            f"quota_usages {resource}{'<type>' if resource.endswith('_') else ''} of the volume's project, "
            "unless already equal to Cinder's recount",
            exp.column("project_id").isin(query=project),
            b.eq("deleted", 0),
            which,
            exp.Not(this=exp.NullSafeEQ(this=exp.column("in_use"), expression=recount.subquery())),
        )
        ops.append(
            UpdateRows(
                "cinder",
                q,
                ("id",),
                f"quota usage recounted as Cinder's _sync_* do ({resource})",
                assignments=(
                    ("in_use", FromQuery(recount, f"Cinder's recount of {resource}")),
                    ("updated_at", ApplyTime()),
                ),
                scope=scope,
            )
        )
        posts.append(
            Postcondition(
                "cinder", f"quota {resource} equals Cinder's recount", b.count_is(q, 0, scope.tree())
            )
        )
    return ops, posts
