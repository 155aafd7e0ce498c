"""The host side of offline VM bundles: the precheck prints it, the runbook says where to run.

Offline the bundle cannot know the instance's host; these tests prove it never claims
there is none, and that the precheck — run for real against a seeded deployment —
prints what the compute script needs (host, node, domain name, ports, IQNs) and no
CHAP secret.
"""

from __future__ import annotations

import json

import pytest

from generator.connect.sources import ConnectionOptions, resolve
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from tests.bundles import BundleRun, assert_all_ok, run_offline
from tests.db.plan.test_vm_bundles import seed_world

NO_DATABASE = resolve(ConnectionOptions(), env={})
GHOST = "3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57"


def _offline(tmp_path, uuid: str = GHOST, op: str = "soft-delete", release: str = "2025.1"):
    return generate_vm(uuid, VmOptions(op=op), NO_DATABASE, release, OutputOptions(out_dir=tmp_path))


@pytest.mark.parametrize("op", ["soft-delete", "purge"])
def test_offline_runbook_does_not_claim_there_is_no_host(tmp_path, op: str) -> None:
    result = _offline(tmp_path, op=op)
    readme = (result.path / "README.md").read_text()
    assert "never got a host" not in readme
    assert "There is no compute-node script" not in readme
    assert "shell/compute.sh" in readme
    assert "on the instance's compute host as printed by the precheck" in readme
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert "shell/compute.sh" in [step["file"] for step in manifest["steps"]]
    assert "bash shell/controller.sh [--delete-port PORT_ID]..." in readme
    assert "everything already clean" not in readme


@pytest.mark.db
def test_offline_precheck_prints_the_host_side_and_no_chap_password(make_deployment, tmp_path) -> None:
    dep = make_deployment("2025.1")
    target = seed_world(dep, op="soft-delete")
    inst = dep.query("nova", "SELECT id, host, node FROM instances WHERE uuid = %s", (target.uuid,))[0]
    cache = dep.query(
        "nova", "SELECT network_info FROM instance_info_caches WHERE instance_uuid = %s", (target.uuid,)
    )[0]
    vifs = json.loads(cache["network_info"])
    bdms = dep.query(
        "nova",
        "SELECT connection_info FROM block_device_mapping WHERE instance_uuid = %s AND deleted = 0 "
        "AND volume_id IS NOT NULL",
        (target.uuid,),
    )
    connections = [json.loads(b["connection_info"])["data"] for b in bdms]
    assert connections and all(c.get("auth_password") for c in connections)  # the seed has CHAP secrets

    result = _offline(tmp_path, uuid=target.uuid)
    runs = run_offline(BundleRun(dep, result.path), "precheck")
    assert_all_ok(runs)
    out = runs[0].stdout
    assert inst["host"] in out and inst["node"] in out
    assert f"instance-{inst['id']:08x}" in out
    for vif in vifs:
        assert vif["id"] in out
        assert vif.get("devname", "tap" + vif["id"][:11]) in out
        if vif.get("details", {}).get("ovs_hybrid_plug"):
            assert f"qvo{vif['id'][:11]}" in out
    for data in connections:
        assert f"{data['target_iqn']} {data['target_portal']} {data['target_lun']}" in out
        assert data["auth_password"] not in out
        assert data["auth_username"] not in out
    # the other databases' prechecks hold nothing of this either
    assert all(c["auth_password"] not in run.stdout for run in runs for c in connections)


