"""A fake compute node for running the generated shell scripts for real.

The scripts run with PATH holding only the stand-ins in tests/standins (virsh, ip,
brctl, ovs-vsctl, iscsiadm, multipath, hostname, openstack, nc) and an allow-list
of harmless utilities, so a missing stand-in is "command not found", never the real
tool acting as root on the test machine. The stand-ins record every call (one argv
per line in calls.log) and simulate the host from files in the state directory;
sysfs is a small tree at FIXPACK_SYSFS_ROOT; instances_path is a temp directory.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

STANDINS = Path(__file__).resolve().parent.parent / "standins"
ALL_STANDINS = tuple(sorted(p.name for p in STANDINS.iterdir() if p.is_file()))
UTILITIES = (
    "bash", "cat", "date", "mkdir", "mktemp", "mv", "rm", "tr", "awk", "sed", "sort", "tail",
    "head", "readlink", "realpath", "stat", "getent", "grep", "touch", "ls", "dirname", "basename",
    "timeout", "sha256sum",
)  # fmt: skip

# Calls that change a host or cloud; everything else the stand-ins answer is read-only.
DESTRUCTIVE = re.compile(
    r"^(virsh (destroy|undefine)|ip (-o )?link (delete|set)|brctl (delif|delbr)|ovs-vsctl .*del-port"
    r"|iscsiadm .*(--op (update|delete)|--logout)|multipath -f|openstack \S+ (delete|set)|nc "
    r"|nova-manage volume_attachment refresh)"
)


def destructive(calls: list[str]) -> list[str]:
    return [call for call in calls if DESTRUCTIVE.match(call)]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    calls: list[str]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class FakeHost:
    """State directory, sysfs tree and instances path of one simulated host."""

    def __init__(self, root: Path, hostname: str = "compute-1", fqdn: str | None = "compute-1.example.org"):
        self.root = root
        self.state = root / "state"
        self.sysfs = root / "sys"
        self.instances = root / "instances"
        self.logs = root / "log"
        self.bin = root / "bin"
        for d in (self.state / "virsh/domains", self.state / "net/links", self.state / "ovs/ports"):
            d.mkdir(parents=True)
        for d in (self.state / "iscsi/nodes", self.state / "openstack/port", self.state / "openstack/image"):
            d.mkdir(parents=True)
        for d in (self.sysfs / "block", self.sysfs / "devices", self.sysfs / "class/scsi_device"):
            d.mkdir(parents=True)
        (self.sysfs / "class/fc_transport").mkdir()
        self.instances.mkdir()
        (self.state / "calls.log").touch()
        (self.state / "hostname").write_text(hostname + "\n")
        if fqdn:
            (self.state / "hostname_f").write_text(fqdn + "\n")
        self.make_path(ALL_STANDINS)

    # ---- the PATH the scripts see ---------------------------------------------------
    def make_path(self, standins: tuple[str, ...]) -> None:
        """Rebuild the bin dir: the given stand-ins plus the utility allow-list."""
        shutil.rmtree(self.bin, ignore_errors=True)
        self.bin.mkdir()
        for name in standins:
            (self.bin / name).symlink_to(STANDINS / name)
        for name in UTILITIES:
            real = shutil.which(name, path="/usr/bin:/bin")
            assert real, f"test host lacks {name}"
            (self.bin / name).symlink_to(real)

    # ---- libvirt ---------------------------------------------------------------------
    def domain(self, name: str, uuid: str, state: str = "running", ifaces=(), disks=()) -> None:
        d = self.state / "virsh/domains" / name
        d.mkdir()
        (d / "uuid").write_text(uuid + "\n")
        (d / "state").write_text(state + "\n")
        (d / "ifaces").write_text("".join(f"{i} bridge br-int virtio fa:16:3e:00:00:99\n" for i in ifaces))
        (d / "disks").write_text("".join(f"{target} {source}\n" for target, source in disks))

    def domain_xml(self, name: str, xml: str) -> None:
        """The definition `virsh dumpxml` prints for a domain (else one is made from its lists)."""
        (self.state / "virsh/domains" / name / "domain.xml").write_text(xml)

    def domain_state(self, name: str) -> str | None:
        f = self.state / "virsh/domains" / name / "state"
        return f.read_text().strip() if f.exists() else None

    # ---- network ---------------------------------------------------------------------
    def link(self, dev: str, master: str | None = None, peer: str | None = None) -> None:
        lines = [f"master={master}"] if master else []
        lines += [f"peer={peer}"] if peer else []
        (self.state / "net/links" / dev).write_text("".join(line + "\n" for line in lines))

    def links(self) -> set[str]:
        return {p.name for p in (self.state / "net/links").iterdir()}

    def ovs_port(self, port: str, bridge: str = "br-int", **external_ids: str) -> None:
        """An OVS port; external_ids as os-vif sets them (iface_id=..., vm_uuid=... -> iface-id, vm-uuid)."""
        (self.state / "ovs/ports" / port).write_text(bridge + "\n")
        if external_ids:
            (self.state / "ovs/external_ids").mkdir(exist_ok=True)
            lines = "".join(f"{k.replace('_', '-')}={v}\n" for k, v in external_ids.items())
            (self.state / "ovs/external_ids" / port).write_text(lines)

    def ovs_ports(self) -> set[str]:
        return {p.name for p in (self.state / "ovs/ports").iterdir()}

    # ---- SCSI, iSCSI, FC, multipath ------------------------------------------------------
    def scsi_disk(self, disk: str, hctl: str) -> None:
        dev = self.sysfs / "devices" / hctl
        (dev / "block" / disk).mkdir(parents=True)
        (dev / "delete").touch()
        (self.sysfs / "block" / disk / "holders").mkdir(parents=True)
        (self.sysfs / "block" / disk / "device").symlink_to(Path("../../devices") / hctl)
        (self.sysfs / "class/scsi_device" / hctl).mkdir()
        (self.sysfs / "class/scsi_device" / hctl / "device").symlink_to(Path("../../../devices") / hctl)

    def deleted_disks(self) -> set[str]:
        """Disks whose sysfs device/delete was written with 1."""
        return {
            blk.name
            for dev in (self.sysfs / "devices").iterdir()
            if (dev / "delete").read_text().strip() == "1"
            for blk in (dev / "block").iterdir()
        }

    def iscsi_session(self, sid: int, iqn: str, portal: str, luns: dict[int, str | None]) -> None:
        """A logged-in session and its LUNs (lun -> disk name, None for a LUN without disk)."""
        with (self.state / "iscsi/sessions").open("a") as f:
            f.write(f"{sid} {iqn} {portal}\n")
        with (self.state / "iscsi/luns").open("a") as f:
            for lun, disk in luns.items():
                f.write(f"{iqn} {portal} {lun} {disk or '-'}\n")
                if disk:
                    self.scsi_disk(disk, f"{sid}:0:0:{lun}")
        self.iscsi_node(iqn, portal)

    def iscsi_node(self, iqn: str, portal: str) -> None:
        (self.state / "iscsi/nodes" / f"{iqn}@{portal}").write_text("node.startup = automatic\n")

    def iscsi_nodes(self) -> set[str]:
        return {p.name for p in (self.state / "iscsi/nodes").iterdir()}

    def iscsi_sessions(self) -> list[str]:
        path = self.state / "iscsi/sessions"
        return path.read_text().splitlines() if path.exists() else []

    def multipath_map(self, dm: str, name: str, slaves: tuple[str, ...]) -> None:
        base = self.sysfs / "block" / dm
        (base / "dm").mkdir(parents=True)
        (base / "dm/name").write_text(name + "\n")
        (base / "dm/uuid").write_text(f"mpath-3600a0980{name}\n")
        (base / "holders").mkdir()
        (base / "slaves").mkdir()
        for slave in slaves:
            (base / "slaves" / slave).touch()
            (self.sysfs / "block" / slave / "holders" / dm).touch()

    def fc_target(self, hct: str, wwn: str) -> None:
        target = self.sysfs / "class/fc_transport" / f"target{hct}"
        target.mkdir()
        (target / "port_name").write_text(f"0x{wwn}\n")

    def settle_kernel(self) -> None:
        """What the kernel does after `echo 1 > device/delete`: the disk disappears."""
        for dev in list((self.sysfs / "devices").iterdir()):
            if (dev / "delete").read_text().strip() != "1":
                continue
            for blk in (dev / "block").iterdir():
                shutil.rmtree(self.sysfs / "block" / blk.name)
                for slave in (self.sysfs / "block").glob(f"dm-*/slaves/{blk.name}"):
                    slave.unlink()
            shutil.rmtree(self.sysfs / "class/scsi_device" / dev.name)
            shutil.rmtree(dev)

    # ---- running ---------------------------------------------------------------------
    def calls(self) -> list[str]:
        return (self.state / "calls.log").read_text().splitlines()

    def run(self, script: Path, *args: str, env: dict[str, str] | None = None) -> Result:
        """Run a script with only stand-ins on PATH; return its output and the calls it made."""
        (self.state / "calls.log").write_text("")
        environment = {
            "PATH": str(self.bin),
            "HOME": str(self.root),
            "TMPDIR": str(self.root),
            "LC_ALL": "C",
            "FIXPACK_STANDIN_STATE": str(self.state),
            "FIXPACK_SYSFS_ROOT": str(self.sysfs),
            "FIXPACK_LOG_DIR": str(self.logs),
            **(env or {}),
        }
        proc = subprocess.run(
            [str(script), *args], env=environment, capture_output=True, text=True, timeout=120, check=False
        )
        return Result(proc.returncode, proc.stdout, proc.stderr, self.calls())

    def snapshot(self) -> dict[str, str]:
        """Everything on the fake host except the call log and the script logs."""
        found: dict[str, str] = {}
        for top in (self.state, self.sysfs, self.instances):
            for dirpath, dirnames, filenames in os.walk(top):
                for name in dirnames + filenames:
                    path = Path(dirpath) / name
                    rel = str(path.relative_to(self.root))
                    if rel == "state/calls.log":
                        continue
                    if path.is_symlink():
                        found[rel] = "-> " + os.readlink(path)
                    elif path.is_file():
                        found[rel] = path.read_text(errors="replace")
                    else:
                        found[rel] = "<dir>" if path.is_dir() else "<special>"
        return found


def write_script(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    path.chmod(0o755)
    return path
