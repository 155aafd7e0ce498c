"""plan/volume_offline.py: volume repairs planned from the catalog, rows found at run time."""

from __future__ import annotations

import pytest

from generator.errors import FixpackError
from generator.ops.operations import FromQuery, SetValue
from generator.plan.overrides import Overrides
from generator.plan.volume_common import VolumeOptions
from generator.plan.volume_offline import plan_volume_offline
from tests.unit import world as w

V = w.VOLUME


def _plan(op: str, release: str = w.RELEASE, **options):
    return plan_volume_offline(V, VolumeOptions(op=op, **options), release)


def test_offline_reset_detached_closes_every_live_attachment_of_the_volume():
    op = w.one_op(_plan("reset-detached"), "volume_attachment")
    assert w.sql_of(op.scope.condition) == f"volume_id = '{V}' AND deleted = 0"
    assert dict(op.assignments)["attach_status"] == SetValue("detached")


def test_offline_reset_detached_of_named_instances_closes_only_theirs():
    op = w.one_op(_plan("reset-detached", instances=(w.ATTACHED_TO,)), "volume_attachment")
    assert f"instance_uuid IN ('{w.ATTACHED_TO}')" in w.sql_of(op.scope.condition)


def test_offline_reset_detached_of_named_instances_computes_the_status_from_what_stays():
    op = w.one_op(_plan("reset-detached", instances=(w.ATTACHED_TO,)), "volumes")
    status = dict(op.assignments)["status"]
    assert isinstance(status, FromQuery)
    assert f"NOT volume_attachment.instance_uuid IN ('{w.ATTACHED_TO}')" in w.sql_of(status.query)


def test_offline_reset_detached_volume_scope_skips_a_volume_already_consistent():
    scope = w.sql_of(w.one_op(_plan("reset-detached"), "volumes").scope.condition)
    assert "NOT status <=> 'available'" in scope and "NOT attach_status <=> 'detached'" in scope


def test_offline_reset_detached_with_detach_nova_runs_the_cell_file_first():
    plan = _plan("reset-detached", detach_nova=True)
    assert [d.role for d in plan.databases] == ["nova", "cinder"]
    bdm = w.one_op(plan, "block_device_mapping", "nova")
    assert w.sql_of(bdm.scope.condition) == f"volume_id = '{V}' AND deleted = 0"
    assert any(p.database == "nova" and "no active instance" in p.description for p in plan.preconditions)


def test_offline_preconditions_refuse_a_volume_a_service_is_working_on():
    pre = w.post_texts(_plan("reset-detached").preconditions)
    busy = next(p for p in pre if "no transitional status changed less than 1h ago" in p)
    # every transitional status, stuck ones accepted once older than the one threshold (--stale-after)
    assert "'deleting'" in busy and "'detaching'" in busy and "'attaching'" in busy
    assert "UTC_TIMESTAMP()" in busy and "--allow-recent-transition" in busy


def test_offline_soft_delete_without_cascade_requires_no_live_snapshots():
    pre = [p.description for p in _plan("soft-delete").preconditions]
    assert "the volume has no live snapshots (--cascade deletes them)" in pre


def test_offline_soft_delete_with_cascade_deletes_snapshots_and_their_metadata():
    plan = _plan("soft-delete", cascade=True)
    assert w.one_op(plan, "snapshots").scope.description == f"live snapshots of volume {V}"
    assert "snapshot_id IN (SELECT" in w.sql_of(w.one_op(plan, "snapshot_metadata").scope.condition)


@pytest.mark.parametrize("release", ["xena", w.RELEASE])
def test_offline_cascade_snapshots_end_with_updated_at_set_as_the_apis_move_to_deleting_leaves_it(release):
    # the API's conditional update to 'deleting' fires the ORM's onupdate; snapshot_destroy keeps it
    op = w.one_op(_plan("soft-delete", release=release, cascade=True), "snapshots")
    assert dict(op.assignments)["status"] == SetValue("deleted")
    assert {"deleted_at", "updated_at"} <= op.apply_time_columns


def test_offline_soft_delete_follows_the_releases_volume_destroy():
    xena = {o.table for o in _plan("soft-delete", release="xena").operations}
    yoga = {o.table for o in _plan("soft-delete", release="yoga").operations}
    assert "snapshots" not in xena and "snapshots" in yoga  # Yoga's volume_destroy took snapshots too


def test_offline_soft_delete_evicts_the_image_cache_and_the_workers():
    tables = [o.table for o in _plan("soft-delete").operations]
    assert tables.index("volumes") < tables.index("image_volume_cache_entries") < tables.index("workers")


def test_offline_snapshot_workers_go_only_with_the_cascade_as_live():
    # without --cascade no snapshot is taken (none may be live): workers of snapshots deleted long
    # ago are not this delete's to remove (Cinder's delete and the live plan leave them)
    def worker_types(plan) -> list[str]:
        return [w.sql_of(o.scope.condition) for o in plan.operations if o.table == "workers"]

    plain = worker_types(_plan("soft-delete"))
    assert len(plain) == 1 and f"resource_id = '{V}'" in plain[0]
    cascaded = worker_types(_plan("soft-delete", cascade=True))
    assert len(cascaded) == 2 and "resource_type = 'Snapshot'" in cascaded[1]


def test_offline_purge_and_detach_from_nova_are_refused_they_need_live_rows():
    for op in ("purge", "detach-from-nova"):
        with pytest.raises(FixpackError, match="needs the live rows"):
            _plan(op)


def test_offline_cascade_checks_cinders_refusals_at_run_time():
    pre = {p.description: w.sql_of(p.condition) for p in _plan("soft-delete", cascade=True).preconditions}
    grouped = [t for d, t in pre.items() if "cgsnapshot" in d or "group snapshot" in d]
    assert len(grouped) == 2 and "NOT cgsnapshot_id IS NULL" in grouped[0]
    status = [t for d, t in pre.items() if "--allow-snapshot-status" in d]
    assert len(status) == 1 and "NOT status IN ('available', 'error')" in status[0]
    allowed = _plan("soft-delete", cascade=True, allow=Overrides.of("snapshot-status")).preconditions
    assert not [p for p in allowed if "--allow-snapshot-status" in p.description]


def test_offline_reset_detached_of_named_instances_keeps_a_busy_volumes_status_as_the_live_plan():
    # attachment_delete per attachment (volume_detached): decided at run time from the volume's row
    op = w.one_op(_plan("reset-detached", instances=(w.ATTACHED_TO,)), "volumes")
    status = w.sql_of(dict(op.assignments)["status"].query)  # type: ignore[attr-defined]
    assert "volumes.status = 'uploading'" in status and "volumes.migration_status" in status
    assert "THEN volumes.status" in status


def test_offline_reset_detached_busy_check_only_while_something_is_left_to_change():
    # a kept 'uploading' carries the apply's updated_at: a re-run must not take it for a service at work
    pre = w.post_texts(_plan("reset-detached", instances=(w.ATTACHED_TO,)).preconditions)
    busy = next(p for p in pre if "no transitional status changed less than 1h ago" in p)
    assert "AND (id IN (SELECT volume_id FROM volume_attachment WHERE" in busy, busy