@pytest.mark.db
def test_offline_volume_detach_precheck_prints_host_and_iqn_and_no_chap_password(
    make_deployment, tmp_path
) -> None:
    from generator.jobs_volume import generate_volume
    from generator.plan.volume_common import VolumeOptions
    from tests.volume_world import seed_world as seed_volume_world

    dep = make_deployment("2025.1")
    sc = seed_volume_world(dep, "reset-detached")
    bdms = dep.query(
        "nova",
        "SELECT b.connection_info, i.host FROM block_device_mapping b JOIN instances i "
        "ON i.uuid = b.instance_uuid WHERE b.volume_id = %s AND b.deleted = 0",
        (sc.volume.id,),
    )
    assert bdms
    result = generate_volume(
        sc.volume.id,
        VolumeOptions(op="reset-detached", **sc.options),
        NO_DATABASE,
        "2025.1",
        OutputOptions(out_dir=tmp_path),
    )
    runs = run_offline(BundleRun(dep, result.path), "precheck")
    assert_all_ok(runs)
    out = "".join(run.stdout for run in runs)
    for bdm in bdms:
        data = json.loads(bdm["connection_info"])["data"]
        assert bdm["host"] in out
        assert f"{data['target_iqn']} {data['target_portal']} {data['target_lun']}" in out
        assert data["auth_password"] not in out
    attachments = dep.query(
        "cinder",
        "SELECT attached_host, connection_info FROM volume_attachment WHERE volume_id = %s AND deleted = 0",
        (sc.volume.id,),
    )
    assert attachments
    cinder_out = next(run.stdout for run in runs if "attachment\t" in run.stdout)
    for attachment in attachments:
        assert attachment["attached_host"] in cinder_out
        flat = json.loads(attachment["connection_info"])  # Cinder keeps it flattened
        assert f"{flat['target_iqn']} {flat['target_portal']} {flat['target_lun']}" in cinder_out
        assert flat["auth_password"] and flat["auth_password"] not in out


@pytest.mark.db
def test_offline_precheck_never_prints_control_characters_from_the_database(
    make_deployment, tmp_path
) -> None:
    dep = make_deployment("2025.1")
    target = seed_world(dep, op="soft-delete")
    hostile_host = "cmp-01\x1b]0;owned\x07\x1b[2J"
    dep.execute("nova", "UPDATE instances SET host = %s WHERE uuid = %s", (hostile_host, target.uuid))
    cache = dep.query(
        "nova", "SELECT network_info FROM instance_info_caches WHERE instance_uuid = %s", (target.uuid,)
    )[0]
    vifs = json.loads(cache["network_info"])
    vifs[0]["devname"] = "tap\x1b[31mred"
    dep.execute(
        "nova",
        "UPDATE instance_info_caches SET network_info = %s WHERE instance_uuid = %s",
        (json.dumps(vifs), target.uuid),
    )
    runs = run_offline(BundleRun(dep, _offline(tmp_path, uuid=target.uuid).path), "precheck")
    assert_all_ok(runs)
    out = runs[0].stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "cmp-01?]0;owned??[2J" in out and "tap?[31mred" in out


def test_offline_batch_has_a_compute_script_and_host_side_per_instance(tmp_path) -> None:
    from generator.jobs_batch import generate_vm_batch

    uuids = [GHOST, "4f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a58"]
    (result,) = generate_vm_batch(
        uuids, VmOptions(op="soft-delete"), NO_DATABASE, "2025.1", OutputOptions(out_dir=tmp_path)
    )
    readme = (result.path / "README.md").read_text()
    precheck = (result.path / "sql/10-precheck-nova.sql").read_text()
    for uuid in uuids:
        script = result.path / f"shell/compute-{uuid[:8]}.sh"
        assert f"readonly INSTANCE_UUID={uuid}" in script.read_text()
        assert f"bash shell/compute-{uuid[:8]}.sh {uuid} --host HOST" in readme
        assert f"`uuid` = '{uuid}'" in precheck


@pytest.mark.db
@pytest.mark.parametrize("template", ["instance-%08x", "vm-%d", "guest%x-kvm", "i-%06d"])
def test_precheck_domain_name_matches_nova(make_deployment, template: str) -> None:
    """The SQL the precheck prints the domain name with agrees with `template % instances.id`."""
    from generator.domain import nova
    from generator.render.offline_hostside import _domain_name_sql

    dep = make_deployment("2025.1")
    for instance_id in (42, 0xFFFFFFFF, 2**32 + 5):
        sql = _domain_name_sql(template).replace("`instances`.`id`", str(instance_id))
        expected = nova.domain_name({"id": instance_id}, template)
        assert dep.query("nova", f"SELECT {sql} AS n")[0]["n"] == expected
