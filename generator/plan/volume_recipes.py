"""The volume soft-delete, declared once: what Cinder's delete does to each table, for any volume.

volume_soft_delete.py evaluates these steps on live facts, volume_offline.py as run-time
scopes (plan/recipe.py). Every step is bound to the volume, except those bound to a set of
its snapshots, which each side knows differently:

- `cascaded` — the snapshots `--cascade` deletes: live, the live snapshots the facts hold
  (the ones the refusals were judged on); offline, `live_snapshots(u)` found when the files run;
- `taken` — the snapshots whose rows the cascade already took, left out of the volume's
  own glance metadata and whose cleanup workers go too: live, the same cascaded snapshots
  (the facts were read before the cascade, so its rows are still live there); offline,
  `every_snapshot(u)`, which means the same before the apply (capture), after the cascade
  and on a re-run (the snapshots are deleted by then, not gone).

What stays live-only (volume_soft_delete.py), because it needs rows read at generation:
the refusals, the findings with row counts, the backups kept and counted back into the
quota. The quota recount itself has one implementation, `domain/cinder_quota.py`: live on the
counts read at generation, offline as its correlated subqueries (volume_offline_quota.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from generator.domain import cinder
from generator.ops.operations import ApplyTime, Assignment, SetValue
from generator.plan import builders as b
from generator.plan.model import Postcondition
from generator.plan.recipe import Selected, Step, on_target

SOFT: tuple[tuple[str, Assignment], ...] = (("deleted", SetValue(True)), ("deleted_at", ApplyTime()))

# A set of snapshots a step is bound to: their ids (live) or the query finding them (offline).
Snapshots = Sequence[str] | Selected


def live_snapshots(u: str) -> Selected:
    """Offline `cascaded`: the volume's live snapshots, as the apply finds them."""
    query = exp.select("id").from_("snapshots").where(exp.and_(b.eq("volume_id", u), b.eq("deleted", 0)))
    return Selected(query, f"the live snapshots of volume {u}")


def every_snapshot(u: str) -> Selected:
    """Offline `taken`: every snapshot row of the volume, deleted or not."""
    query = exp.select("id").from_("snapshots").where(b.eq("volume_id", u))
    return Selected(query, f"the snapshots of volume {u}")


def _soft(
    table: str,
    scope: exp.Expr,
    describe: str,
    purpose: str,
    *,
    status: bool = False,
    of: str = "the volume",
    unless: exp.Expr | None = None,
) -> Step:
    """A Cinder soft delete (deleted = 1, deleted_at) of the scope's live rows (`unless`: but
    those); `status`: also status 'deleted' and updated_at, as snapshot_destroy after the API's
    move to 'deleting'."""
    if status:
        assignments = (("status", SetValue(cinder.DELETED_STATUS)), *SOFT, ("updated_at", ApplyTime()))
    else:
        assignments = SOFT
    return Step(
        "cinder",
        table,
        scope,
        describe,
        purpose,
        assignments=assignments,
        pending=b.eq("deleted", 0) if unless is None else exp.and_(b.eq("deleted", 0), unless),
        postcondition=f"no live {table} rows left for {of}",
    )


# --cascade, bound to `cascaded`: each snapshot as the manager's delete_snapshot does.
CASCADE_SNAPSHOT_CHILDREN = (
    _soft(
        "volume_glance_metadata",
        on_target("snapshot_id"),
        "live glance metadata of the cascaded snapshots",
        "volume_glance_metadata_delete_by_snapshot",
        of="the cascaded snapshots",
    ),
    _soft(
        "snapshot_metadata",
        on_target("snapshot_id"),
        "live metadata of the cascaded snapshots",
        "snapshot_destroy: the snapshot's metadata",
        of="the cascaded snapshots",
    ),
)

# --cascade, bound to the volume: the API's conditional update to 'deleting' set updated_at (the
# ORM's onupdate), which snapshot_destroy keeps (domain/cinder.py).
CASCADE_SNAPSHOTS = _soft(
    "snapshots",
    on_target("volume_id"),
    "live snapshots of volume {target}",
    "--cascade: snapshot_destroy (status 'deleted'), as delete_volume(cascade=True) does",
    status=True,
)


