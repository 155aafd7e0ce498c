"""plan/quota_sync.py: quota_usages.in_use set to Cinder's own recount, limits untouched."""

from __future__ import annotations

import pytest

from generator.domain import cinder_quota
from generator.errors import TargetProblem
from generator.facts.volume import ProjectUsage
from generator.ops.operations import ApplyTime, CheckRows, SetValue
from generator.plan.quota_sync import plan_quota_sync
from tests.unit import world as w


def _db(rows):
    return w.database(
        "cinder", "cinder", {"quota_usages": rows, "volume_types": [w.volume_type("t1", "lvm")]}
    )


def _usage(project, rows, **counts):
    return ProjectUsage(project, tuple(rows), cinder_quota.UsageCounts(**counts))


def test_quota_sync_sets_in_use_to_the_recount_and_stamps_updated_at():
    rows = [w.quota_row(1, "volumes", 5), w.quota_row(2, "volumes_lvm", 5)]
    plan = plan_quota_sync(_db(rows), {"p1": _usage("p1", rows, volumes={"t1": (2, 20)})})
    (op,) = w.ops_on(plan, "quota_usages")
    assert dict(op.assignments) == {"in_use": SetValue(2), "updated_at": ApplyTime()}
    assert [c.before["resource"] for c in op.changes] == ["volumes", "volumes_lvm"]


def test_quota_sync_groups_rows_by_their_new_value_one_update_each():
    rows = [w.quota_row(1, "volumes", 5), w.quota_row(2, "gigabytes", 50)]
    plan = plan_quota_sync(_db(rows), {"p1": _usage("p1", rows, volumes={"t1": (2, 20)})})
    assert sorted(dict(o.assignments)["in_use"].value for o in plan.operations) == [2, 20]


def test_quota_sync_never_touches_reserved_or_limits():
    rows = [w.quota_row(1, "volumes", 5)]
    plan = plan_quota_sync(_db(rows), {"p1": _usage("p1", rows)})
    assert {c for o in plan.operations for c in o.changed_columns} == {"in_use", "updated_at"}
    assert {o.table for o in plan.operations} == {"quota_usages"}


def test_quota_sync_gigabytes_leave_out_snapshots_with_no_snapshot_gb_quota():
    rows = [w.quota_row(1, "gigabytes", 0)]
    usage = {"p1": _usage("p1", rows, volumes={"t1": (1, 10)}, snapshots={"t1": (1, 10)})}
    with_snaps = plan_quota_sync(_db(rows), usage)
    without = plan_quota_sync(_db(rows), usage, no_snapshot_gb_quota=True)
    assert with_snaps.operations[0].changes[0].after["in_use"] == 20
    assert without.operations[0].changes[0].after["in_use"] == 10


def test_quota_sync_locks_the_unchanged_rows_of_a_project_being_changed():
    rows = [w.quota_row(1, "volumes", 5), w.quota_row(2, "groups", 0)]
    plan = plan_quota_sync(_db(rows), {"p1": _usage("p1", rows)})
    (check,) = [o for o in plan.operations if isinstance(o, CheckRows)]
    assert [r["id"] for r in check.rows] == [2]


def test_quota_sync_leaves_resources_cinder_does_not_sync_alone():
    rows = [w.quota_row(1, "volumes", 5), w.quota_row(2, "consistencygroups", 9)]
    plan = plan_quota_sync(_db(rows), {"p1": _usage("p1", rows)})
    changed = {
        c.before["resource"] for o in plan.operations if not isinstance(o, CheckRows) for c in o.changes
    }
    assert changed == {"volumes"}
    assert any("'consistencygroups': not a resource Cinder syncs" in f for f in plan.findings)


def test_quota_sync_refuses_when_usage_already_equals_the_recount():
    rows = [w.quota_row(1, "volumes", 2)]
    with pytest.raises(TargetProblem, match="already equals Cinder's recount"):
        plan_quota_sync(_db(rows), {"p1": _usage("p1", rows, volumes={"t1": (2, 20)})})


def test_quota_sync_refuses_when_no_project_has_usage_rows():
    with pytest.raises(TargetProblem, match="nothing to sync"):
        plan_quota_sync(_db([]), {})


def test_quota_sync_warns_about_reservations_in_flight():
    rows = [w.quota_row(1, "volumes", 5, reserved=1)]
    plan = plan_quota_sync(_db(rows), {"p1": _usage("p1", rows)})
    assert any("reservations in flight" in x for x in plan.warnings)


def test_quota_sync_of_several_projects_targets_them_all_sorted():
    r1, r2 = [w.quota_row(1, "volumes", 5, "p2")], [w.quota_row(2, "volumes", 4, "p1")]
    plan = plan_quota_sync(_db(r1 + r2), {"p2": _usage("p2", r1), "p1": _usage("p1", r2)})
    assert plan.targets == ("p1", "p2")
    assert "<project>" in plan.api_first[0].command


@pytest.mark.parametrize(
    ("release", "caveat"),
    [("yoga", None), ("2023.1", "AttributeError"), ("2024.2", "writes nothing"), ("2026.2", None)],
)
def test_quota_sync_says_where_cinders_own_commands_do_not_work(release, caveat):
    rows = [w.quota_row(1, "volumes", 5)]
    db = w.database("cinder", "cinder", {"quota_usages": rows, "volume_types": []}, release=release)
    check, sync = plan_quota_sync(db, {"p1": _usage("p1", rows)}).api_first
    for command in (check, sync):
        if caveat:
            assert caveat in command.why and "fixpack quota sync" in command.why, command.why
        else:
            assert "fixpack quota sync" not in command.why, command.why
