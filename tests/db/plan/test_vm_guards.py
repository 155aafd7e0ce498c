"""What VM bundles refuse: drift after generation, and targets that must not be repaired."""

from __future__ import annotations

import json

import pytest

from generator.errors import TargetProblem
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.overrides import Overrides
from generator.plan.vm_common import VmOptions
from generator.seed import Seeder
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical, targets_for
from tests.db.plan.test_vm_bundles import generate, seed_world

pytestmark = pytest.mark.db
RELEASE = "2025.2"


def _fails_and_changes_nothing(dep, result, phase: str) -> str:
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    runs = run.run(phase)
    assert runs and not runs[-1].ok, f"the {phase} should have stopped at a guard"
    assert "ERROR 1242" in runs[-1].stderr  # the guard, not some other error
    assert_identical(before, all_states(dep))
    return runs[-1].stdout


@pytest.mark.parametrize("drift", ["updated_at", "new_fault", "metadata_changed", "allocation_changed"])
def test_drift_after_generation_aborts_with_nothing_changed(make_deployment, tmp_path, drift: str) -> None:
    dep = make_deployment(RELEASE)
    target = seed_world(dep, op="soft-delete")
    result = generate(dep, target.uuid, "soft-delete", tmp_path)
    u = target.uuid
    if drift == "updated_at":  # nova touched the instance: one second later, same row count
        dep.execute(
            "nova", "UPDATE instances SET updated_at = updated_at + INTERVAL 1 SECOND WHERE uuid = %s", (u,)
        )
    elif drift == "new_fault":  # a row appeared in a table the bundle changes
        dep.execute(
            "nova",
            "INSERT INTO instance_faults (created_at, instance_uuid, code, message, deleted) "
            "VALUES (UTC_TIMESTAMP(), %s, 500, 'late fault', 0)",
            (u,),
        )
    elif drift == "metadata_changed":
        dep.execute("nova", "UPDATE instance_metadata SET value = 'changed' WHERE instance_uuid = %s", (u,))
    else:
        dep.execute("placement", "UPDATE allocations SET used = used + 1 WHERE consumer_id = %s", (u,))
    # the runbook's order: the prechecks of every database run first and stop it all
    assert "drift" in _fails_and_changes_nothing(dep, result, "precheck")
    if drift != "allocation_changed":
        # even straight to the apply: the cell database goes first and its guard stops everything
        assert "drift" in _fails_and_changes_nothing(dep, result, "apply")


def test_precheck_reports_drift_without_changing_anything(make_deployment, tmp_path) -> None:
    dep = make_deployment(RELEASE)
    target = seed_world(dep, op="purge")
    result = generate(dep, target.uuid, "purge", tmp_path)
    dep.execute(
        "nova",
        "UPDATE block_device_mapping SET device_name = '/dev/vdz' WHERE instance_uuid = %s",
        (target.uuid,),
    )
    before = all_states(dep)
    runs = BundleRun(dep, result.path).run("precheck")
    assert not all(r.ok for r in runs) and "drift" in runs[-1].stdout
    assert_identical(before, all_states(dep))


def test_partial_apply_resumes_where_it_stopped(make_deployment, tmp_path) -> None:
    """Small chunks: the first chunks commit, a later one hits drift; fixing the drift is not
    possible from the bundle, so regenerate — and the regenerated bundle completes the job."""
    dep = make_deployment(RELEASE)
    target = seed_world(dep, op="soft-delete")
    result = generate_vm(
        target.uuid,
        VmOptions(op="soft-delete"),
        targets_for(dep),
        "auto",
        OutputOptions(out_dir=tmp_path / "a", chunk_rows=3),
    )
    assert json.loads((result.path / "manifest.json").read_text())["steps"]
    dep.execute("nova", "UPDATE instances SET display_name = 'renamed' WHERE uuid = %s", (target.uuid,))
    runs = BundleRun(dep, result.path).run("apply")
    assert not runs[-1].ok
    assert "applied" in runs[-1].stdout  # earlier chunks committed
    again = generate_vm(
        target.uuid,
        VmOptions(op="soft-delete"),
        targets_for(dep),
        "auto",
        OutputOptions(out_dir=tmp_path / "b", chunk_rows=3),
    )
    assert_all_ok(BundleRun(dep, again.path).run("apply"))
    inst = dep.query("nova", "SELECT deleted, id, vm_state FROM instances WHERE uuid = %s", (target.uuid,))[0]
    assert inst["deleted"] == inst["id"] and inst["vm_state"] == "deleted"


def test_refusals_are_one_clear_error(make_deployment, tmp_path) -> None:
    dep = make_deployment(RELEASE)
    s = Seeder(dep, seed=5)
    h1 = s.compute_host("cmp-01")
    s.compute_host("cmp-09", enabled=False)
    healthy = s.instance(host=h1)
    gone = s.instance(host=h1, deleted=True)
    stuck = s.instance(host=h1, vm_state="error", power_state=4)
    s.flush()
    targets = targets_for(dep)
    out = OutputOptions(out_dir=tmp_path)

    def refused(uuid: str, match: str, **opts: object) -> None:
        with pytest.raises(TargetProblem, match=match):
            generate_vm(uuid, VmOptions(**opts), targets, "auto", out)  # type: ignore[arg-type]

    refused("6b8e0c86-1c4f-4b7e-9a6c-000000000000", "not found", op="soft-delete")
    refused(gone.uuid, "already deleted", op="soft-delete")
    refused(healthy.uuid, "looks healthy", op="soft-delete")
    refused(stuck.uuid, "disabled", op="rehost", to_host="cmp-09")
    refused(stuck.uuid, "no nova-compute service", op="rehost", to_host="nowhere")
    refused(stuck.uuid, "already points at", op="rehost", to_host="cmp-01")
    assert not list(tmp_path.iterdir()), "a refused repair writes nothing"
    # --allow-healthy-instance takes the healthy one, and the runbook says why that is dangerous
    allow = Overrides.of("healthy-instance")
    result = generate_vm(healthy.uuid, VmOptions(op="soft-delete", allow=allow), targets, "auto", out)
    assert "--allow-healthy-instance: it looks healthy" in (result.path / "README.md").read_text()


def test_cell0_instance_has_no_compute_script(make_deployment, tmp_path) -> None:
    dep = make_deployment(RELEASE)
    s = Seeder(dep, seed=6)
    s.compute_host("cmp-01")
    failed_build = s.instance(cell="cell0")
    s.flush()
    before = all_states(dep)
    result = generate_vm(
        failed_build.uuid,
        VmOptions(op="soft-delete"),
        targets_for(dep),
        "auto",
        OutputOptions(out_dir=tmp_path),
    )
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert not any(step["target"].startswith("host:") for step in manifest["steps"])
    assert manifest["databases"]["nova"]["database_at_generation"] == dep.names["nova_cell0"]
    run = BundleRun(dep, result.path)
    assert_all_ok(run.run("apply"))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))


def test_hostile_network_info_is_rejected_at_generation(make_deployment, tmp_path) -> None:
    dep = make_deployment(RELEASE)
    target = seed_world(dep, op="soft-delete")
    dep.execute(
        "nova",
        'UPDATE instance_info_caches SET network_info = REPLACE(network_info, \'"devname": "tap\', '
        '\'"devname": "tap;rm -rf /;\') WHERE instance_uuid = %s',
        (target.uuid,),
    )
    with pytest.raises(TargetProblem, match="refusing unsafe"):
        generate(dep, target.uuid, "soft-delete", tmp_path)
    assert not list(tmp_path.iterdir())
