"""Volume bundles, proven by running them: apply, nothing else changed, re-run, rollback, identical.

Every catalog release, every volume operation, on the scenarios of volume_world.py
(multi-attach, Fibre Channel with a stale BDM, an encrypted volume with snapshots
and backups, a once-attached volume with backups); the SQL runs through the real
mariadb client exactly as the runbook says. After soft-delete and purge every
quota_usages row of the project equals an independent recount (test_quota.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.catalog import release_names
from generator.jobs_volume import generate_volume
from generator.pipeline import OutputOptions
from generator.plan.volume_common import VolumeOptions
from generator.seed import Seeder
from tests.bundles import (
    BundleRun,
    all_states,
    allowed_changes,
    assert_all_ok,
    assert_identical,
    assert_only_planned_rows_changed,
    targets_for,
)
from tests.conftest import ALL_RELEASES
from tests.db.plan.test_quota import assert_usage_matches_recount, usage_rows
from tests.volume_world import Scenario, seed_world

pytestmark = pytest.mark.db

OPS = ("reset-detached", "detach-from-nova", "soft-delete", "purge")


def generate(dep, scenario: Scenario, op: str, out: Path, **extra):
    options = VolumeOptions(op=op, **{**scenario.options, **extra})
    return generate_volume(scenario.volume.id, options, targets_for(dep), "auto", OutputOptions(out_dir=out))


def one(dep, role: str, sql: str, *params) -> dict:
    rows = dep.query(role, sql, params or None)
    assert len(rows) == 1, (sql, rows)
    return rows[0]


def count(dep, role: str, sql: str, *params) -> int:
    return one(dep, role, f"SELECT COUNT(*) AS n FROM {sql}", *params)["n"]


def yoga_or_later(release: str) -> bool:
    return release_names().index(release) >= release_names().index("yoga")


def check_semantics(dep, op: str, sc: Scenario, result, *, offline: bool = False) -> None:
    """The rows as Cinder/Nova leave them after the op; `offline` skips what only a live plan knows."""
    v = sc.volume.id
    if op == "reset-detached":
        mine = one(dep, "cinder", "SELECT * FROM volume_attachment WHERE id = %s", sc.volume.attachments[0])
        assert (mine["deleted"], mine["attach_status"]) == (1, "detached")
        assert mine["detach_time"] is not None and mine["deleted_at"] is not None
        theirs = one(dep, "cinder", "SELECT * FROM volume_attachment WHERE id = %s", sc.volume.attachments[1])
        assert (theirs["deleted"], theirs["attach_status"]) == (0, "attached")
        vol = one(dep, "cinder", "SELECT * FROM volumes WHERE id = %s", v)
        assert (vol["status"], vol["attach_status"]) == ("in-use", "attached"), (
            "the other attachment keeps it"
        )
        assert count(dep, "cinder", "attachment_specs WHERE attachment_id = %s AND deleted = 0",
                     sc.volume.attachments[0]) == 0  # fmt: skip
        assert count(dep, "cinder", "volume_admin_metadata WHERE volume_id = %s AND `key` = 'attached_mode' "
                     "AND deleted = 0", v) == 0  # fmt: skip
        assert count(dep, "nova", "block_device_mapping WHERE volume_id = %s AND instance_uuid = %s AND "
                     "deleted = id AND deleted_at IS NOT NULL", v, sc.instance) == 1  # fmt: skip
        assert count(dep, "nova", "block_device_mapping WHERE volume_id = %s AND instance_uuid = %s "
                     "AND deleted = 0",
                     v, sc.other_instance) == 1  # fmt: skip
        if not offline:
            assert [c.host for c in result.plan.compute] == ["cmp-01"]
            assert all(c.volumes_only and not c.vifs for c in result.plan.compute)
    elif op == "detach-from-nova":
        assert count(dep, "nova", "block_device_mapping WHERE volume_id = %s AND deleted = 0", v) == 0
        assert count(dep, "nova", "block_device_mapping WHERE volume_id = %s AND deleted = id", v) == 1
        assert [c.volumes[0].driver for c in result.plan.compute] == ["fibre_channel"]
        assert "shell/compute-cmp-01.sh" in result.manifest["files"]
    elif op == "soft-delete":
        vol = one(dep, "cinder", "SELECT * FROM volumes WHERE id = %s", v)
        assert (vol["status"], vol["deleted"], vol["migration_status"]) == ("deleted", 1, None)
        assert vol["deleted_at"] is not None and vol["terminated_at"] is not None
        assert vol["encryption_key_id"] is not None  # the key manager's secret is the operator's step
        for table in ("volume_metadata", "volume_admin_metadata", "transfers", "volume_glance_metadata",
                      "volume_attachment", "snapshots"):  # fmt: skip
            assert count(dep, "cinder", f"{table} WHERE volume_id = %s AND deleted = 0", v) == 0, table
        assert count(dep, "cinder", "transfers WHERE volume_id = %s AND deleted = 1", v) == 1
        snaps = dep.query("cinder", "SELECT * FROM snapshots WHERE volume_id = %s", (v,))
        assert snaps and all(s["status"] == "deleted" and s["deleted"] == 1 for s in snaps)
        assert count(dep, "cinder", "snapshot_metadata WHERE deleted = 0 AND snapshot_id IN "
                     "(SELECT id FROM snapshots WHERE volume_id = %s)", v) == 0  # fmt: skip
        assert count(dep, "cinder", "volume_glance_metadata WHERE deleted = 0 AND snapshot_id IN "
                     "(SELECT id FROM snapshots WHERE volume_id = %s)", v) == 0  # fmt: skip
        assert count(dep, "cinder", "backups WHERE volume_id = %s AND deleted = 0", v) == 1, (
            "backups are kept"
        )
        assert count(dep, "cinder", "image_volume_cache_entries WHERE volume_id = %s", v) == 0
        assert count(dep, "cinder", "workers WHERE resource_id = %s", v) == 0
        assert offline or any("encrypted" in w for w in result.plan.warnings)
    elif op == "purge":
        assert count(dep, "cinder", "volumes WHERE id = %s", v) == 0
        for table in ("volume_metadata", "volume_admin_metadata", "volume_glance_metadata",
                      "volume_attachment",
                      "snapshots", "backups", "image_volume_cache_entries", "transfers"):  # fmt: skip
            assert count(dep, "cinder", f"{table} WHERE volume_id = %s", v) == 0, table
        assert count(dep, "cinder", "workers WHERE resource_id = %s", v) == 0
        assert (
            count(dep, "cinder", "attachment_specs WHERE attachment_id = %s", sc.volume.attachments[0]) == 0
        )
        assert count(dep, "nova", "block_device_mapping WHERE volume_id = %s", v) == 1, (
            "Nova's history is kept"
        )
    if op in ("soft-delete", "purge"):
        assert_usage_matches_recount(dep, sc.project_id)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("release", ALL_RELEASES)
def test_volume_bundle_apply_rerun_rollback(make_deployment, tmp_path, release: str, op: str) -> None:
    dep = make_deployment(release)
    sc = seed_world(dep, op)
    before = all_states(dep)
    others = {k: n for k, n in usage_rows(dep).items() if k[0] != sc.project_id}
    result = generate(dep, sc, op, tmp_path)
    assert result.lint.passed, [f.describe() for f in result.lint.findings]
    run = BundleRun(dep, result.path)

    assert_all_ok(run.run("precheck"))
    assert_identical(before, all_states(dep))  # prechecks change nothing
    assert_all_ok(run.run("apply"))
    after = all_states(dep)
    assert assert_only_planned_rows_changed(before, after, allowed_changes(result.plan, dep, run)) > 0
    check_semantics(dep, op, sc, result)
    assert {k: n for k, n in usage_rows(dep).items() if k[0] != sc.project_id} == others
    assert_all_ok(run.run("verify"))

    reruns = run.run("apply")
    assert_all_ok(reruns)
    assert all("already done; nothing changed" in r.stdout for r in reruns)
    assert_identical(after, all_states(dep))

    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))


@pytest.mark.parametrize("op", ["reset-detached", "soft-delete"])
def test_drift_after_generation_aborts_with_nothing_changed(make_deployment, tmp_path, op: str) -> None:
    dep = make_deployment(ALL_RELEASES[-1])
    sc = seed_world(dep, op)
    result = generate(dep, sc, op, tmp_path)
    v = sc.volume.id
    if op == "reset-detached":  # a concurrent attach: a new live attachment of the volume
        dep.execute(
            "cinder",
            "INSERT INTO volume_attachment (created_at, deleted, id, volume_id, instance_uuid, "
            "attach_status, "
            "attach_mode) VALUES (UTC_TIMESTAMP(), 0, '0d4c9a52-51f1-4d8e-a5ef-6a2c1b7e9f01', %s, %s, "
            "'attaching', 'rw')",
            (v, sc.other_instance),
        )
    else:  # someone reset the volume to available meanwhile
        dep.execute("cinder", "UPDATE volumes SET status = 'available' WHERE id = %s", (v,))
    drifted = all_states(dep)
    run = BundleRun(dep, result.path)
    prechecks = run.run("precheck")
    assert prechecks and not prechecks[-1].ok and "drift" in prechecks[-1].stdout
    applies = run.run("apply")
    assert applies and not applies[-1].ok
    assert "ERROR 1242" in applies[-1].stderr
    assert_identical(drifted, all_states(dep))


def test_purge_without_cascade_keeps_live_backups(make_deployment, tmp_path) -> None:
    """A live backup restores without its volume: purge keeps it (and counts it), a deleted one goes."""
    dep = make_deployment(ALL_RELEASES[0])
    s = Seeder(dep, seed=31)
    vol = s.volume(backups=2, status="error_deleting")
    s.flush()
    gone = vol.backups[0]
    dep.execute("cinder", "UPDATE backups SET deleted = 1, status = 'deleted' WHERE id = %s", (gone,))
    before = all_states(dep)
    result = generate(dep, Scenario(vol), "purge", tmp_path)
    run = BundleRun(dep, result.path)
    assert_all_ok(run.run("apply"))
    assert count(dep, "cinder", "volumes WHERE id = %s", vol.id) == 0
    assert count(dep, "cinder", "backups WHERE id = %s AND deleted = 0", vol.backups[1]) == 1
    assert count(dep, "cinder", "backups WHERE id = %s", vol.backups[0]) == 0
    assert_usage_matches_recount(dep, vol.project_id)
    assert any("live backup(s) kept" in f for f in result.plan.findings)
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))
