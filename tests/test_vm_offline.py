"""Offline VM bundles (no database at generation), proven by running them on real schemas."""

from __future__ import annotations

import json

import pytest

from generator.connect.sources import ConnectionOptions, resolve
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions

from .bundles import (
    BundleRun,
    all_states,
    allowed_changes,
    assert_all_ok,
    assert_identical,
    assert_only_planned_rows_changed,
    assert_values_as_planned,
    run_offline,
)
from .conftest import SCHEMA_SET_RELEASES
from .test_vm_bundles import check_semantics, generate, seed_world

pytestmark = pytest.mark.db

NO_DATABASE = resolve(ConnectionOptions(), env={})


@pytest.mark.parametrize("op", ["soft-delete", "purge", "rehost"])
@pytest.mark.parametrize("release", SCHEMA_SET_RELEASES)
def test_offline_bundle_apply_rerun_rollback(make_deployment, tmp_path, release: str, op: str) -> None:
    dep = make_deployment(release)
    target = seed_world(dep, op=op)
    node = dep.query("nova", "SELECT hypervisor_hostname FROM compute_nodes WHERE host = 'cmp-02'")[0]
    result = generate_vm(
        target.uuid,
        VmOptions(op=op, to_host="cmp-02", to_node=node["hypervisor_hostname"]),
        NO_DATABASE,
        release,
        OutputOptions(out_dir=tmp_path),
    )
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["mode"] == "offline" and result.lint.passed
    assert "Offline bundle" in (result.path / "README.md").read_text()
    # oracle for "nothing else changed": the rows the live planner names for the same world
    extra = {"to_node": node["hypervisor_hostname"]} if op == "rehost" else {}
    live = generate(dep, target.uuid, op, tmp_path / "live", **extra)
    allowed = allowed_changes(live.plan, dep, BundleRun(dep, live.path))
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    assert_all_ok(run_offline(run, "precheck"))  # includes the capture steps, which write the rollback
    assert_identical(before, all_states(dep))
    assert_all_ok(run_offline(run, "apply"))
    after = all_states(dep)
    assert assert_only_planned_rows_changed(before, after, allowed) > 0
    check_semantics(dep, op, target.uuid) if op != "rehost" else None
    if op != "rehost":  # offline rehost does not infer the move's outcome (its warning): flavor, migrations
        assert assert_values_as_planned(live.plan, dep, BundleRun(dep, live.path)) > 0
    assert_all_ok(run_offline(run, "verify"))
    reruns = run_offline(run, "apply")  # re-run: finds nothing left to change...
    if op == "purge":  # ...or, the instance row being gone, stops at its precondition
        assert not reruns[0].ok and "ERROR 1242" in reruns[0].stderr
    else:
        assert_all_ok(reruns)
    assert_identical(after, all_states(dep))
    assert_all_ok(run_offline(run, "rollback"))
    assert_identical(before, all_states(dep))


def test_offline_refuses_at_run_time_against_the_wrong_database(make_deployment, tmp_path) -> None:
    dep = make_deployment("2025.1")
    seed_world(dep, op="soft-delete")
    ghost = "0f0f0f0f-0000-4000-8000-000000000001"
    result = generate_vm(
        ghost, VmOptions(op="soft-delete"), NO_DATABASE, "2025.1", OutputOptions(out_dir=tmp_path)
    )
    before = all_states(dep)
    runs = run_offline(BundleRun(dep, result.path), "apply")
    assert not runs[-1].ok and "ERROR 1242" in runs[-1].stderr
    assert_identical(before, all_states(dep))


def test_offline_refuses_a_healthy_instance_at_run_time(make_deployment, tmp_path) -> None:
    from generator.seed import Seeder

    dep = make_deployment("2024.1")
    s = Seeder(dep, seed=3)
    healthy = s.instance(host=s.compute_host("cmp-01"))
    s.flush()
    result = generate_vm(
        healthy.uuid, VmOptions(op="soft-delete"), NO_DATABASE, "2024.1", OutputOptions(out_dir=tmp_path)
    )
    before = all_states(dep)
    runs = run_offline(BundleRun(dep, result.path), "apply")
    assert not runs[-1].ok
    assert_identical(before, all_states(dep))
