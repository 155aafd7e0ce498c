"""Offline quota correction: each quota_usages row of the volume's project set, at apply time, to
Cinder's recount of the rows left.

Cinder's `_sync_*` counts (domain/cinder_quota.py `recount_queries`, per release: the same
counted-rows trees the live facts aggregate with) are correlated scalar subqueries on
the row's own project and resource — one guarded UPDATE per resource kind, the
per-type kinds matching `<part>_<live volume type name>`. The recount leaves
out the volume being deleted and its snapshots (the apply deletes them, or none are
live), so it means the same before the apply (when the capture file records the
rollback), after it, and on a re-run; a row already equal to it is not in scope. Only
in_use and updated_at change: limits and `reserved` never do.
"""

from __future__ import annotations

from sqlglot import exp

from generator.domain import cinder_quota
from generator.ops.operations import ApplyTime, FromQuery, Operation, UpdateRows
from generator.plan import builders as b
from generator.plan.model import Postcondition
from generator.sqlgen.literals import literal_node


def quota_recount_ops(
    u: str, release: str, *, no_snapshot_gb_quota: bool
) -> tuple[list[Operation], list[Postcondition]]:
    """One UPDATE per resource kind, in_use = Cinder's recount (correlated to the row's project/resource)."""
    # Without the volume and its snapshots (all deleted by the apply, or none live): the recount is
    # then the same before the apply (capture), after it and on a re-run.
    recounts = cinder_quota.recount_queries(
        release, exclude_volume=u, no_snapshot_gb_quota=no_snapshot_gb_quota
    )
    project = exp.select(exp.column("project_id", table="volumes")).from_("volumes")
    project = project.where(exp.EQ(this=exp.column("id", table="volumes"), expression=literal_node(u)))
    ops: list[Operation] = []
    posts: list[Postcondition] = []
    for resource, (recount, which) in recounts.items():
        scope = b.scope_where(
            f"quota_usages {resource}{'<type>' if resource.endswith('_') else ''} of the volume's project, "
            "unless already equal to Cinder's recount",
            exp.column("project_id").isin(query=project.copy()),
            b.eq("deleted", 0),
            which,
            exp.Not(this=exp.NullSafeEQ(this=exp.column("in_use"), expression=recount.subquery())),
        )
        ops.append(
            UpdateRows(
                "cinder",
                "quota_usages",
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
                "cinder",
                f"quota {resource} equals Cinder's recount",
                b.count_is("quota_usages", 0, scope.tree()),
            )
        )
    return ops, posts
