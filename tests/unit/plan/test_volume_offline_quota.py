"""plan/volume_offline_quota.py: quota_usages recounted by correlated subqueries at apply time."""

from __future__ import annotations

import pytest

from generator.domain import cinder_quota
from generator.ops.operations import FromQuery
from generator.plan.volume_offline_quota import quota_recount_ops
from tests.unit import world as w

V = w.VOLUME


def _by_resource(release: str = w.RELEASE, **kw):
    ops, posts = quota_recount_ops(V, release, no_snapshot_gb_quota=kw.get("no_snapshot_gb_quota", False))
    return {o.purpose.rsplit("(", 1)[1].rstrip(")"): o for o in ops}, posts


def test_offline_quota_has_one_update_per_global_resource_and_per_type_part():
    ops, _ = _by_resource()
    assert set(ops) == set(cinder_quota.GLOBAL_RESOURCES) | {f"{p}_" for p in cinder_quota.PER_TYPE_PARTS}


def test_offline_quota_changes_only_in_use_and_updated_at():
    ops, _ = _by_resource()
    assert {c for o in ops.values() for c, _ in o.assignments} == {"in_use", "updated_at"}


def test_offline_quota_volume_recount_leaves_out_the_volume_being_deleted():
    ops, _ = _by_resource()
    recount = dict(ops["volumes"].assignments)["in_use"]
    assert isinstance(recount, FromQuery)
    assert f"volumes.id <> '{V}'" in w.sql_of(recount.query)
    assert "volumes.project_id = quota_usages.project_id" in w.sql_of(recount.query)


def test_offline_quota_scope_skips_rows_already_equal_to_the_recount():
    ops, _ = _by_resource()
    scope = w.sql_of(ops["snapshots"].scope.condition)
    assert "NOT in_use <=> (SELECT COUNT(snapshots.id)" in scope
    assert f"project_id IN (SELECT volumes.project_id FROM volumes WHERE volumes.id = '{V}')" in scope


def test_offline_quota_gigabytes_add_snapshot_sizes_unless_no_snapshot_gb_quota():
    with_snaps, _ = _by_resource()
    without, _ = _by_resource(no_snapshot_gb_quota=True)
    assert "SUM(snapshots.volume_size)" in w.sql_of(dict(with_snaps["gigabytes"].assignments)["in_use"].query)
    assert "snapshots" not in w.sql_of(dict(without["gigabytes"].assignments)["in_use"].query)


def test_offline_quota_per_type_rows_match_live_volume_type_names():
    ops, _ = _by_resource()
    scope = w.sql_of(ops["volumes_"].scope.condition)
    assert "CONCAT('volumes_', volume_types.name)" in scope and "volume_types.deleted = 0" in scope


def test_offline_quota_postcondition_per_resource_says_it_equals_the_recount():
    _, posts = _by_resource()
    assert "quota backups equals Cinder's recount" in [p.description for p in posts]
    assert len(posts) == len(cinder_quota.GLOBAL_RESOURCES) + len(cinder_quota.PER_TYPE_PARTS)


@pytest.mark.parametrize("release", ["xena", "2023.2", "2024.1", w.RELEASE])
def test_offline_recount_and_the_live_facts_count_the_same_rows(release):
    # one implementation (domain/cinder.py counted_terms): the offline correlated recount and the
    # aggregates the live facts read hold the same release-aware terms, on their own table names
    ops, _ = _by_resource(release)
    offline = w.sql_of(dict(ops["volumes"].assignments)["in_use"].query)
    live = cinder_quota.usage_queries(release, ["p1"], V)["volumes"].replace("`", "").replace("\n", " ")
    live = " ".join(live.split())
    counted = w.sql_of(cinder_quota.volume_counted(release, "volumes"))
    assert counted in offline
    assert w.sql_of(cinder_quota.volume_counted(release, "v")).replace("`", "") in live
    assert ("migration_status" in counted) == (release in ("xena", "2023.2"))
