"""Differential: a VM soft-delete bundle leaves Nova, Nova API, Placement and Cinder exactly as
Nova's and Cinder's own code would (up to the delete_on_termination volume's API delete).

Two twins of one 2026.2 deployment are seeded alike: an instance stuck in 'deleting' with two
attached volumes (one delete_on_termination, the other's attachment with legacy attachment_specs),
a share mapping (where the release has the table), ports, allocations, among other instances.
- Twin A runs the upstream code of the release from throwaway venvs (nova 34.0.0, cinder
  29.0.0, from PyPI, built once per machine under ~/.cache/fixpack-test):
  tests/upstream/cinder_detach.py (Cinder's attachment_delete for each of the instance's
  attachments, as Nova's `_shutdown_instance` asks for it), then tests/upstream/nova_delete.py
  (what `_delete_instance`/`_complete_deletion`/`instance.destroy()` and the API's
  queued_for_delete write), then placement's DELETE /allocations/{instance} mirrored below.
- Twin B applies the fixpack bundle with the real client.
Every row change of every table of every database is compared: values exactly, timestamps as
"set" or "unchanged". Cinder's `cinder-manage quota check` then finds nothing, the bundle's
rollback restores twin B exactly, and controller.sh deletes the delete_on_termination volume
through the API (against the openstack stand-in).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.catalog import catalog_snapshot
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.scratch.deployment import Deployment
from generator.seed import Seeder
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical, targets_for
from tests.differential import (
    assert_same_changes,
    changes,
    diff_release,
    dump,
    quota_check,
    service_venv,
    upstream_delete,
)
from tests.shell_fixtures.fakehost import FakeHost

pytestmark = [pytest.mark.db, pytest.mark.slow]
RELEASE = diff_release()


@pytest.fixture(scope="session")
def nova_venv() -> Path:
    return service_venv("nova", RELEASE)


@pytest.fixture(scope="session")
def cinder_venv() -> Path:
    return service_venv("cinder", RELEASE)


def seed_twin(dep: Deployment) -> tuple[str, str]:
    """The same world in each twin; returns (instance uuid, its delete_on_termination volume)."""
    s = Seeder(dep, seed=23)
    h1, h2 = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    for i in range(4):
        s.instance(host=h1 if i % 2 else h2, vif_types=("ovs",), volumes=i % 3)
    target = s.instance(
        host=h1, vm_state="error", task_state="deleting", power_state=4, volumes=2,
        vif_types=("ovs_hybrid", "ovs"), metadata={"role": "db"},
    )  # fmt: skip
    s.flush()
    bdms = dep.query(
        "nova",
        "SELECT id, volume_id FROM block_device_mapping WHERE instance_uuid = %s AND deleted = 0 "
        "AND volume_id IS NOT NULL ORDER BY id",
        (target.uuid,),
    )
    assert len(bdms) == 2
    dep.execute(
        "nova", "UPDATE block_device_mapping SET delete_on_termination = 1 WHERE id = %s", (bdms[0]["id"],)
    )
    # the other attachment still has pre-Queens connector specs (Cinder migrates them when it loads it)
    attachment = dep.query(
        "nova", "SELECT attachment_id FROM block_device_mapping WHERE id = %s", (bdms[1]["id"],)
    )
    for key, value in (
        ("host", "cmp-01"),
        ("initiator", "iqn.1993-08.org.debian:01:5e1f"),
        ("multipath", "False"),
    ):
        dep.execute(
            "cinder",
            "INSERT INTO attachment_specs (created_at, updated_at, deleted, attachment_id, `key`, value) "
            "VALUES ('2026-01-02 03:04:05', '2026-01-02 03:04:06', 0, %s, %s, %s)",
            (attachment[0]["attachment_id"], key, value),
        )
    # a share mapping: Nova's delete denies the share and forgets the mapping (2025.1+; the table
    # exists from 2024.1, and before 2025.1 Nova's delete leaves it)
    if "share_mapping" in catalog_snapshot(dep.release, "nova").table_names:
        dep.execute(
            "nova",
            "INSERT INTO share_mapping (created_at, uuid, instance_uuid, share_id, status, tag, "
            "export_location, share_proto) VALUES ('2026-01-02 03:04:05', "
            "'6c1e7a36-4a86-4c3e-9a3e-5b0f3f0b2a11', %s, '0f5b8e0c-3f5e-4e8b-a0c4-8d7e3d2a9b61', "
            "'active', 'data', '192.0.2.5:/s', 'NFS')",
            (target.uuid,),
        )
    return target.uuid, bdms[0]["volume_id"]


def test_vm_soft_delete_with_volumes_matches_nova_and_cinder(
    make_deployment, tmp_path, nova_venv, cinder_venv
) -> None:
    twin_a, twin_b = make_deployment(RELEASE), make_deployment(RELEASE)
    uuid, doomed = seed_twin(twin_a)
    assert seed_twin(twin_b) == (uuid, doomed)
    before_a, before_b = dump(twin_a), dump(twin_b)
    states_b = all_states(twin_b)

    (tmp_path / "a").mkdir()
    upstream_delete(twin_a, uuid, tmp_path / "a", nova_venv, cinder_venv)
    result = generate_vm(
        uuid, VmOptions(op="soft-delete"), targets_for(twin_b), "auto", OutputOptions(out_dir=tmp_path / "b")
    )
    bundle = BundleRun(twin_b, result.path)
    assert_all_ok(bundle.run("apply"))

    upstream, fixpack = changes(before_a, dump(twin_a)), changes(before_b, dump(twin_b))
    assert {t for t in upstream if t.startswith("cinder.")} >= {
        "cinder.volume_attachment",
        "cinder.volumes",
        "cinder.volume_admin_metadata",
        "cinder.attachment_specs",
    }, "the upstream run changed nothing in Cinder"
    if "share_mapping" in catalog_snapshot(RELEASE, "nova").table_names and RELEASE >= "2025.1":
        assert "nova.share_mapping" in upstream, "the upstream delete left the share mapping"
    assert_same_changes(upstream, fixpack, "nova+cinder")

    for twin in (twin_a, twin_b):
        report = quota_check(twin, tmp_path, cinder_venv)
        assert "Processing quota usage for project" in report
        assert "invalid" not in report and "uplicate" not in report, report

    # controller.sh carries the delete_on_termination volume's API delete, and runs it now
    # that the attachment is ended (Cinder's own delete also removes the backend volume)
    host = FakeHost(tmp_path / "controller")
    (host.state / "openstack" / "volume").mkdir(parents=True)
    (host.state / "openstack" / "volume" / doomed).write_text("available")
    done = host.run(result.path / "shell" / "controller.sh", "--execute", env={"OS_CLOUD": "test"})
    assert f"openstack volume delete {doomed}" in done.calls, done.stdout + done.stderr
    assert not (host.state / "openstack" / "volume" / doomed).exists()
    kept = [v for v in result.plan.controller.volumes_to_delete if v != doomed]
    assert kept == [], "only the delete_on_termination volume is deleted"

    assert_all_ok(bundle.run("rollback"))
    assert_identical(states_b, all_states(twin_b))


def test_without_cinder_an_instance_with_volumes_is_refused_unless_skip_cinder(
    make_deployment, tmp_path
) -> None:
    from generator.errors import TargetProblem

    dep = make_deployment(RELEASE)
    uuid, doomed = seed_twin(dep)
    targets = targets_for(dep, cinder=False)
    with pytest.raises(TargetProblem, match="--skip-cinder"):
        generate_vm(uuid, VmOptions(op="soft-delete"), targets, "auto", OutputOptions(out_dir=tmp_path / "a"))
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())

    result = generate_vm(
        uuid,
        VmOptions(op="soft-delete", skip_cinder=True),
        targets,
        "auto",
        OutputOptions(out_dir=tmp_path / "b"),
    )
    assert "cinder" not in result.manifest["databases"]
    readme = (result.path / "README.md").read_text()
    attachments = dep.query(
        "nova", "SELECT attachment_id FROM block_device_mapping WHERE instance_uuid = %s AND deleted = 0 "
        "AND volume_id IS NOT NULL", (uuid,),
    )  # fmt: skip
    for row in attachments:
        assert f"attachment-delete {row['attachment_id']}" in readme
    assert f"openstack volume delete {doomed}" in readme
    assert "--skip-cinder" in readme
