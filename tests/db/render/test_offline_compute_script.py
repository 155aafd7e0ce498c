"""The offline bundle's compute script, run for real against the simulated compute node.

The offline script knows only the instance UUID; everything else is discovered on the
host: the domain by UUID (`virsh domname`) and its XML, OVS interfaces by
external_ids, and the iSCSI targets the precheck printed. The stand-in virsh behaves
as the real one does (domuuid takes a name, domname a UUID), so a lookup by the wrong
key fails here as it would on a real host.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.plan.model import ControllerActions
from generator.render.shell import render_controller_script, render_offline_compute_script
from tests.shell_fixtures.fakehost import FakeHost, destructive, write_script
from tests.shell_fixtures.scenarios import (
    BUNDLE,
    CREDENTIALS,
    DOMAIN,
    IMAGE,
    INSTANCE,
    IQN,
    NET,
    OTHER_INSTANCE,
    P_BRIDGE,
    P_HYBRID,
    P_OVS,
    PORTAL_A,
    api_objects,
    instance_dirs,
    iscsi_steps,
    shellcheck,
    tap,
)

X = P_HYBRID[:11]
TAP_OVS = tap(P_OVS)
BY_PATH = f"/dev/disk/by-path/ip-{PORTAL_A}-iscsi-{IQN}-lun-1"
NVRAM = f"/var/lib/libvirt/qemu/nvram/{DOMAIN}_VARS.fd"
XML = f"""<domain type='kvm'>
  <name>{DOMAIN}</name>
  <uuid>{INSTANCE}</uuid>
  <os>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>
    <nvram>{NVRAM}</nvram>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='/var/lib/nova/instances/{INSTANCE}/disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='block' device='disk'>
      <driver name='qemu' type='raw' cache='none' io='native'/>
      <source dev='{BY_PATH}'/>
      <target dev='vdb' bus='virtio'/>
      <serial>11111111-1111-4111-8111-111111111111</serial>
    </disk>
    <disk type='network' device='disk'>
      <source protocol='rbd' name='volumes/volume-44444444-4444-4444-8444-444444444444'>
        <host name='10.0.0.21' port='6789'/>
      </source>
      <target dev='vdc' bus='virtio'/>
    </disk>
    <interface type='bridge'>
      <mac address='fa:16:3e:00:00:01'/>
      <source bridge='qbr{X}'/>
      <target dev='tap{X}'/>
      <model type='virtio'/>
    </interface>
    <interface type='bridge'>
      <mac address='fa:16:3e:00:00:02'/>
      <source bridge='br-int'/>
      <virtualport type='openvswitch'>
        <parameters interfaceid='{P_OVS}'/>
      </virtualport>
      <target dev='{TAP_OVS}'/>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>
