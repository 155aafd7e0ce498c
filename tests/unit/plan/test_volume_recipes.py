"""plan/volume_recipes.py: the volume soft-delete declared once, valid on every release's schema,
and the live and offline planners changing the same tables with the same scopes."""

from __future__ import annotations

import pytest
from sqlglot import exp

from generator.catalog import catalog_snapshot, release_names
from generator.plan import volume_recipes as recipes
from generator.plan.recipe import offline_step
from generator.plan.volume_common import VolumeOptions
from generator.plan.volume_offline import plan_volume_offline
from generator.plan.volume_soft_delete import plan_soft_delete
from tests.unit import world as w

V = w.VOLUME
OFFLINE = {"cascaded": recipes.live_snapshots(V), "taken": recipes.every_snapshot(V)}


def _all_steps(release: str, cascaded, taken):
    return [
        *recipes.soft_delete(release, V, cascade=True, cascaded=cascaded, taken=taken),
        *recipes.soft_delete(release, V, cascade=False, cascaded=(), taken=()),
    ]


@pytest.mark.parametrize("release", release_names())
@pytest.mark.parametrize("side", ["live", "offline"])
def test_every_column_a_step_names_exists_where_its_table_does(release, side):
    if side == "live":
        bound = _all_steps(release, [w.SNAPSHOT], [w.SNAPSHOT])
    else:
        bound = _all_steps(release, OFFLINE["cascaded"], OFFLINE["taken"])
    schema = catalog_snapshot(release, "cinder")
    for step, targets in bound:
        assert step.role == "cinder"
        if not schema.has_table(step.table):
            continue
        tree = step.where(targets)
        for column in tree.find_all(exp.Column):
            # a column of a subquery belongs to that subquery's table (snapshots here)
            select = column.find_ancestor(exp.Select)
            table = select.find(exp.From).this.name if select is not None else step.table
            assert schema.table(table).has_column(column.name), (release, step.table, table, column.name)
        for name, _ in step.assignments:  # a release without one leaves it out (offline_step)
            assert name in {"migration_status", "terminated_at"} or schema.table(step.table).has_column(
                name
            ), (
                release,
                step.table,
                name,
            )
        assert offline_step(step, schema, targets).operations


def test_both_sides_bind_the_same_steps_in_the_same_order():
    for cascade in (True, False):
        snaps = [w.SNAPSHOT] if cascade else []  # what the live planner binds
        live = recipes.soft_delete(w.RELEASE, V, cascade=cascade, cascaded=snaps, taken=snaps)
        offline = recipes.soft_delete(w.RELEASE, V, cascade=cascade, **OFFLINE)
        if not cascade:  # without --cascade live takes no snapshot's workers; offline any the apply finds
            assert offline[-1][0] is recipes.SNAPSHOT_WORKERS
            offline = offline[:-1]
        assert [s for s, _ in live] == [s for s, _ in offline]  # equal but for the scope trees (below)


def _facts(**tables):
    vol = w.volume_row(status="deleting", attach_status="detached")
    snap = w.row("cinder", "snapshots", id=w.SNAPSHOT, volume_id=V, project_id="p1", status="available",
                 volume_size=10, deleted=0, use_quota=1)  # fmt: skip
    return w.volume(vol=vol, tables={"snapshots": [snap], **tables}, usage_rows=(), counts=None)


def _live_rows():
    def glance(id, snapshot_id):
        return w.row("cinder", "volume_glance_metadata", id=id, volume_id=V, snapshot_id=snapshot_id,
                     key="k", value="v", deleted=0)  # fmt: skip

    return {
        "volume_glance_metadata": [glance(1, None), glance(2, w.SNAPSHOT)],
        "snapshot_metadata": [
            w.row("cinder", "snapshot_metadata", id=3, snapshot_id=w.SNAPSHOT, key="k", value="v", deleted=0)
        ],
        "volume_metadata": [
            w.row("cinder", "volume_metadata", id=4, volume_id=V, key="k", value="v", deleted=0)
        ],
        "image_volume_cache_entries": [
            w.row("cinder", "image_volume_cache_entries", id=5, volume_id=V, host="h", image_id="i", size=1)
        ],
        "workers": [
            w.row("cinder", "workers", id=6, resource_type="Volume", resource_id=V, status="deleting"),
            w.row(
                "cinder", "workers", id=7, resource_type="Snapshot", resource_id=w.SNAPSHOT, status="deleting"
            ),
        ],
    }


def test_live_and_offline_soft_delete_change_the_same_tables_with_the_same_scopes():
    live = plan_soft_delete(_facts(**_live_rows()), VolumeOptions(op="soft-delete", cascade=True))
    offline = plan_volume_offline(V, VolumeOptions(op="soft-delete", cascade=True), w.RELEASE)
    cinder_ops = [o for o in live.operations if o.table != "quota_usages"]
    offline_ops = [o for o in offline.operations if o.table != "quota_usages"]
    # live leaves out a step with no rows; every one it has, offline has with the same scope, but
    # for the snapshot sets: the ids the facts hold live, the query finding them offline
    by_scope = {(o.table, o.scope.description): o for o in offline_ops}
    assert len(by_scope) == len(offline_ops)
    assert len(cinder_ops) == 9  # every table of _live_rows, the snapshot and the volume
    for mine in cinder_ops:
        theirs = by_scope[(mine.table, mine.scope.description)]
        text = w.sql_of(mine.scope.condition)
        run_time = [  # one id binds as `= id`, several as `IN (ids)`: offline `IN (query)`
            text.replace(ids, f" IN ({w.sql_of(selected.query)})")
            for selected in OFFLINE.values()
            for ids in (f" = '{w.SNAPSHOT}'", f" IN ('{w.SNAPSHOT}')")
        ]
        assert w.sql_of(theirs.scope.condition) in [text, *run_time], mine.table
        assert type(mine) is type(theirs) and mine.purpose == theirs.purpose, mine.table
        assert getattr(mine, "assignments", None) == getattr(theirs, "assignments", None), mine.table
    assert [(o.table, o.scope.description) for o in cinder_ops] == [
        k for k in by_scope if k in {(o.table, o.scope.description) for o in cinder_ops}
    ]  # in the same order
    # and the rows live picks are the ones its scopes keep: the cascade's glance row once, by the cascade
    glance = [o for o in cinder_ops if o.table == "volume_glance_metadata"]
    assert [[c.before["id"] for c in o.changes] for o in glance] == [[2], [1]]
    assert {r["id"] for o in cinder_ops if o.table == "workers" for r in o.rows} == {6, 7}


def test_each_soft_deleted_table_has_the_same_postcondition_on_both_sides():
    live = plan_soft_delete(_facts(**_live_rows()), VolumeOptions(op="soft-delete", cascade=True))
    offline = plan_volume_offline(V, VolumeOptions(op="soft-delete", cascade=True), w.RELEASE)
    described = [p.description for p in live.postconditions if "quota" not in p.description]
    assert described == [p.description for p in offline.postconditions if "quota" not in p.description]
    assert described[-1] == "the volume is deleted the way Cinder leaves it"