def _not_taken(taken: Snapshots) -> exp.Expr:
    """`snapshot_id IS NULL OR NOT snapshot_id IN (taken)`."""
    column = exp.column("snapshot_id")
    if isinstance(taken, Selected):
        inside: exp.Expr = column.copy().isin(query=taken.query.copy())
    else:
        inside = b.isin("snapshot_id", list(taken))
    return exp.or_(b.is_null("snapshot_id"), exp.Not(this=inside))


def volume_destroy(release: str, *, cascade: bool, taken: Snapshots = ()) -> tuple[Step, ...]:
    """`volume_destroy`'s dependents for the release (only deleted/deleted_at change), bound to the
    volume; with `cascade` the snapshots are CASCADE_SNAPSHOTS' and the glance metadata the cascade
    took (`taken`) is left out."""
    steps = []
    for table in cinder.volume_destroy_dependents(release):
        if table == "snapshots" and cascade:
            continue  # CASCADE_SNAPSHOTS deleted them, which is what volume_destroy would find
        # not pending: the rows the cascade took (live, the facts were read before it)
        unless = (
            _not_taken(taken) if table == "volume_glance_metadata" and cascade and _targets(taken) else None
        )
        steps.append(
            _soft(
                table,
                on_target("volume_id"),
                f"live {table} rows of volume {{target}}",
                f"volume_destroy ({release}): deleted = 1 like Cinder's own delete",
                unless=unless,
            )
        )
    return tuple(steps)


VOLUME = Step(
    "cinder",
    "volumes",
    on_target("id"),
    "volume {target}, not yet deleted",
    "volume_destroy: status 'deleted', deleted = 1, migration_status NULL (+ terminated_at)",
    assignments=(
        ("status", SetValue(cinder.DELETED_STATUS)),
        *SOFT,
        ("migration_status", SetValue(None)),
        ("terminated_at", ApplyTime()),
        ("updated_at", ApplyTime()),  # the API's move to 'deleting'
    ),
    pending=b.eq("deleted", 0),
)


def volume_deleted(u: str) -> Postcondition:
    return Postcondition(
        "cinder",
        "the volume is deleted the way Cinder leaves it",
        b.count_is("volumes", 1, b.eq("id", u), b.eq("deleted", 1), b.eq("status", cinder.DELETED_STATUS)),
    )


IMAGE_CACHE = Step(
    "cinder",
    "image_volume_cache_entries",
    on_target("volume_id"),
    "image-cache entry of the volume",
    "evict the image-cache entry, as the API's delete does",
)

# One DELETE per resource type: `resource_id = u OR resource_id IN (subquery)` can use no key,
# which MySQL's safe-update mode (the bundle's SQL_SAFE_UPDATES) refuses; each half can.
_VOLUME_TYPE, _SNAPSHOT_TYPE = cinder.WORKER_RESOURCE_TYPES


def _workers(resource_type: str, of_what: str) -> Step:
    """The cleanup `workers` rows of one resource type, bound to that resource's ids."""
    return Step(
        "cinder",
        "workers",
        exp.and_(b.eq("resource_type", resource_type), on_target("resource_id")),
        f"workers of {of_what}",
        "a finished cleanable operation leaves no worker row",
    )


VOLUME_WORKERS = _workers(_VOLUME_TYPE, "the volume")
SNAPSHOT_WORKERS = _workers(_SNAPSHOT_TYPE, "the volume's snapshots")  # bound to `taken`

Bound = tuple[Step, Sequence[object]]


def _targets(snapshots: Snapshots) -> Sequence[object]:
    return [snapshots] if isinstance(snapshots, Selected) else list(snapshots)


def soft_delete(release: str, u: str, *, cascade: bool, cascaded: Snapshots, taken: Snapshots) -> list[Bound]:
    """The whole soft-delete of volume `u` in apply order, each step with what it is bound to
    (`cascaded`, `taken`: the module docstring; no snapshot ids: their steps have nothing to do)."""
    steps: list[Bound] = []
    if cascade and _targets(cascaded):
        steps += [(step, _targets(cascaded)) for step in CASCADE_SNAPSHOT_CHILDREN]
    if cascade:
        steps.append((CASCADE_SNAPSHOTS, [u]))
    steps += [(step, [u]) for step in volume_destroy(release, cascade=cascade, taken=taken)]
    steps += [(VOLUME, [u]), (IMAGE_CACHE, [u]), (VOLUME_WORKERS, [u])]
    if _targets(taken):
        steps.append((SNAPSHOT_WORKERS, _targets(taken)))
    return steps