"""
HOST_ARGS = ("--host", "compute-1")
ISCSI_ARGS = ("--iscsi", IQN, PORTAL_A, "1")
PORT_ARGS = ("--port", P_HYBRID, "--port", P_OVS)


@pytest.fixture
def host(tmp_path: Path) -> FakeHost:
    return FakeHost(tmp_path)


def offline_script(h: FakeHost) -> Path:
    text = render_offline_compute_script(
        INSTANCE, bundle_id=BUNDLE, fixpack_version="0.1.0", instances_path=str(h.instances)
    )
    return write_script(h.root, "compute.sh", text)


def plumbing(h: FakeHost) -> None:
    """What a hybrid-plugged and an OVS-plugged port leave on the host (os-vif's external_ids)."""
    h.link(f"tap{X}", master=f"qbr{X}")
    h.link(f"qbr{X}")
    h.link(f"qvb{X}", master=f"qbr{X}", peer=f"qvo{X}")
    h.link(f"qvo{X}", peer=f"qvb{X}")
    h.ovs_port(f"qvo{X}", iface_id=P_HYBRID, vm_uuid=INSTANCE)
    h.link(TAP_OVS)
    h.ovs_port(TAP_OVS, iface_id=P_OVS, vm_uuid=INSTANCE)


def full_instance(h: FakeHost) -> None:
    h.domain(DOMAIN, INSTANCE, "running", ifaces=[f"tap{X}", TAP_OVS], disks=[("vdb", BY_PATH)])
    h.domain_xml(DOMAIN, XML)
    plumbing(h)
    h.iscsi_session(1, IQN, PORTAL_A, {1: "sdb"})
    instance_dirs(h)


EXPECTED_EXECUTE = [
    f"virsh destroy {INSTANCE}",
    # (no delif: destroying the domain removed its taps, as libvirt does)
    f"ip link set qbr{X} down",
    f"brctl delbr qbr{X}",
    f"ip link delete qvb{X}",
    f"ovs-vsctl --timeout=30 --if-exists del-port br-int qvo{X}",
    f"ovs-vsctl --timeout=30 --if-exists del-port br-int {TAP_OVS}",
    *iscsi_steps(IQN, PORTAL_A),
    f"virsh undefine --nvram {INSTANCE}",
]


def test_offline_compute_script_passes_shellcheck(host: FakeHost) -> None:
    result = shellcheck(offline_script(host))
    assert result.returncode == 0, result.stdout + result.stderr


def test_dry_run_lists_what_it_found_and_changes_nothing(host: FakeHost) -> None:
    full_instance(host)
    before = host.snapshot()
    result = host.run(offline_script(host), INSTANCE, *HOST_ARGS, *ISCSI_ARGS)
    assert result.returncode == 0, result.output
    assert destructive(result.calls) == []
    assert host.snapshot() == before
    out = result.stdout
    assert f"libvirt: domain '{DOMAIN}' has UUID {INSTANCE}: this instance" in out
    assert f"virsh domname {INSTANCE}" in result.calls  # looked up by UUID, not by name
    assert f"NVRAM {NVRAM} goes with the domain" in out
    for command in (
        f"virsh destroy {INSTANCE}",
        f"brctl delbr qbr{X}",
        f"ip link delete qvb{X}",
        f"ovs-vsctl --timeout=30 --if-exists del-port br-int qvo{X}",
        f"ovs-vsctl --timeout=30 --if-exists del-port br-int {TAP_OVS}",
        f"iscsiadm -m node -T {IQN} -p {PORTAL_A} --logout",
        f"virsh undefine --nvram {INSTANCE}",
    ):
        assert f"DRY-RUN: {command}" in out, command
    assert "volume-44444444-4444-4444-8444-444444444444 (RBD" in out
    assert "DRY RUN:" in out.splitlines()[-1]


def test_execute_removes_everything_and_a_second_run_is_a_clean_no_op(host: FakeHost) -> None:
    full_instance(host)
    script = offline_script(host)
    args = (INSTANCE, *HOST_ARGS, *ISCSI_ARGS, *PORT_ARGS)
    first = host.run(script, *args, "--execute")
    assert first.returncode == 0, first.output
    assert destructive(first.calls) == EXPECTED_EXECUTE
    assert host.domain_state(DOMAIN) is None
    assert host.links() == set() and host.ovs_ports() == set()
    assert host.iscsi_sessions() == [] and host.iscsi_nodes() == set()
    assert host.deleted_disks() == {"sdb"}
    assert not (host.instances / INSTANCE).exists()
    assert (host.instances / ".fixpack-quarantine" / BUNDLE / INSTANCE / "disk").exists()

    host.settle_kernel()
    second = host.run(script, *args, "--execute")
    assert second.returncode == 0, second.output
    assert destructive(second.calls) == []
    assert "Nothing to do: everything is already clean." in second.stdout


def test_wrong_host_is_refused_before_anything_else(host: FakeHost) -> None:
    full_instance(host)
    result = host.run(offline_script(host), INSTANCE, "--host", "compute-2", "--execute")
    assert result.returncode == 3
    assert "REFUSED: this script is for host compute-2, but this host is 'compute-1'" in result.stdout
    assert destructive(result.calls) == [] and not any(c.startswith("virsh") for c in result.calls)
    assert host.domain_state(DOMAIN) == "running"


def test_wrong_instance_uuid_is_refused(host: FakeHost) -> None:
    full_instance(host)
    result = host.run(offline_script(host), OTHER_INSTANCE, *HOST_ARGS, "--execute")
    assert result.returncode == 3
    assert f"REFUSED: this script is for instance {INSTANCE}, not {OTHER_INSTANCE}" in result.stdout
    assert result.calls == []


def test_a_domain_name_that_is_another_vm_is_refused(host: FakeHost) -> None:
    full_instance(host)
    host.domain("instance-00000063", OTHER_INSTANCE, "running")
    args = (INSTANCE, *HOST_ARGS, "--domain", "instance-00000063", "--execute")
    result = host.run(offline_script(host), *args)
    assert result.returncode == 3
    assert f"has UUID '{OTHER_INSTANCE}', not {INSTANCE}: a different VM has this name" in result.stdout
    assert destructive(result.calls) == []


def test_a_tap_another_domain_uses_is_left_alone(host: FakeHost) -> None:
    brq = f"brq{NET[:11]}"
    xml = XML.replace(
        "  </devices>",
        f"    <interface type='bridge'>\n      <source bridge='{brq}'/>\n"
        f"      <target dev='{tap(P_BRIDGE)}'/>\n    </interface>\n  </devices>",
    )
    host.domain(DOMAIN, INSTANCE, "shut off")
    host.domain_xml(DOMAIN, xml)
    host.link(brq)
    host.link(tap(P_BRIDGE), master=brq)
    host.domain("instance-00000063", OTHER_INSTANCE, "running", ifaces=[tap(P_BRIDGE)])
    result = host.run(offline_script(host), INSTANCE, *HOST_ARGS, "--execute")
    assert result.returncode == 4
    assert f"{tap(P_BRIDGE)} is used by libvirt domain {OTHER_INSTANCE}: left alone" in result.stdout
    assert tap(P_BRIDGE) in host.links() and brq in host.links()
    assert f"ip link delete {tap(P_BRIDGE)}" not in result.calls


def test_with_the_domain_gone_ovs_ports_are_found_by_their_external_ids(host: FakeHost) -> None:
    plumbing(host)
    # an interface of the same Neutron port, now plugged for another instance: not ours
    host.link("tapffffffff-ff")
    host.ovs_port("tapffffffff-ff", iface_id=P_OVS, vm_uuid=OTHER_INSTANCE)
    script = offline_script(host)
    args = (INSTANCE, *HOST_ARGS, "--port", P_OVS, *ISCSI_ARGS)
    first = host.run(script, *args, "--execute")
    assert first.returncode == 4, first.output
    out = first.stdout
    assert f"no domain with UUID {INSTANCE} on this host" in out
    assert f"OVS interface qvo{X} carries this instance's external_ids" in out
    find = "ovs-vsctl --timeout=30 --bare --columns=name find Interface"
    assert f"{find} external_ids:iface-id={P_OVS}" in first.calls
    assert f"OVS interface tapffffffff-ff now belongs to instance {OTHER_INSTANCE}: left alone" in out
    assert destructive(first.calls) == [
        f"brctl delif qbr{X} tap{X}",
        f"ip link set qbr{X} down",
        f"brctl delbr qbr{X}",
        f"ip link delete qvb{X}",
        f"ovs-vsctl --timeout=30 --if-exists del-port br-int qvo{X}",
        f"ip link delete tap{X}",
        f"ovs-vsctl --timeout=30 --if-exists del-port br-int {TAP_OVS}",
        f"ip link delete {TAP_OVS}",
    ]
    assert host.ovs_ports() == {"tapffffffff-ff"}
    assert host.links() == {"tapffffffff-ff"}

    second = host.run(script, *args, "--execute")
    assert destructive(second.calls) == []


def test_domain_gone_without_precheck_values_says_what_it_could_not_check(host: FakeHost) -> None:
    result = host.run(offline_script(host), INSTANCE, *HOST_ARGS)
    assert result.returncode == 0, result.output
    assert "Nothing to do: everything is already clean." not in result.stdout
    assert "NOT CHECKED: iSCSI sessions of the instance's volumes" in result.stdout
    assert "NOT CHECKED: devices of ports OVS does not know" in result.stdout


# ---- the offline controller script ------------------------------------------------------------


def offline_controller(h: FakeHost) -> Path:
    text = render_controller_script(
        ControllerActions(instance_uuid=INSTANCE),
        bundle_id=BUNDLE,
        fixpack_version="0.1.0",
        release="2025.1",
        offline=True,
    )
    return write_script(h.root, "controller.sh", text)


def test_offline_controller_passes_shellcheck(host: FakeHost) -> None:
    result = shellcheck(offline_controller(host))
    assert result.returncode == 0, result.stdout + result.stderr


def test_offline_controller_without_credentials_says_what_it_did_not_check(host: FakeHost) -> None:
    api_objects(host, {P_OVS: INSTANCE}, {})
    for args in ((), ("--execute",)):
        result = host.run(offline_controller(host), *args)
        assert "Nothing to do: everything is already clean." not in result.stdout
        assert "ports and shelved image were not known at generation" in result.stdout
    dry = host.run(offline_controller(host))
    assert dry.returncode == 0, dry.output
    assert f"NOT CHECKED: Neutron ports bound to instance {INSTANCE}" in dry.stdout
    assert destructive(dry.calls) == []


def test_offline_controller_finds_ports_at_run_time_and_deletes_only_those_named(host: FakeHost) -> None:
    api_objects(host, {P_OVS: INSTANCE, P_BRIDGE: INSTANCE, P_HYBRID: OTHER_INSTANCE}, {IMAGE: "shelved"})
    script = offline_controller(host)
    args = ("--delete-port", P_OVS, "--image", IMAGE, "--execute")
    first = host.run(script, *args, env=CREDENTIALS)
    assert first.returncode == 4, first.output  # P_BRIDGE found but not named: reported, kept
    assert f"openstack port list --device-id {INSTANCE} -f value -c ID" in first.calls
    assert destructive(first.calls) == [f"openstack port delete {P_OVS}", f"openstack image delete {IMAGE}"]
    assert f"port {P_BRIDGE} is bound to this instance and was not named with --delete-port" in first.stdout
    assert (host.state / "openstack/port" / P_BRIDGE).exists()
    assert (host.state / "openstack/port" / P_HYBRID).exists()  # another instance's port: never listed

    (host.state / "openstack/port" / P_BRIDGE).unlink()
    again = host.run(script, *args, env=CREDENTIALS)
    assert again.returncode == 0, again.output
    assert destructive(again.calls) == []
    assert "Nothing to do: everything is already clean." not in again.stdout
    assert f"no port is bound to instance {INSTANCE} (looked up now)" in again.stdout


def test_offline_bundle_controller_is_the_offline_one(tmp_path) -> None:
    from generator.connect.sources import ConnectionOptions, resolve
    from generator.pipeline import OutputOptions, generate_vm
    from generator.plan.vm_common import VmOptions

    result = generate_vm(
        INSTANCE,
        VmOptions(op="soft-delete"),
        resolve(ConnectionOptions(), env={}),
        "2025.1",
        OutputOptions(out_dir=tmp_path / "out"),
    )
    h = FakeHost(tmp_path / "host")
    for name in ("controller.sh", "compute.sh"):
        script = write_script(h.root, name, (result.path / "shell" / name).read_text())
        run = h.run(script, *((INSTANCE, *HOST_ARGS) if name == "compute.sh" else ()))
        assert run.returncode == 0, run.output
        assert "Nothing to do: everything is already clean." not in run.stdout
        assert "NOT CHECKED:" in run.stdout


def test_hostile_names_in_the_domain_xml_are_left_alone(host: FakeHost) -> None:
    xml = XML.replace(f"<target dev='{TAP_OVS}'/>", "<target dev='tap$(touch PWNED);*'/>")
    host.domain(DOMAIN, INSTANCE, "shut off")
    host.domain_xml(DOMAIN, xml)
    result = host.run(offline_script(host), INSTANCE, *HOST_ARGS, "--execute")
    assert result.returncode == 4, result.output
    assert "is not a plain interface name: left alone" in result.stdout
    assert not any("PWNED" in call for call in destructive(result.calls))
    assert not list(host.root.rglob("PWNED"))
