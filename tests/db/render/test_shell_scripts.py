"""The generated compute script, run for real against a simulated compute node.

PATH holds only the stand-ins (tests/standins) and harmless utilities; the stand-ins
record every call and simulate libvirt, links, OVS, iSCSI and multipath from files,
so the script's existence checks see a realistic host. What is asserted is what a
safe script must do: nothing in a dry run, the right calls in the right order with
--execute, nothing destructive the second time, and refusal on the wrong host or a
domain that is not this instance.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from generator.plan.model import ControllerActions
from tests.shell_fixtures.fakehost import ALL_STANDINS, FakeHost, destructive
from tests.shell_fixtures.scenarios import (
    BUNDLE,
    CREDENTIALS,
    DOMAIN,
    IMAGE,
    INSTANCE,
    IQN,
    IQN_MPATH,
    IQN_SHARED,
    NET,
    OTHER_INSTANCE,
    P_BRIDGE,
    P_HYBRID,
    P_OVS,
    P_VHU,
    PORTAL_A,
    PORTAL_B,
    V_ISCSI,
    V_RBD,
    VIFS,
    VOLUMES,
    api_objects,
    cleanup,
    controller_script,
    instance_dirs,
    iscsi_steps,
    script_for,
    shellcheck,
    tap,
)

X = P_HYBRID[:11]
UNDEFINE = f"virsh undefine --nvram {INSTANCE}"


@pytest.fixture
def host(tmp_path: Path) -> FakeHost:
    return FakeHost(tmp_path)


# ---- lint -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vifs", "volumes"),
    [((name,), ()) for name in VIFS]
    + [((), (name,)) for name in VOLUMES]
    + [((), ()), (tuple(VIFS), tuple(VOLUMES))],
    ids=[*VIFS, *VOLUMES, "nothing", "everything"],
)
def test_generated_compute_script_passes_shellcheck(host: FakeHost, vifs, volumes) -> None:
    result = shellcheck(script_for(host, cleanup(host, vifs, volumes)))
    assert result.returncode == 0, result.stdout + result.stderr


# ---- VIF types ----------------------------------------------------------------------------

VIF_EXPECTED = {
    "ovs_hybrid": [
        f"brctl delif qbr{X} tap{X}",
        f"ip link set qbr{X} down",
        f"brctl delbr qbr{X}",
        f"ip link delete qvb{X}",
        f"ovs-vsctl --timeout=30 --if-exists del-port br-int qvo{X}",
        f"ip link delete tap{X}",
    ],
    "ovs": [
        f"ovs-vsctl --timeout=30 --if-exists del-port br-int {tap(P_OVS)}",
        f"ip link delete {tap(P_OVS)}",
    ],
    "bridge": [f"ip link delete {tap(P_BRIDGE)}"],
    "vhostuser": [f"ovs-vsctl --timeout=30 --if-exists del-port br-int vhu{P_VHU[:11]}"],
    "other": [],
}


@pytest.mark.parametrize("kind", list(VIFS))
def test_vif_cleanup_with_a_shut_off_domain(host: FakeHost, kind: str) -> None:
    """Stale plumbing next to a shut-off domain: every piece removed, in order, once."""
    plan = cleanup(host, vifs=(kind,))
    host.domain(DOMAIN, INSTANCE, "shut off")
    script = script_for(host, plan)

    first = host.run(script, "--execute")
    assert first.returncode == 0, first.output
    assert destructive(first.calls) == [*VIF_EXPECTED[kind], UNDEFINE]
    assert host.domain_state(DOMAIN) is None
    if kind == "bridge":
        assert host.links() == {f"brq{NET[:11]}"}  # the network's bridge is shared: kept
    else:
        assert host.links() == set()
    assert host.ovs_ports() == set()
    if kind == "vhostuser":
        assert not Path(plan.vifs[0].socket_path).exists()

    second = host.run(script, "--execute")
    assert second.returncode == 0, second.output
    assert destructive(second.calls) == []
    assert "Nothing to do: everything is already clean." in second.stdout


def test_running_domain_is_destroyed_before_unplugging(host: FakeHost) -> None:
    plan = cleanup(host, vifs=("ovs_hybrid",))
    host.domain(DOMAIN, INSTANCE, "running", ifaces=[f"tap{X}"])
    result = host.run(script_for(host, plan), "--execute")
    assert result.returncode == 0, result.output
    # destroying the domain removes its tap, so there is nothing left to delif
    assert destructive(result.calls) == [
        f"virsh destroy {INSTANCE}",
        f"ip link set qbr{X} down",
        f"brctl delbr qbr{X}",
        f"ip link delete qvb{X}",
        f"ovs-vsctl --timeout=30 --if-exists del-port br-int qvo{X}",
        UNDEFINE,
    ]
    assert host.links() == set()


def test_without_brctl_the_bridge_goes_with_iproute2(host: FakeHost) -> None:
    plan = cleanup(host, vifs=("ovs_hybrid",))
    host.make_path(tuple(name for name in ALL_STANDINS if name != "brctl"))
    result = host.run(script_for(host, plan), "--execute")
    assert result.returncode == 0, result.output
    assert destructive(result.calls)[:3] == [
        f"ip link set tap{X} nomaster",
        f"ip link set qbr{X} down",
        f"ip link delete qbr{X} type bridge",
    ]
    assert host.links() == set()


def test_port_used_by_another_domain_is_left_alone(host: FakeHost) -> None:
    plan = cleanup(host, vifs=("ovs",))
    host.domain("instance-00000063", OTHER_INSTANCE, "running", ifaces=[tap(P_OVS)])
    result = host.run(script_for(host, plan), "--execute")
    assert result.returncode == 4
    assert f"{tap(P_OVS)} is used by libvirt domain {OTHER_INSTANCE}" in result.stdout
    assert destructive(result.calls) == []
    assert tap(P_OVS) in host.links()


def test_vhostuser_path_that_is_not_a_socket_is_left_alone(host: FakeHost) -> None:
    plan = cleanup(host, vifs=("vhostuser",))
    path = Path(plan.vifs[0].socket_path)
    path.unlink()
    path.write_text("not a socket")
    result = host.run(script_for(host, plan), "--execute")
    assert result.returncode == 4
    assert "exists but is not a socket" in result.stdout
    assert path.read_text() == "not a socket"


# ---- volume types ---------------------------------------------------------------------------

VOLUME_EXPECTED = {
    # (destructive calls, SCSI disks deleted through sysfs)
    "iscsi_single": (iscsi_steps(IQN, PORTAL_A), {"sdb"}),
    "iscsi_multipath": (
        ["multipath -f mpatha", *iscsi_steps(IQN_MPATH, PORTAL_A), *iscsi_steps(IQN_MPATH, PORTAL_B)],
        {"sdc", "sdd"},
    ),
    "iscsi_shared_target": ([], {"sde"}),
    "rbd": ([], set()),
    "nfs": ([], set()),
    "fibre_channel": (["multipath -f mpathb"], {"sdg", "sdh"}),
}


@pytest.mark.parametrize("kind", list(VOLUMES))
def test_volume_cleanup(host: FakeHost, kind: str) -> None:
    plan = cleanup(host, volumes=(kind,))
    script = script_for(host, plan)
    calls, disks = VOLUME_EXPECTED[kind]

    first = host.run(script, "--execute")
    assert first.returncode == 0, first.output
    assert destructive(first.calls) == calls
    assert host.deleted_disks() == disks
    lines = first.stdout.splitlines()
    if "multipath" in kind or kind == "fibre_channel":
        flush = next(i for i, line in enumerate(lines) if "RUN: multipath -f" in line)
        deletes = [i for i, line in enumerate(lines) if re.search(r"RUN: echo 1 > .*/device/delete", line)]
        assert deletes and flush < min(deletes)  # map flushed before its paths go

    host.settle_kernel()
    second = host.run(script, "--execute")
    assert second.returncode == 0, second.output
    assert destructive(second.calls) == []
    assert host.deleted_disks() == set()
    assert "Nothing to do: everything is already clean." in second.stdout


def test_shared_target_keeps_the_session_for_the_other_lun(host: FakeHost) -> None:
    plan = cleanup(host, volumes=("iscsi_shared_target",))
    result = host.run(script_for(host, plan), "--execute")
    assert result.returncode == 0, result.output
    assert f"{IQN_SHARED} at {PORTAL_A} still has LUN(s) 8 attached (shared target)" in result.stdout
    assert host.iscsi_sessions() == [f"4 {IQN_SHARED} {PORTAL_A}"]
    assert host.iscsi_nodes() == {f"{IQN_SHARED}@{PORTAL_A}"}
    assert (
        host.state / "iscsi/nodes" / f"{IQN_SHARED}@{PORTAL_A}"
    ).read_text() == "node.startup = automatic\n"
    assert host.deleted_disks() == {"sde"}  # sdf, the other instance's LUN, untouched


def test_nfs_and_rbd_touch_nothing(host: FakeHost) -> None:
    plan = cleanup(host, volumes=("nfs", "rbd"))
    result = host.run(script_for(host, plan), "--execute")
    assert result.returncode == 0, result.output
    assert (
        "NFS share 10.0.0.9:/srv/cinder is shared with every other volume on it: not unmounted"
        in result.stdout
    )
    assert "RBD (librbd inside qemu): nothing on the host" in result.stdout
    assert not any(call.startswith(("iscsiadm", "multipath")) for call in result.calls)


def test_multipath_map_with_a_foreign_path_is_not_flushed(host: FakeHost) -> None:
    plan = cleanup(host, volumes=("iscsi_multipath",))
    host.scsi_disk("sdz", "9:0:0:1")
    (host.sysfs / "block/dm-0/slaves/sdz").touch()
    result = host.run(script_for(host, plan), "--execute")
    assert result.returncode == 4
    assert "multipath map mpatha also has path sdz, which is not this volume's" in result.stdout
    assert destructive(result.calls) == []
    assert host.deleted_disks() == set()


def test_disk_of_another_domain_is_left_connected(host: FakeHost) -> None:
    """Multi-attach: the same LUN backs a disk of another instance on this host."""
    plan = cleanup(host, volumes=("iscsi_single",))
    host.domain("instance-00000063", OTHER_INSTANCE, "running", disks=[("vdb", "/dev/sdb")])
    result = host.run(script_for(host, plan), "--execute")
    assert result.returncode == 4
    assert f"sdb is a disk of libvirt domain {OTHER_INSTANCE}" in result.stdout
    assert destructive(result.calls) == []
    assert host.deleted_disks() == set()


# ---- dry run, idempotence ---------------------------------------------------------------------


def test_dry_run_changes_nothing_and_only_reads(host: FakeHost) -> None:
    plan = cleanup(host, tuple(VIFS), tuple(VOLUMES))
    host.domain(DOMAIN, INSTANCE, "running", ifaces=[tap(P_OVS)])
    instance_dirs(host)
    before = host.snapshot()

    result = host.run(script_for(host, plan))
    assert result.returncode == 0, result.output
    assert destructive(result.calls) == []
    assert host.snapshot() == before
    for shown in (
        f"DRY-RUN: virsh destroy {INSTANCE}",
        f"DRY-RUN: brctl delbr qbr{X}",
        "DRY-RUN: multipath -f mpatha",
        f"DRY-RUN: iscsiadm -m node -T {IQN} -p {PORTAL_A} --logout",
        f"DRY-RUN: mv -T -- {host.instances}/{INSTANCE}_resize",
        f"DRY-RUN: virsh undefine --nvram {INSTANCE}",
    ):
        assert shown in result.stdout
    assert not re.search(r"^\S+ RUN: ", result.stdout, re.MULTILINE)
    assert "change(s) would be made; nothing was changed" in result.stdout


def test_everything_at_once_then_nothing(host: FakeHost) -> None:
    plan = cleanup(host, tuple(VIFS), tuple(VOLUMES))
    host.domain(DOMAIN, INSTANCE, "running", ifaces=[tap(P_OVS)])
    instance_dirs(host)
    script = script_for(host, plan)

    first = host.run(script, "--execute")
    assert first.returncode == 0, first.output
    calls = destructive(first.calls)
    assert calls[0] == f"virsh destroy {INSTANCE}" and calls[-1] == UNDEFINE
    host.settle_kernel()
    after_first = host.snapshot()

    second = host.run(script, "--execute")
    assert second.returncode == 0, second.output
    assert destructive(second.calls) == []
    assert host.snapshot() == after_first
    assert "Nothing to do: everything is already clean." in second.stdout

    log = (host.logs / f"{BUNDLE}-compute.log").read_text()
    assert f"RUN: virsh destroy {INSTANCE}" in log and "Nothing to do" in log
    assert "FAILED" not in log and "ATTENTION" not in log
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", line) for line in log.splitlines())


def test_a_failing_command_stops_the_run_and_a_rerun_resumes(host: FakeHost) -> None:
    plan = cleanup(host, vifs=("ovs",))
    host.domain(DOMAIN, INSTANCE, "shut off")
    (host.state / "net/links" / tap(P_OVS)).write_text("stuck=1\n")
    script = script_for(host, plan)

    failed = host.run(script, "--execute")
    assert failed.returncode == 2
    assert "RTNETLINK answers: Operation not permitted" in failed.stdout
    assert re.search(rf"FAILED \(exit 2\) at line \d+: ip link delete {tap(P_OVS)}\n", failed.stdout)
    assert destructive(failed.calls) == [
        f"ovs-vsctl --timeout=30 --if-exists del-port br-int {tap(P_OVS)}",
        f"ip link delete {tap(P_OVS)}",
    ]
    assert host.domain_state(DOMAIN) == "shut off"  # nothing after the failure ran

    (host.state / "net/links" / tap(P_OVS)).write_text("")
    resumed = host.run(script, "--execute")
    assert resumed.returncode == 0, resumed.output
    assert destructive(resumed.calls) == [f"ip link delete {tap(P_OVS)}", UNDEFINE]


# ---- host and domain checks ---------------------------------------------------------------


def test_wrong_host_is_refused_before_anything_else(tmp_path: Path) -> None:
    h = FakeHost(tmp_path, hostname="compute-2", fqdn="compute-2.example.org")
    plan = cleanup(h, ("ovs_hybrid",), ("iscsi_single",))
    h.domain(DOMAIN, INSTANCE, "running")
    result = h.run(script_for(h, plan), "--execute")
    assert result.returncode == 3
    assert "REFUSED: this script is for host compute-1, but this host is 'compute-2'" in result.stdout
    assert result.calls == ["hostname ", "hostname -f"]
    assert h.domain_state(DOMAIN) == "running"


def test_host_matches_by_fqdn_case_insensitively(tmp_path: Path) -> None:
    h = FakeHost(tmp_path, hostname="node7", fqdn="COMPUTE-1.Example.ORG")
    plan = dataclasses.replace(cleanup(h), host="compute-1.example.org")
    result = h.run(script_for(h, plan), "--execute")
    assert result.returncode == 0, result.output
    assert "host: this is compute-1.example.org" in result.stdout


def test_domain_with_another_uuid_is_refused(host: FakeHost) -> None:
    """The name is reused by a different VM: touch nothing at all."""
    plan = cleanup(host, ("ovs",), ("iscsi_single",))
    host.domain(DOMAIN, OTHER_INSTANCE, "running", ifaces=[tap(P_OVS)])
    instance_dirs(host)
    before = host.snapshot()
    result = host.run(script_for(host, plan), "--execute")
    assert result.returncode == 3
    assert f"domain {DOMAIN} has UUID '{OTHER_INSTANCE}', not {INSTANCE}: a different VM" in result.stdout
    assert destructive(result.calls) == []
    assert host.snapshot() == before


def test_domain_found_only_by_uuid_is_handled_by_uuid(host: FakeHost) -> None:
    plan = cleanup(host)
    host.domain("renamed-vm", INSTANCE, "paused")
    result = host.run(script_for(host, plan), "--execute")
    assert result.returncode == 0, result.output
    assert "defined as 'renamed-vm': using the UUID" in result.stdout
    assert destructive(result.calls) == [f"virsh destroy {INSTANCE}", UNDEFINE]
    assert host.domain_state("renamed-vm") is None


def test_missing_domain_skips_libvirt_steps(host: FakeHost) -> None:
    plan = cleanup(host, ("bridge",))
    result = host.run(script_for(host, plan), "--execute")
    assert result.returncode == 0, result.output
    assert "libvirt steps skipped" in result.stdout
    assert destructive(result.calls) == [f"ip link delete {tap(P_BRIDGE)}"]


def test_undefine_falls_back_when_nvram_is_refused(host: FakeHost) -> None:
    plan = cleanup(host)
    host.domain(DOMAIN, INSTANCE, "shut off")
    (host.state / "virsh/nvram_unsupported").touch()
    result = host.run(script_for(host, plan), "--execute")
    assert result.returncode == 0, result.output
    assert destructive(result.calls) == [UNDEFINE, f"virsh undefine {INSTANCE}"]
    assert host.domain_state(DOMAIN) is None


def test_unreachable_libvirt_is_refused(host: FakeHost) -> None:
    plan = cleanup(host, ("ovs",))
    (host.state / "virsh/down").touch()
    result = host.run(script_for(host, plan), "--execute")
    assert result.returncode == 3
    assert "cannot talk to libvirt" in result.stdout
    assert destructive(result.calls) == []


# ---- instance files -------------------------------------------------------------------------


def test_instance_dirs_are_quarantined(host: FakeHost) -> None:
    plan = cleanup(host)
    instance_dirs(host)
    script = script_for(host, plan)
    result = host.run(script, "--execute")
    assert result.returncode == 0, result.output
    quarantine = host.instances / ".fixpack-quarantine" / BUNDLE
    for suffix in ("", "_resize", "_del"):
        assert not (host.instances / f"{INSTANCE}{suffix}").exists()
        assert (
            quarantine / f"{INSTANCE}{suffix}" / "disk"
        ).read_text() == f"disk of {suffix or 'the instance'}\n"
    assert oct(quarantine.stat().st_mode & 0o777) == "0o700"
    again = host.run(script, "--execute")
    assert again.returncode == 0 and "Nothing to do" in again.stdout


def test_instance_dirs_to_a_chosen_quarantine(host: FakeHost) -> None:
    plan = cleanup(host)
    instance_dirs(host, ("",))
    elsewhere = host.root / "held"
    result = host.run(script_for(host, plan), "--execute", "--quarantine", str(elsewhere))
    assert result.returncode == 0, result.output
    assert (elsewhere / INSTANCE / "console.log").exists()


def test_delete_files_removes_only_real_instance_dirs(host: FakeHost) -> None:
    plan = cleanup(host)
    instance_dirs(host, ("", "_resize"))
    outside = host.root / "precious"
    outside.mkdir()
    (outside / "data").write_text("keep")
    (host.instances / f"{INSTANCE}_del").symlink_to(outside)
    result = host.run(script_for(host, plan), "--execute", "--delete-files")
    assert result.returncode == 4
    assert not (host.instances / INSTANCE).exists()
    assert not (host.instances / f"{INSTANCE}_resize").exists()
    assert f"{INSTANCE}_del is a symlink: left alone" in result.stdout
    assert (outside / "data").read_text() == "keep"
    assert f"RUN: rm -rf --one-file-system -- {host.instances}/{INSTANCE}" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--help"], 0, "Usage: compute-compute-1.sh [--execute] [--delete-files] [--quarantine DIR]"),
        (["--bogus"], 2, "unknown argument: --bogus"),
        (["--delete-files", "--quarantine", "/srv/q"], 2, "exclude each other"),
        (["--quarantine", "relative/dir"], 2, "absolute directory"),
        (["--quarantine"], 2, "needs a directory"),
    ],
)
def test_command_line(host: FakeHost, args, code, needle) -> None:
    result = host.run(script_for(host, cleanup(host)), *args)
    assert result.returncode == code
    assert needle in result.output
    assert destructive(result.calls) == []


# ---- controller script ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "actions",
    [
        ControllerActions(),
        ControllerActions(False, (P_OVS, P_HYBRID), IMAGE, (V_ISCSI,), INSTANCE),
        ControllerActions(True, (P_OVS,), None, (), INSTANCE),
        ControllerActions(False, (), None, (), INSTANCE, (P_BRIDGE,)),
        ControllerActions(instance_uuid=INSTANCE, volumes_to_delete=(V_ISCSI, V_RBD)),
    ],
    ids=["nothing", "ports-image-volumes", "memcached", "preserved-port", "delete-on-termination"],
)
def test_generated_controller_script_passes_shellcheck(host: FakeHost, actions) -> None:
    result = shellcheck(controller_script(host, actions))
    assert result.returncode == 0, result.stdout + result.stderr


def test_controller_dry_run_execute_and_rerun(host: FakeHost) -> None:
    actions = ControllerActions(False, (P_OVS, P_HYBRID), IMAGE, (V_ISCSI,), INSTANCE)
    api_objects(host, {P_OVS: INSTANCE}, {IMAGE: f"{INSTANCE}-shelved"})  # P_HYBRID: already gone
    script = controller_script(host, actions)

    dry = host.run(script, env=CREDENTIALS)
    assert dry.returncode == 0, dry.output
    assert destructive(dry.calls) == []
    assert f"DRY-RUN: openstack port delete {P_OVS}" in dry.stdout
    assert f"DRY-RUN: openstack image delete {IMAGE}" in dry.stdout
    assert f"port {P_HYBRID} does not exist (already deleted)" in dry.stdout

    run = host.run(script, "--execute", env=CREDENTIALS)
    assert run.returncode == 0, run.output
    assert destructive(run.calls) == [f"openstack port delete {P_OVS}", f"openstack image delete {IMAGE}"]
    assert f"HINT: openstack server remove volume {INSTANCE} {V_ISCSI}" in run.stdout
    assert not any("server remove" in call or call.startswith("cinder") for call in run.calls)
    assert "console tokens: release 2024.1 keeps them in the cell database" in run.stdout

    again = host.run(script, "--execute", env=CREDENTIALS)
    assert again.returncode == 0, again.output
    assert destructive(again.calls) == []
    assert "Nothing to do: everything is already clean." in again.stdout


def test_controller_deletes_delete_on_termination_volumes_once_detached(host: FakeHost) -> None:
    """Nova's delete deletes them through Cinder's API once the attachment is ended (the SQL apply)."""
    volumes = host.state / "openstack/volume"
    volumes.mkdir()
    (volumes / V_ISCSI).write_text("in-use\n")  # the apply has not run yet
    (volumes / V_RBD).write_text("available\n")
    script = controller_script(
        host, ControllerActions(instance_uuid=INSTANCE, volumes_to_delete=(V_ISCSI, V_RBD))
    )

    early = host.run(script, "--execute", env=CREDENTIALS)
    assert early.returncode == 4, early.output
    assert f"volume {V_ISCSI} is 'in-use', not available: run the SQL apply first" in early.stdout
    assert destructive(early.calls) == [f"openstack volume delete {V_RBD}"]

    (volumes / V_ISCSI).write_text("available\n")
    done = host.run(script, "--execute", env=CREDENTIALS)
    assert done.returncode == 0, done.output
    assert destructive(done.calls) == [f"openstack volume delete {V_ISCSI}"]
    assert f"volume {V_RBD} does not exist (already deleted)" in done.stdout

    again = host.run(script, "--execute", env=CREDENTIALS)
    assert again.returncode == 0 and destructive(again.calls) == [], again.output


def test_controller_keeps_a_port_bound_to_another_device(host: FakeHost) -> None:
    api_objects(host, {P_OVS: OTHER_INSTANCE}, {})
    script = controller_script(host, ControllerActions(neutron_ports=(P_OVS,), instance_uuid=INSTANCE))
    result = host.run(script, "--execute", env=CREDENTIALS)
    assert result.returncode == 4
    assert f"port {P_OVS} is bound to device {OTHER_INSTANCE}, not to this instance" in result.stdout
    assert destructive(result.calls) == []


def test_controller_never_deletes_a_port_created_outside_nova(host: FakeHost) -> None:
    api_objects(host, {P_OVS: INSTANCE, P_BRIDGE: INSTANCE}, {})
    actions = ControllerActions(neutron_ports=(P_OVS,), preserved_ports=(P_BRIDGE,), instance_uuid=INSTANCE)
    result = host.run(controller_script(host, actions), "--execute", env=CREDENTIALS)
    assert result.returncode == 0, result.output
    assert destructive(result.calls) == [f"openstack port delete {P_OVS}"]
    assert f"port {P_BRIDGE} was created outside Nova (preserve_on_delete): kept" in result.stdout
    assert (
        f"HINT: to release it for reuse: openstack port set --device '' --device-owner '' {P_BRIDGE}"
        in result.stdout
    )
    assert "credentials loaded (cloud admin)" in result.stdout


def test_controller_needs_client_and_credentials_to_execute(host: FakeHost) -> None:
    api_objects(host, {P_OVS: INSTANCE}, {})
    script = controller_script(host, ControllerActions(neutron_ports=(P_OVS,), instance_uuid=INSTANCE))
    refused = host.run(script, "--execute")
    assert refused.returncode == 3
    assert "no credentials are loaded (neither OS_CLOUD nor OS_AUTH_URL is set)" in refused.stdout
    assert refused.calls == []
    dry = host.run(script)
    assert dry.returncode == 0 and f"DRY-RUN: openstack port delete {P_OVS}  (not looked up)" in dry.stdout
    host.make_path(tuple(name for name in ALL_STANDINS if name != "openstack"))
    missing = host.run(script, "--execute", env={"OS_AUTH_URL": "https://keystone:5000/v3"})
    assert missing.returncode == 3 and "openstack client is not installed" in missing.stdout


def test_controller_memcached_tokens_only_when_the_release_used_them(host: FakeHost) -> None:
    modern = controller_script(host, ControllerActions(instance_uuid=INSTANCE))
    result = host.run(modern, "--execute", "ctl1", env=CREDENTIALS)
    assert result.returncode == 0, result.output
    assert "no release in fixpack's catalog (Xena and later) keeps them in memcached" in result.stdout
    assert not any(call.startswith("nc ") for call in result.calls)

    legacy = controller_script(
        host, ControllerActions(memcached_tokens=True, instance_uuid=INSTANCE), "queens"
    )
    dry = host.run(legacy, "ctl1", "10.0.0.12")
    assert dry.returncode == 0 and dry.calls == []
    assert f"DRY-RUN: echo 'delete {INSTANCE}' | nc -w 3 ctl1 11211" in dry.stdout
    run = host.run(legacy, "--execute", "ctl1", "10.0.0.12")
    assert run.returncode == 0, run.output
    assert run.calls == [
        f"nc -w 3 ctl1 11211 <<< delete {INSTANCE}",
        f"nc -w 3 10.0.0.12 11211 <<< delete {INSTANCE}",
    ]
    assert host.run(legacy, "--execute").returncode == 4  # no controller named: nothing silently skipped
    hostile = host.run(legacy, "--execute", "ctl1;reboot")
    assert hostile.returncode == 2 and hostile.calls == []
