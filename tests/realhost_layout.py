"""Instances laid out on a real compute node (tests/realhost.py) the way nova and os-vif leave them.

An instance is a libvirt domain (UEFI with NVRAM, its disk under /var/lib/nova/instances/UUID),
one OVS hybrid-plugged port per VIF — linux bridge qbrX with veth qvbX/qvoX, qvoX on br-int
with the external_ids os-vif sets, tapX created by libvirt in qbrX — and, per volume, a real
tgtd target with its LUN and the open-iscsi node record os-brick leaves (`iscsiadm -m node
--op new`, node.startup automatic). The logged-in session and the SCSI disk cannot exist here
(no iSCSI kernel support): the domain's by-path disk links to a private null device node sdX.
`state()` reads back everything a compute script may touch, from the real programs.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.realhost import Node

INSTANCES = "/var/lib/nova/instances"
NVRAM_DIR = "/var/lib/libvirt/qemu/nvram"
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


@dataclass(frozen=True)
class Port:
    id: str
    mac: str

    @property
    def suffix(self) -> str:
        return self.id[:11]

    @property
    def devices(self) -> tuple[str, str, str, str]:
        """tap, qbr, qvb, qvo: os-vif's hybrid-plug names."""
        return tuple(f"{kind}{self.suffix}" for kind in ("tap", "qbr", "qvb", "qvo"))  # type: ignore[return-value]


@dataclass(frozen=True)
class IscsiPath:
    iqn: str
    portal: str
    lun: int

    @property
    def by_path(self) -> str:
        return f"/dev/disk/by-path/ip-{self.portal}-iscsi-{self.iqn}-lun-{self.lun}"


@dataclass(frozen=True)
class Instance:
    uuid: str
    domain: str
    ports: tuple[Port, ...]
    volumes: tuple[IscsiPath, ...]

    @property
    def nvram(self) -> str:
        return f"{NVRAM_DIR}/{self.domain}_VARS.fd"

    @property
    def devices(self) -> set[str]:
        return {dev for port in self.ports for dev in port.devices}


def plug_hybrid(node: Node, instance: Instance, port: Port) -> None:
    """What os-vif's ovs plugin does for a hybrid plug (before libvirt adds the tap)."""
    _tap, qbr, qvb, qvo = port.devices
    node.sh(
        f"ip link add {qbr} type bridge && ip link set {qbr} up"
        f" && ip link add {qvb} type veth peer name {qvo}"
        f" && ip link set {qvb} up && ip link set {qvo} up && ip link set {qvb} master {qbr}"
    )
    node.run(
        "ovs-vsctl", "--timeout=10", "--", "--may-exist", "add-port", "br-int", qvo,
        "--", "set", "Interface", qvo,
        f"external_ids:iface-id={port.id}", "external_ids:iface-status=active",
        f"external_ids:attached-mac={port.mac}", f"external_ids:vm-uuid={instance.uuid}",
    )  # fmt: skip


def export_volume(node: Node, path: IscsiPath) -> None:
    """A tgtd target and LUN for the path, its portal address, and os-brick's node record."""
    existing = node.run("tgtadm", "--lld", "iscsi", "--op", "show", "--mode", "target").stdout
    tids = [line.split()[1].rstrip(":") for line in existing.splitlines() if line.startswith("Target ")]
    address = path.portal.rpartition(":")[0]
    if f" {address}/" not in node.run("ip", "-o", "addr", "show", "dev", "lo").stdout:
        node.run("ip", "addr", "add", f"{address}/32", "dev", "lo")
    if f": {path.iqn}\n" not in existing:
        tid = str(max((int(t) for t in tids), default=0) + 1)
        backing = node.directory / f"lun-{tid}.img"
        backing.write_bytes(b"\0" * 1024 * 1024)
        node.run("tgtadm", "--lld", "iscsi", "--op", "new", "--mode", "target", "--tid", tid, "-T", path.iqn)
        node.run(
            "tgtadm", "--lld", "iscsi", "--op", "new", "--mode", "logicalunit", "--tid", tid,
            "--lun", str(path.lun), "-b", str(backing),
        )  # fmt: skip
        node.run("tgtadm", "--lld", "iscsi", "--op", "bind", "--mode", "target", "--tid", tid, "-I", "ALL")
    node.run(
        "iscsiadm", "-m", "node", "-T", path.iqn, "-p", path.portal, "--interface", "default", "--op", "new"
    )  # fmt: skip
    node.run(
        "iscsiadm", "-m", "node", "-T", path.iqn, "-p", path.portal,
        "--op", "update", "-n", "node.startup", "-v", "automatic",
    )  # fmt: skip
    # Stands in for the SCSI disk a login would have made: a null device node of its own
    # (QEMU locks a disk by inode), in the node's private /dev, where udev would link it.
    disks = node.lines("bash", "-c", "ls /dev | grep -E '^sd[a-z]+$' || true")
    disk = "sd" + chr(ord("b") + len(disks))
    node.sh(f"mknod /dev/{disk} c 1 3 && mkdir -p /dev/disk/by-path && ln -sfn ../../{disk} '{path.by_path}'")


