"""plan/volume_soft_delete.py: what Cinder's own delete does to the database, for the release."""

from __future__ import annotations

import pytest

from generator.domain import cinder, cinder_quota
from generator.errors import TargetProblem
from generator.ops.operations import CheckRows, DeleteRows
from generator.plan.overrides import Overrides
from generator.plan.volume_common import VolumeOptions
from generator.plan.volume_soft_delete import plan_soft_delete
from tests.unit import world as w


def _plan(facts, **options):
    return plan_soft_delete(facts, VolumeOptions(op="soft-delete", **options))


def _snapshot(id: str = w.SNAPSHOT, project: str = "p1"):
    return w.row("cinder", "snapshots", id=id, volume_id=w.VOLUME, project_id=project, status="available",
                 volume_size=10, deleted=0, use_quota=1)  # fmt: skip


def _facts(tables=None, usage=(), counts=None, **vol):
    vol.setdefault("status", "deleting")
    vol.setdefault("attach_status", "detached")
    return w.volume(vol=w.volume_row(**vol), tables=tables or {}, usage_rows=usage, counts=counts)


def test_soft_delete_marks_the_volume_deleted_as_volume_destroy_does():
    op = w.one_op(_plan(_facts(migration_status="error")), "volumes")
    after = op.changes[0].after
    assert (after["status"], after["deleted"], after["migration_status"]) == ("deleted", 1, None)
    assert {"deleted_at", "terminated_at", "updated_at"} <= op.apply_time_columns


def test_soft_delete_soft_deletes_live_volume_metadata_of_that_volume():
    meta = [w.row("cinder", "volume_metadata", id=1, volume_id=w.VOLUME, key="k", value="v", deleted=0)]
    op = w.one_op(_plan(_facts({"volume_metadata": meta})), "volume_metadata")
    assert op.changes[0].after["deleted"] == 1
    assert w.sql_of(op.scope.condition) == f"volume_id = '{w.VOLUME}' AND deleted = 0"


def test_soft_delete_has_a_no_live_rows_postcondition_per_destroyed_dependent_of_the_release():
    described = [p.description for p in _plan(_facts()).postconditions]
    for table in cinder.volume_destroy_dependents(w.RELEASE):
        assert any(d.startswith(f"no live {table} rows left") for d in described), table


def test_soft_delete_refuses_live_snapshots_without_cascade():
    with pytest.raises(TargetProblem, match=r"live snapshot.*--cascade"):
        _plan(_facts({"snapshots": [_snapshot()]}))


def test_soft_delete_with_cascade_deletes_snapshots_with_status_deleted():
    op = w.one_op(_plan(_facts({"snapshots": [_snapshot()]}), cascade=True), "snapshots")
    after = op.changes[0].after
    assert (after["status"], after["deleted"]) == ("deleted", 1)
    # the API's conditional update to 'deleting' set it; snapshot_destroy keeps that value
    assert {"deleted_at", "updated_at"} <= op.apply_time_columns


def test_soft_delete_refuses_an_attached_volume():
    with pytest.raises(TargetProblem, match="it is attached"):
        _plan(_facts(attach_status="attached"))


def test_soft_delete_refuses_a_volume_in_a_group():
    with pytest.raises(TargetProblem, match="belongs to a group"):
        _plan(_facts(group_id="g1"))


def test_soft_delete_evicts_the_image_cache_entry_by_hard_delete():
    entry = w.row("cinder", "image_volume_cache_entries", id=4, volume_id=w.VOLUME, host="h", image_id="i",
                  size=1)  # fmt: skip
    op = w.one_op(_plan(_facts({"image_volume_cache_entries": [entry]})), "image_volume_cache_entries")
    assert isinstance(op, DeleteRows) and [r["id"] for r in op.rows] == [4]


def test_soft_delete_recounts_quota_usage_without_the_volume():
    usage = [w.quota_row(1, "volumes", 3), w.quota_row(2, "gigabytes", 30), w.quota_row(3, "backups", 0)]
    counts = cinder_quota.UsageCounts(volumes={"t1": (2, 20)})
    plan = _plan(_facts(usage=usage, counts=counts))
    updates = [o for o in w.ops_on(plan, "quota_usages") if not isinstance(o, CheckRows)]
    new = {c.before["resource"]: c.after["in_use"] for o in updates for c in o.changes}
    assert new == {"volumes": 2, "gigabytes": 20}


def test_soft_delete_locks_the_projects_unchanged_quota_rows():
    usage = [w.quota_row(1, "volumes", 3), w.quota_row(3, "backups", 0)]
    plan = _plan(_facts(usage=usage, counts=cinder_quota.UsageCounts(volumes={"t1": (2, 20)})))
    (check,) = [o for o in plan.operations if isinstance(o, CheckRows)]
    assert [r["resource"] for r in check.rows] == ["backups"]


def test_soft_delete_counts_the_volumes_live_backups_back_into_the_quota():
    backup = w.row("cinder", "backups", id=w.BACKUP, volume_id=w.VOLUME, project_id="p1", size=5, deleted=0,
                   status="available")  # fmt: skip
    usage = [w.quota_row(1, "backups", 0), w.quota_row(2, "backup_gigabytes", 0)]
    plan = _plan(_facts({"backups": [backup]}, usage=usage))
    new = {c.before["resource"]: c.after["in_use"] for o in w.ops_on(plan, "quota_usages") for c in o.changes}
    assert new == {"backups": 1, "backup_gigabytes": 5}
    assert any("live backup(s) kept" in f for f in plan.findings)


def test_soft_delete_warns_about_the_encryption_key_left_in_the_key_manager():
    plan = _plan(_facts(encryption_key_id="k-1"))
    assert any("openstack secret delete" in x and "k-1" in x for x in plan.warnings)


@pytest.mark.parametrize(
    ("column", "what"), [("cgsnapshot_id", "cgsnapshot"), ("group_snapshot_id", "group snapshot")]
)
def test_cascade_refuses_a_snapshot_of_a_cgsnapshot_or_group_snapshot_whatever_the_flags(column, what):
    snap = _snapshot().replace(**{column: "g1"})
    allow = Overrides.of("snapshot-status", "group-member", "attached")
    with pytest.raises(TargetProblem, match=rf"belong to a {what}: .*\({what} g1\).*even forced"):
        _plan(_facts({"snapshots": [snap]}), cascade=True, allow=allow)


def test_cascade_refuses_a_snapshot_cinder_cannot_delete_unless_allow_snapshot_status():
    snap = _snapshot().replace(status="error_deleting")
    with pytest.raises(TargetProblem, match=r"\(error_deleting\).*without --allow-snapshot-status"):
        _plan(_facts({"snapshots": [snap]}), cascade=True)
    plan = _plan(_facts({"snapshots": [snap]}), cascade=True, allow=Overrides.of("snapshot-status"))
    assert w.one_op(plan, "snapshots").changes[0].after["status"] == "deleted"
    assert any(x.startswith("--allow-snapshot-status: ") for x in plan.warnings)


def test_cascade_takes_available_and_error_snapshots_without_a_flag():
    snaps = [_snapshot(), _snapshot("2b2c3d4e-5f60-4b7c-8d9e-0f1a2b3c4d5e").replace(status="error")]
    assert len(w.one_op(_plan(_facts({"snapshots": snaps}), cascade=True), "snapshots").changes) == 2
