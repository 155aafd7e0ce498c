"""plan/volume_offline_detach.py: the offline detach steps shared by volume reset-detached and the
VM repairs' offline Cinder group."""

from __future__ import annotations

from generator import catalog
from generator.ops.operations import ApplyTime, FromQuery, SetValue
from generator.plan import volume_offline_detach as detach
from generator.plan.cinder_recipes import close_of_volume
from generator.sqlgen.literals import sql_literal
from tests.unit import world as w

VOLUME = "7d3c1f00-0000-4000-8000-00000000000a"
OTHER = "7d3c1f00-0000-4000-8000-00000000000b"


def _schema():
    return catalog.catalog_snapshot(w.RELEASE, "cinder")


def _steps():
    status = detach.status_from_staying(sql_literal(VOLUME), (OTHER,))
    return {
        t: e.operations[0]
        for t, e in detach.offline_detach(_schema(), close_of_volume(), VOLUME, VOLUME, status).items()
    }


def test_the_close_ends_the_attachment_as_volume_detached_and_migrates_the_specs():
    op = _steps()["volume_attachment"]
    assert w.sql_of(op.scope.condition) == f"volume_id = '{VOLUME}' AND deleted = 0"
    changes = dict(op.assignments)
    assert changes["attach_status"] == SetValue("detached") and changes["deleted"] == SetValue(True)
    assert all(changes[c] == ApplyTime() for c in ("deleted_at", "detach_time", "updated_at"))
    assert isinstance(changes["connector"], FromQuery)
    assert "attachment_specs.attachment_id = volume_attachment.id" in w.sql_of(changes["connector"].query)


def test_the_status_counts_only_the_attachments_of_other_instances():
    assignments, wanted = detach.status_from_staying(sql_literal(VOLUME), (OTHER,))
    text = w.sql_of(assignments["status"].query)
    assert f"volume_attachment.volume_id = '{VOLUME}'" in text
    assert f"NOT volume_attachment.instance_uuid IN ('{OTHER}')" in text
    assert "NOT LIKE 'error_%'" in text and "uploading" not in text  # reset-detached: no busy rule
    differs = w.sql_of(detach.status_differs(wanted))
    assert differs.startswith("(NOT status <=> (SELECT") and "OR NOT attach_status <=> (SELECT" in differs


def test_keep_busy_keeps_an_uploading_or_migrating_status_once_nothing_stays_attached():
    assignments, _ = detach.status_from_staying("volumes.id", (OTHER,), keep_busy=True)
    text = w.sql_of(assignments["status"].query)
    assert "volume_attachment.volume_id = volumes.id" in text
    assert (
        "NOT COALESCE(volumes.migration_status, '') IN ('success', 'error')" in text
        and "volumes.status = 'uploading'" in text
    )
    assert "THEN volumes.status ELSE CASE" in text
    # attach_status is 'detached' whatever the volume is busy with (detached_volume_statuses)
    assert "volumes." not in w.sql_of(assignments["attach_status"].query).replace("volumes.id", "")


def test_attached_mode_is_soft_deleted_with_updated_at_kept():
    op = _steps()["volume_admin_metadata"]
    assert dict(op.assignments) == {"deleted": SetValue(True), "deleted_at": ApplyTime()}
    assert (
        w.sql_of(op.scope.condition) == f"volume_id = '{VOLUME}' AND `key` = 'attached_mode' AND deleted = 0"
    )