def domain_xml(instance: Instance) -> str:
    interfaces = "".join(
        f"""    <interface type='bridge'>
      <mac address='{port.mac}'/>
      <source bridge='{port.devices[1]}'/>
      <target dev='{port.devices[0]}'/>
      <model type='virtio'/>
    </interface>
"""
        for port in instance.ports
    )
    disks = "".join(
        f"""    <disk type='block' device='disk'>
      <driver name='qemu' type='raw'/>
      <source dev='{path.by_path}'/>
      <target dev='vd{chr(ord("b") + i)}' bus='virtio'/>
    </disk>
"""
        for i, path in enumerate(instance.volumes)
    )
    return f"""<domain type='qemu'>
  <name>{instance.domain}</name>
  <uuid>{instance.uuid}</uuid>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <loader readonly='yes' type='pflash'>{OVMF_CODE}</loader>
    <nvram template='{OVMF_VARS}'>{instance.nvram}</nvram>
  </os>
  <features><acpi/></features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{INSTANCES}/{instance.uuid}/disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>
{disks}{interfaces}  </devices>
</domain>
"""


def lay_out(node: Node, instance: Instance, *, extra_dirs: tuple[str, ...] = ()) -> None:
    """Instance directory, network plumbing, volumes, then the domain defined and started."""
    base = f"{INSTANCES}/{instance.uuid}"
    node.sh(f"mkdir -p {base} && truncate -s 1M {base}/disk && echo boot > {base}/console.log")
    for suffix in extra_dirs:  # _resize / _del left by a failed resize or delete
        node.sh(f"mkdir -p {base}{suffix} && echo old > {base}{suffix}/disk")
    for port in instance.ports:
        plug_hybrid(node, instance, port)
    for path in instance.volumes:
        export_volume(node, path)
    xml = node.directory / f"{instance.uuid}.xml"
    xml.write_text(domain_xml(instance))
    node.run("virsh", "define", str(xml))
    node.run("virsh", "start", instance.domain)


def leave_domain(node: Node, instance: Instance, how: str) -> None:
    """The domain as a failed delete left it: running, shut off (libvirt took the taps), or
    undefined (its NVRAM with it) while the plumbing, records and files stay."""
    if how in ("shut off", "undefined"):
        node.run("virsh", "destroy", instance.uuid)
    if how == "undefined":
        node.run("virsh", "undefine", "--nvram", instance.uuid)


def state(node: Node) -> dict[str, object]:
    """Everything a compute script may change, as the real programs report it."""
    domains = {}
    for uuid in node.lines("virsh", "list", "--all", "--uuid"):
        domains[uuid] = node.run("virsh", "domstate", uuid).stdout.strip()
    links = {}
    for line in node.lines("ip", "-o", "link", "show"):
        name = line.split(": ")[1].split("@")[0]
        master = line.split(" master ")[1].split()[0] if " master " in line else None
        links[name] = master
    ovs = {}
    for port in node.lines("ovs-vsctl", "list-ports", "br-int"):
        ovs[port] = node.run("ovs-vsctl", "get", "Interface", port, "external_ids").stdout.strip()
    records = node.run("iscsiadm", "-m", "node", check=False)
    return {
        "domains": domains,
        "links": links,
        "ovs": ovs,
        "iscsi_nodes": sorted(records.stdout.splitlines()) if records.returncode == 0 else [],
        "nvram": sorted(node.lines("ls", "-A", NVRAM_DIR)),
        "instances": sorted(node.lines("find", INSTANCES, "-mindepth", "1", "-maxdepth", "4")),
    }


def neighbour_intact(before: dict, after: dict, neighbour: Instance) -> None:
    """The other instance: running, its devices wired as before, its OVS port, record and files kept."""
    assert after["domains"].get(neighbour.uuid) == "running", after["domains"]
    for dev in neighbour.devices:
        assert dev in after["links"], f"{dev} of the neighbour is gone"
        assert after["links"][dev] == before["links"][dev], f"{dev} of the neighbour was re-wired"
    for port in neighbour.ports:
        qvo = port.devices[3]
        assert after["ovs"].get(qvo) == before["ovs"][qvo]
    kept = [rec for rec in before["iscsi_nodes"] if any(p.iqn in rec for p in neighbour.volumes)]
    assert kept and all(rec in after["iscsi_nodes"] for rec in kept)
    assert f"{INSTANCES}/{neighbour.uuid}/disk" in after["instances"]
    assert f"{neighbour.domain}_VARS.fd" in after["nvram"]
    assert "br-int" in after["links"]
