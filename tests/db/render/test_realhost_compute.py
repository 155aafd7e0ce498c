"""The generated compute scripts, run on a real compute node (tests/realhost.py).

A deleted instance's leftovers — its running UEFI domain with NVRAM, its hybrid-plugged port
(qbr/qvb/qvo/tap on br-int with os-vif's external_ids), the open-iscsi node record of its
volume on a real tgtd target and its instance directories — sit next to a live instance that
shares br-int and the iSCSI portal. Each script runs dry twice (nothing changes), then with
--execute twice: the first removes exactly the leftovers, the second finds nothing to do and
says so; the neighbour keeps running with its plumbing, record and files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from generator.connect.sources import ConnectionOptions, resolve
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.seed import Seeder
from tests.conftest import ALL_RELEASES
from tests.db.plan.test_vm_bundles import generate
from tests.realhost import Node, make_node, realhost_packages  # noqa: F401 (fixtures)
from tests.realhost_layout import (
    INSTANCES,
    Instance,
    IscsiPath,
    Port,
    lay_out,
    leave_domain,
    neighbour_intact,
    state,
)

pytestmark = pytest.mark.realhost

RELEASE = ALL_RELEASES[-1]
HOST = "cmp-01"
PORTAL = "192.0.2.10:3260"
LEFTOVER = Instance(
    uuid="0a1b2c3d-0000-4000-8000-00112233aabb",
    domain="instance-0000002a",
    ports=(Port("f6e315dd-d984-4ff1-9705-b778cd0153aa", "fa:16:3e:00:00:01"),),
    volumes=(IscsiPath("iqn.2010-10.org.openstack:volume-11111111-1111-4111-8111-111111111111", PORTAL, 1),),
)
NEIGHBOUR = Instance(
    uuid="99999999-0000-4000-8000-00112233aabb",
    domain="instance-0000002b",
    ports=(Port("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "fa:16:3e:00:00:02"),),
    volumes=(IscsiPath("iqn.2010-10.org.openstack:volume-22222222-2222-4222-8222-222222222222", PORTAL, 1),),
)
STAMP = re.compile(r"^\S+Z ", re.MULTILINE)


def run_script(node: Node, script: Path, *args: str, env: dict[str, str] | None = None):
    log_dir = str(node.directory / "log")
    return node.run("bash", str(script), *args, check=False, env={"FIXPACK_LOG_DIR": log_dir, **(env or {})})


def leftovers_gone(after: dict, gone: Instance, bundle_id: str) -> None:
    assert gone.uuid not in after["domains"], after["domains"]
    assert gone.nvram.rpartition("/")[2] not in after["nvram"], "NVRAM left behind"
    assert not gone.devices & set(after["links"]), sorted(gone.devices & set(after["links"]))
    assert not {port.devices[3] for port in gone.ports} & set(after["ovs"]), after["ovs"]
    assert not [rec for rec in after["iscsi_nodes"] if any(p.iqn in rec for p in gone.volumes)]
    assert f"{INSTANCES}/{gone.uuid}" not in after["instances"]
    quarantine = f"{INSTANCES}/.fixpack-quarantine/{bundle_id}/{gone.uuid}"
    assert f"{quarantine}/disk" in after["instances"], after["instances"]


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`fixpack vm UUID --op purge` without a database (its shell/compute.sh discovers everything),
    generated once for this module's tests: the script and the bundle id."""
    no_database = resolve(ConnectionOptions(), env={})
    out = tmp_path_factory.mktemp("offline-bundle")
    result = generate_vm(
        LEFTOVER.uuid, VmOptions(op="purge"), no_database, RELEASE, OutputOptions(out_dir=out)
    )
    bundle_id = json.loads((result.path / "manifest.json").read_text())["bundle_id"]
    return result.path / "shell" / "compute.sh", bundle_id


