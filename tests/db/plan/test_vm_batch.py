"""Batch bundles: many instances, one bundle, merged steps — proven by running it."""

from __future__ import annotations

import json

import pytest

from generator.jobs_batch import generate_vm_batch
from generator.pipeline import OutputOptions
from generator.plan.vm_common import VmOptions
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
from tests.db.plan.test_vm_bundles import check_semantics

pytestmark = pytest.mark.db


@pytest.mark.parametrize("op", ["soft-delete", "purge"])
def test_batch_bundle_apply_rerun_rollback(make_deployment, tmp_path, op: str) -> None:
    dep = make_deployment("2025.2")
    s = Seeder(dep, seed=21)
    hosts = [s.compute_host(f"cmp-{i:02d}") for i in range(1, 4)]
    bystanders = [s.instance(host=hosts[i % 3]) for i in range(8)]
    targets = [
        s.instance(
            host=hosts[i % 3],
            vm_state="error",
            power_state=4,
            volumes=i % 2,
            vif_types=(("ovs_hybrid", "bridge", "ovs")[i % 3],),
            actions=1 + i % 2,
        )
        for i in range(7)
    ]
    s.flush()
    before = all_states(dep)
    results = generate_vm_batch(
        [t.uuid for t in targets],
        VmOptions(op=op),
        targets_for(dep),
        "auto",
        OutputOptions(out_dir=tmp_path, chunk_rows=40),
    )
    assert len(results) == 1
    result = results[0]
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["target"]["ids"] == [t.uuid for t in targets]
    assert result.lint.passed
    shells = [st["file"] for st in manifest["steps"] if st["kind"] == "shell"]
    assert (
        len([f for f in shells if "compute" in f]) == 7 and len([f for f in shells if "controller" in f]) == 7
    )
    run = BundleRun(dep, result.path)
    assert_all_ok(run.run("precheck"))
    assert_all_ok(run.run("apply"))
    after = all_states(dep)
    assert_only_planned_rows_changed(before, after, allowed_changes(result.plan, dep, run))
    for t in targets:
        check_semantics(dep, op, t.uuid)
    for b in bystanders:
        assert (
            dep.query("nova", "SELECT deleted FROM instances WHERE uuid = %s", (b.uuid,))[0]["deleted"] == 0
        )
    assert_all_ok(run.run("verify"))
    assert_all_ok(run.run("apply"))
    assert_identical(after, all_states(dep))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))
