"""plan/volume_quota.py: the quota side of a live volume delete, on hand-built facts.

`quota_correction` through `quota sync` is in test_quota_sync.py; here what the delete paths rely
on directly: the notes and warnings it returns, and which backups stay in the recount.
"""

from __future__ import annotations

from generator.domain import cinder_quota
from generator.facts.volume import ProjectUsage
from generator.ops.operations import CheckRows, SetValue, UpdateRows
from generator.plan.volume_common import VolumeOptions
from generator.plan.volume_quota import kept_backups, quota_correction
from tests.unit import world as w


def _correction(rows, **counts):
    facts = w.cinder_db({"quota_usages": rows, "volume_types": [w.volume_type("t1", "lvm")]})
    usage = ProjectUsage("p1", tuple(rows), cinder_quota.UsageCounts(**counts))
    return quota_correction(facts, usage, usage.counts, {"t1": "lvm"}, VolumeOptions(op="soft-delete"))


def _backup(id: str, project: str, deleted: int = 0):
    return w.row("cinder", "backups", id=id, project_id=project, volume_id=w.VOLUME, deleted=deleted, size=1)


def test_a_reservation_in_flight_is_a_warning_not_a_silent_recount():
    rows = [w.quota_row(1, "volumes", 5, reserved=1)]
    ops, _notes, warnings = _correction(rows)
    assert [type(o) for o in ops] == [UpdateRows]  # the recount is still planned, with the warning
    assert warnings == [
        "project p1 has reservations in flight (reserved != 0): a create or delete is running; "
        "regenerate in a quiet window"
    ]


def test_a_resource_without_a_row_is_left_missing_and_said():
    rows = [w.quota_row(1, "volumes", 5)]
    ops, notes, _ = _correction(rows, volumes={"t1": (2, 20)})
    assert {dict(o.assignments)["in_use"] for o in ops if isinstance(o, UpdateRows)} == {SetValue(2)}
    said = [n for n in notes if n.startswith("no quota_usages row yet")]
    assert said and "gigabytes" in said[0] and "volumes_lvm" in said[0]


def test_no_rows_at_all_plans_nothing_and_says_cinder_creates_them():
    ops, notes, warnings = _correction([], volumes={"t1": (1, 10)})
    assert ops == [] and warnings == []
    assert "project p1 has no quota_usages rows: Cinder creates them when it reserves" in notes


def test_rows_already_at_the_recount_plan_nothing_and_lock_nothing():
    rows = [w.quota_row(1, "volumes", 2), w.quota_row(2, "gigabytes", 20)]
    ops, notes, _ = _correction(rows, volumes={"t1": (2, 20)})
    assert ops == []  # no update, and no lock on rows nothing changes beside
    assert "quota usage of project p1 already equals Cinder's recount" in notes


def test_only_the_changing_rows_are_updated_and_the_rest_of_the_project_is_locked():
    rows = [w.quota_row(1, "volumes", 5), w.quota_row(2, "gigabytes", 20)]
    ops, notes, _ = _correction(rows, volumes={"t1": (2, 20)})
    (check,) = [o for o in ops if isinstance(o, CheckRows)]
    (update,) = [o for o in ops if isinstance(o, UpdateRows)]
    assert [r["id"] for r in check.rows] == [2]
    assert [c.before["id"] for c in update.changes] == [1]
    assert "quota volumes: in_use 5 -> 2" in notes


def test_kept_backups_are_the_projects_live_ones_and_only_when_kept():
    backups = [_backup("b1", "p1"), _backup("b2", "p2"), _backup("b3", "p1", deleted=1)]
    facts = w.volume(tables={"backups": backups})
    assert [r["id"] for r in kept_backups(facts, "p1", keep_live=True)] == ["b1"]
    assert kept_backups(facts, "p1", keep_live=False) == []
