"""Cinder quota usage: the recount written here, independently of fixpack's planner, from the
rows themselves — and `fixpack quota sync` proven against it on every release.

The rules are Cinder's `_sync_*` functions (cinder/db api) per release: volumes and
gigabytes of non-deleted volumes (Xena .. 2023.2: use_quota not false, not a migration
destination, no live `temporary` admin metadata; 2024.1+: use_quota), snapshots by the
type of their volume, gigabytes including snapshot sizes unless no_snapshot_gb_quota,
backups and backup_gigabytes, groups; per live volume type volumes_/gigabytes_/snapshots_.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.catalog import release_names
from generator.errors import TargetProblem
from generator.jobs_volume import generate_quota_sync
from generator.pipeline import OutputOptions
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

pytestmark = pytest.mark.db


def cinder_recount(dep, project_id: str, *, no_snapshot_gb_quota: bool = False) -> dict[str, int]:
    """in_use per resource for one project, counted row by row in Python."""
    modern = release_names().index(dep.release) >= release_names().index("2024.1")
    temporary = {
        r["volume_id"]
        for r in dep.query(
            "cinder",
            "SELECT volume_id FROM volume_admin_metadata WHERE deleted = 0 AND `key` = 'temporary' "
            "AND value = 'True'",
        )
    }

    def counted_volume(v: dict) -> bool:
        if modern:
            return v["use_quota"] == 1
        return (
            v["use_quota"] != 0
            and not (v["migration_status"] or "").startswith("target:")
            and v["id"] not in temporary
        )

    volumes = [
        v
        for v in dep.query(
            "cinder", "SELECT * FROM volumes WHERE deleted = 0 AND project_id = %s", (project_id,)
        )
        if counted_volume(v)
    ]
    snapshots = [
        s
        for s in dep.query(
            "cinder",
            "SELECT s.volume_size, s.use_quota, v.volume_type_id AS vtype FROM snapshots s "
            "LEFT JOIN volumes v ON v.id = s.volume_id WHERE s.deleted = 0 AND s.project_id = %s",
            (project_id,),
        )
        if (s["use_quota"] == 1 if modern else s["use_quota"] != 0)
    ]
    backups = dep.query(
        "cinder", "SELECT size FROM backups WHERE deleted = 0 AND project_id = %s", (project_id,)
    )
    groups = dep.query(
        "cinder", "SELECT id FROM `groups` WHERE deleted = 0 AND project_id = %s", (project_id,)
    )
    types = {
        r["id"]: r["name"] for r in dep.query("cinder", "SELECT id, name FROM volume_types WHERE deleted = 0")
    }
    snap_gb = 0 if no_snapshot_gb_quota else sum(s["volume_size"] for s in snapshots)
    out = {
        "volumes": len(volumes),
        "gigabytes": sum(v["size"] for v in volumes) + snap_gb,
        "snapshots": len(snapshots),
        "backups": len(backups),
        "backup_gigabytes": sum(b["size"] for b in backups),
        "groups": len(groups),
    }
    for type_id, name in types.items():
        vs = [v for v in volumes if v["volume_type_id"] == type_id]
        ss = [s for s in snapshots if s["vtype"] == type_id]
        out[f"volumes_{name}"] = len(vs)
        out[f"gigabytes_{name}"] = sum(v["size"] for v in vs) + (
            0 if no_snapshot_gb_quota else sum(s["volume_size"] for s in ss)
        )
        out[f"snapshots_{name}"] = len(ss)
    return out


def usage_rows(dep, project_id: str | None = None) -> dict[tuple[str, str], int]:
    sql = "SELECT project_id, resource, in_use FROM quota_usages WHERE deleted = 0"
    rows = dep.query("cinder", sql + (" AND project_id = %s" if project_id else ""),
                     (project_id,) if project_id else None)  # fmt: skip
    return {(r["project_id"], r["resource"]): r["in_use"] for r in rows}


def assert_usage_matches_recount(dep, project_id: str, *, no_snapshot_gb_quota: bool = False) -> None:
    """Every live quota_usages row of the project equals the recount."""
    expected = cinder_recount(dep, project_id, no_snapshot_gb_quota=no_snapshot_gb_quota)
    rows = usage_rows(dep, project_id)
    assert rows, f"project {project_id} has no quota_usages rows"
    for (_, resource), in_use in rows.items():
        assert resource in expected, f"unexpected resource {resource!r}"
        assert in_use == expected[resource], f"{resource}: in_use {in_use}, recount {expected[resource]}"


def seed_drifted_usage(dep):
    """Projects with volumes, snapshots, backups; two of them with wrong usage."""
    s = Seeder(dep, seed=5)
    host = s.compute_host("cmp-01")
    vm = s.instance(host=host, volumes=2)
    s.volume(project_id=vm.project_id, snapshots=2, backups=1, size=20)
    s.volume(project_id=vm.project_id, use_quota=False, size=50)  # a migration's temporary volume
    other = s.instance(host=host, volumes=1)
    s.volume(project_id=other.project_id, snapshots=1, protocol="rbd")
    third = s.instance(host=host, volumes=1)
    s.flush()
    dep.execute("cinder", "UPDATE quota_usages SET in_use = in_use + 40 WHERE project_id = %s "
                "AND resource LIKE 'gigabytes%%'", (vm.project_id,))  # fmt: skip
    dep.execute("cinder", "UPDATE quota_usages SET in_use = 0 WHERE project_id = %s AND resource = 'volumes'",
                (other.project_id,))  # fmt: skip
    return vm.project_id, other.project_id, third.project_id


def run_bundle(dep, result):
    before = all_states(dep)
    run = BundleRun(dep, result.path)
    assert_all_ok(run.run("precheck"))
    assert_all_ok(run.run("apply"))
    after = all_states(dep)
    assert assert_only_planned_rows_changed(before, after, allowed_changes(result.plan, dep, run)) > 0
    assert_all_ok(run.run("verify"))
    reruns = run.run("apply")
    assert_all_ok(reruns)
    assert all("already done; nothing changed" in r.stdout for r in reruns)
    assert_identical(after, all_states(dep))
    return run, before


@pytest.mark.parametrize("release", ALL_RELEASES)
def test_quota_sync_one_project(make_deployment, tmp_path: Path, release: str) -> None:
    dep = make_deployment(release)
    wrong, other_wrong, _ = seed_drifted_usage(dep)
    untouched = {k: v for k, v in usage_rows(dep).items() if k[0] != wrong}
    result = generate_quota_sync([wrong], targets_for(dep), "auto", OutputOptions(out_dir=tmp_path))
    assert result.lint.passed, [f.describe() for f in result.lint.findings]
    assert result.plan.target_kind == "quota" and result.plan.targets == (wrong,)
    run, before = run_bundle(dep, result)
    assert_usage_matches_recount(dep, wrong)
    assert {k: v for k, v in usage_rows(dep).items() if k[0] != wrong} == untouched
    assert usage_rows(dep, other_wrong)[(other_wrong, "volumes")] == 0  # still wrong: not asked for
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))


def test_quota_sync_all_projects_and_no_snapshot_gb_quota(make_deployment, tmp_path: Path) -> None:
    dep = make_deployment(ALL_RELEASES[-1])
    projects = seed_drifted_usage(dep)
    result = generate_quota_sync(None, targets_for(dep), "auto", OutputOptions(out_dir=tmp_path),
                                 no_snapshot_gb_quota=True)  # fmt: skip
    assert set(projects) <= set(result.plan.targets)
    run_bundle(dep, result)
    for project in projects:
        assert_usage_matches_recount(dep, project, no_snapshot_gb_quota=True)
    with pytest.raises(TargetProblem, match="already equals Cinder's recount"):
        generate_quota_sync(None, targets_for(dep), "auto", OutputOptions(out_dir=tmp_path),
                            no_snapshot_gb_quota=True)  # fmt: skip


def test_quota_sync_aborts_on_concurrent_quota_activity(make_deployment, tmp_path: Path) -> None:
    dep = make_deployment(ALL_RELEASES[0])
    wrong, _, _ = seed_drifted_usage(dep)
    result = generate_quota_sync([wrong], targets_for(dep), "auto", OutputOptions(out_dir=tmp_path))
    dep.execute("cinder", "UPDATE quota_usages SET reserved = 1 WHERE project_id = %s "
                "AND resource = 'volumes'",
                (wrong,))  # fmt: skip
    drifted = all_states(dep)
    runs = BundleRun(dep, result.path).run("apply")
    assert runs and not runs[-1].ok
    assert_identical(drifted, all_states(dep))