def exercise(
    node: Node, script: Path, args: tuple[str, ...], bundle_id: str, gone: Instance, kept: Instance
) -> str:
    """Dry twice, execute twice; check what went, what stayed, and what the runs said."""
    before = state(node)
    assert kept.uuid in before["domains"]
    dry = [run_script(node, script, *args) for _ in range(2)]
    for run in dry:
        assert run.returncode == 0, run.output
        assert "nothing was changed. Run with --execute to act." in run.stdout, run.stdout
    assert STAMP.sub("", dry[0].stdout).replace("DRY-RUN", "") == STAMP.sub("", dry[1].stdout).replace(
        "DRY-RUN", ""
    )
    assert state(node) == before, "a dry run changed the host"

    first = run_script(node, script, "--execute", *args)
    assert first.returncode == 0, first.output
    assert "DONE: " in first.stdout, first.stdout
    after = state(node)
    leftovers_gone(after, gone, bundle_id)
    neighbour_intact(before, after, kept)

    second = run_script(node, script, "--execute", *args)
    assert second.returncode == 0, second.output
    assert "Nothing to do: everything is already clean." in second.stdout, second.stdout
    assert not re.search(r"^\S+ (RUN|DRY-RUN): ", second.stdout, re.MULTILINE), second.stdout
    assert state(node) == after
    return first.stdout


@pytest.mark.parametrize("domain", ["running", "undefined"])
def test_offline_compute_script_on_a_real_host(make_node, offline, domain: str) -> None:  # noqa: F811
    script, bundle_id = offline
    node = make_node(HOST)
    lay_out(node, LEFTOVER, extra_dirs=("_del",))
    lay_out(node, NEIGHBOUR)
    leave_domain(node, LEFTOVER, domain)  # undefined: found through OVS external_ids and --port
    # what the precheck prints for the instance: host, domain name, port ids, iSCSI targets
    args = ("--host", HOST, "--domain", LEFTOVER.domain)
    for port in LEFTOVER.ports:
        args += ("--port", port.id)
    for path in LEFTOVER.volumes:
        args += ("--iscsi", path.iqn, path.portal, str(path.lun))
    done = exercise(node, script, (LEFTOVER.uuid, *args), bundle_id, LEFTOVER, NEIGHBOUR)
    # the hybrid plug's XML names no port: the --port given is recognised by its devices
    assert f"port {LEFTOVER.ports[0].id}: OVS hybrid plug" in done, done
    if domain == "undefined":
        assert f"OVS interface {LEFTOVER.ports[0].devices[3]} carries this instance's external_ids" in done
    assert f"{INSTANCES}/.fixpack-quarantine/{bundle_id}/{LEFTOVER.uuid}_del/disk" in state(node)["instances"]


def seeded(dep, inst) -> Instance:
    """The instance as the databases describe it: ports from network_info, volumes from the BDMs."""
    paths: list[IscsiPath] = []
    rows = dep.query(
        "nova",
        "SELECT connection_info FROM block_device_mapping"
        " WHERE instance_uuid = %s AND deleted = 0 AND connection_info IS NOT NULL",
        (inst.uuid,),
    )
    for row in rows:
        data = json.loads(row["connection_info"])["data"]
        iqns = data.get("target_iqns") or [data["target_iqn"]]
        portals = data.get("target_portals") or [data["target_portal"]]
        luns = data.get("target_luns") or [data["target_lun"]]
        paths += [IscsiPath(*path) for path in zip(iqns, portals, luns, strict=True)]
    ports = tuple(Port(port.id, port.mac) for port in inst.ports)
    return Instance(inst.uuid, f"instance-{inst.id:08x}", ports, tuple(paths))


@pytest.mark.db
@pytest.mark.parametrize(("op", "domain"), [("soft-delete", "shut off"), ("purge", "running")])
def test_live_compute_script_on_a_real_host(make_deployment, make_node, tmp_path: Path, op, domain) -> None:  # noqa: F811
    dep = make_deployment(RELEASE)
    s = Seeder(dep, seed=13)
    host = s.compute_host(HOST)
    target = s.instance(host=host, vm_state="error", task_state="deleting", power_state=4, volumes=1)
    other = s.instance(host=host, volumes=1)
    s.flush()
    gone, kept = seeded(dep, target), seeded(dep, other)
    assert gone.ports and gone.volumes and kept.ports and kept.volumes
    result = generate(dep, target.uuid, op, tmp_path)
    (script,) = (result.path / "shell").glob("compute*.sh")
    bundle_id = json.loads((result.path / "manifest.json").read_text())["bundle_id"]
    node = make_node(HOST)
    lay_out(node, gone, extra_dirs=("_resize",))
    lay_out(node, kept)
    leave_domain(node, gone, domain)
    exercise(node, script, (), bundle_id, gone, kept)


def test_offline_script_refuses_another_vm_and_another_host(make_node, offline) -> None:  # noqa: F811
    """A domain of the given name that is a different VM, or the wrong host: nothing is touched."""
    script, _ = offline
    node = make_node(HOST)
    impostor = Instance(NEIGHBOUR.uuid, LEFTOVER.domain, NEIGHBOUR.ports, NEIGHBOUR.volumes)
    lay_out(node, impostor)  # nova reused the name for another instance
    before = state(node)
    for args in (("--domain", LEFTOVER.domain, "--host", HOST), ("--host", "cmp-02")):
        run = run_script(node, script, LEFTOVER.uuid, *args, "--execute")
        assert run.returncode == 3, run.output
        assert "REFUSED: " in run.stdout and "Nothing was changed." in run.stdout, run.stdout
        assert state(node) == before
    assert (
        f"has UUID '{NEIGHBOUR.uuid}'"
        in run_script(node, script, LEFTOVER.uuid, "--domain", LEFTOVER.domain, "--host", HOST).stdout
    )


def test_a_wedged_ovsdb_does_not_hang_the_script(make_node, offline) -> None:  # noqa: F811
    """ovs-vsctl waits forever for an ovsdb-server that accepts but never answers; the script
    bounds every call, says OVS was left alone, and exits 4 instead of hanging."""
    script, _ = offline
    node = make_node(HOST)
    lay_out(node, LEFTOVER)
    node.sh("kill -STOP $(cat /run/openvswitch/ovsdb-server.pid)")
    try:
        assert node.run("timeout", "3", "ovs-vsctl", "list-br", check=False).returncode == 124
        args = (LEFTOVER.uuid, "--host", HOST, "--port", LEFTOVER.ports[0].id)
        run = run_script(node, script, *args, env={"FIXPACK_OVS_TIMEOUT": "2"})
    finally:
        node.sh("kill -CONT $(cat /run/openvswitch/ovsdb-server.pid)")
    assert run.returncode == 4, run.output
    assert "cannot reach ovsdb" in run.stdout, run.stdout


def test_a_wedged_libvirtd_is_refused_not_waited_for(make_node, offline) -> None:  # noqa: F811
    """virsh waits forever for a libvirtd that accepts but never answers; the script's first
    libvirt call is bounded and it refuses, having changed nothing."""
    script, _ = offline
    node = make_node(HOST)
    lay_out(node, LEFTOVER)
    before = state(node)
    node.sh("kill -STOP $(cat /run/libvirtd.pid)")
    try:
        assert node.run("timeout", "3", "virsh", "list", "--all", check=False).returncode == 124
        args = (LEFTOVER.uuid, "--host", HOST, "--execute")
        run = run_script(node, script, *args, env={"FIXPACK_LIBVIRT_TIMEOUT": "2"})
    finally:
        node.sh("kill -CONT $(cat /run/libvirtd.pid)")
    assert run.returncode == 3, run.output
    assert "virsh cannot talk to libvirt" in run.stdout and "Nothing was changed." in run.stdout, run.stdout
    assert state(node) == before
