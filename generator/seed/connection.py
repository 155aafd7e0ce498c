"""Storage backends and the connection_info / connector JSON the attach flow writes.

Shapes follow the real code paths of the new-style (attachments API) attach:
- the driver's initialize_connection() returns {"driver_volume_type", "data": {...}}
  (cinder/volume/targets/iscsi.py, drivers/rbd.py, drivers/remotefs.py, FC zone drivers);
- the volume manager adds qos_specs/access_mode/encrypted/cacheable to `data`
  (_parse_connection_options), then FLATTENS it (data merged into the top level, plus
  attachment_id and, from 2025.1, enforce_multipath) — that flat dict is what
  cinder.volume_attachment.connection_info holds;
- nova's _translate_attachment_ref() rebuilds {"driver_volume_type", "data": ...} plus
  status/instance/attached_at/detached_at/volume_id, the libvirt volume driver adds
  `device_path` after os-brick connects, and DriverVolumeBlockDevice adds `serial`
  (and `multiattach`) — that is nova.block_device_mapping.connection_info.
"""

from __future__ import annotations

import hashlib
import uuid as uuidlib
from dataclasses import dataclass
from typing import Any

from generator.seed.values import at_least

Obj = dict[str, Any]

ISCSI_PORTALS = ("192.0.2.10:3260", "192.0.2.11:3260")
CEPH_MONS = ("192.0.2.41", "192.0.2.42", "192.0.2.43")
NFS_EXPORT = "192.0.2.20:/srv/nfs"
CEPH_SECRET_UUID = "457eb676-33da-42ec-9a8c-9293d545c337"


@dataclass(frozen=True)
class Backend:
    """One cinder-volume backend: its service host, pool and default volume type name."""

    protocol: str
    section: str
    pool: str
    default_type: str
    driver_volume_type: str

    @property
    def service_host(self) -> str:
        return f"cinder-vol@{self.section}"

    @property
    def volume_host(self) -> str:
        return f"{self.service_host}#{self.pool}"


BACKENDS = {
    "iscsi": Backend("iscsi", "lvm", "lvm", "lvmdriver-1", "iscsi"),
    "rbd": Backend("rbd", "ceph", "ceph", "ceph", "rbd"),
    "nfs": Backend("nfs", "nfs", NFS_EXPORT, "nfs", "nfs"),
    "fibre_channel": Backend("fibre_channel", "fc", "pool-a", "fc-gold", "fibre_channel"),
}


def _stable_hex(text: str, n: int) -> str:
    """Host identities (initiator, WWPNs) derived from the name, not the seeded RNG."""
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def host_wwpns(host: str) -> list[str]:
    return ["10" + _stable_hex(host + "p0", 14), "10" + _stable_hex(host + "p1", 14)]


def connector(host: str, ip: str, *, multipath: bool, mountpoint: str | None) -> Obj:
    """os-brick get_connector_properties() of a compute host, plus nova's mountpoint."""
    system_uuid = str(uuidlib.UUID(_stable_hex(host + "sys", 32)))
    out: Obj = {
        "platform": "x86_64",
        "os_type": "linux",
        "ip": ip,
        "host": host,
        "multipath": multipath,
        "enforce_multipath": False,
        "initiator": "iqn.2004-10.com.ubuntu:01:" + _stable_hex(host, 12),
        "do_local_attach": False,
        "nvme_hostid": system_uuid,
        "system uuid": system_uuid,
        "nqn": f"nqn.2014-08.org.nvmexpress:uuid:{system_uuid}",
        "nvme_native_multipath": True,
        "found_dsc": "",
        "wwpns": host_wwpns(host),
        "wwnns": ["20" + w[2:] for w in host_wwpns(host)],
    }
    if mountpoint is not None:
        out["mountpoint"] = mountpoint
    return out


def driver_connection(
    backend: Backend,
    *,
    volume_id: str,
    encrypted: bool,
    multipath: bool,
    chap: tuple[str, str],
    array_wwns: list[str],
    host: str,
) -> Obj:
    """initialize_connection() result after _parse_connection_options(), before flattening."""
    if backend.protocol == "iscsi":
        iqn = f"iqn.2010-10.org.openstack:volume-{volume_id}"
        data: Obj = {"target_discovered": False}
        if multipath:
            data.update(target_portals=list(ISCSI_PORTALS), target_iqns=[iqn, iqn], target_luns=[1, 1])
        data.update(
            target_portal=ISCSI_PORTALS[0],
            target_iqn=iqn,
            target_lun=1,
            volume_id=volume_id,
            auth_method="CHAP",
            auth_username=chap[0],
            auth_password=chap[1],
            encrypted=encrypted,
        )
    elif backend.protocol == "rbd":
        data = {
            "name": f"volumes/volume-{volume_id}",
            "hosts": list(CEPH_MONS),
            "ports": ["6789"] * len(CEPH_MONS),
            "cluster_name": "ceph",
            "auth_enabled": True,
            "auth_username": "cinder",
            "secret_type": "ceph",
            "secret_uuid": CEPH_SECRET_UUID,
            "volume_id": volume_id,
            "discard": True,
        }
    elif backend.protocol == "nfs":
        data = {"export": NFS_EXPORT, "name": f"volume-{volume_id}", "options": None, "format": "raw"}
    else:
        initiators = host_wwpns(host)
        data = {
            "target_discovered": False,
            "target_lun": 1,
            "target_wwn": list(array_wwns),
            "initiator_target_map": {i: list(array_wwns) for i in initiators},
            "volume_id": volume_id,
            "discard": True,
        }
    data["qos_specs"] = None
    data["access_mode"] = "rw"
    data.setdefault("encrypted", encrypted)
    data["cacheable"] = False
    out: Obj = {"driver_volume_type": backend.driver_volume_type, "data": data}
    if backend.protocol == "nfs":
        out["mount_point_base"] = "/var/lib/cinder/mnt"
    return out


def cinder_connection_info(release: str, driver_info: Obj, attachment_id: str) -> Obj:
    """volume_attachment.connection_info: the flattened dict the volume manager returns."""
    flat = dict(driver_info["data"])
    flat.update({k: v for k, v in driver_info.items() if k != "data"})
    flat["attachment_id"] = attachment_id
    if at_least(release, "2025.1"):
        flat["enforce_multipath"] = False
    return flat


def device_path(backend: Backend, data: Obj, multipath: bool, volume_id: str) -> str | None:
    """What os-brick's connect_volume returns as the path, stored by the libvirt driver."""
    if backend.protocol == "iscsi":
        if multipath:
            return "/dev/dm-" + str(int(_stable_hex(volume_id, 2), 16) % 32)
        return f"/dev/disk/by-path/ip-{data['target_portal']}-iscsi-{data['target_iqn']}-lun-1"
    if backend.protocol == "fibre_channel":
        return f"/dev/disk/by-path/pci-0000:05:00.2-fc-0x{data['target_wwn'][0]}-lun-1"
    if backend.protocol == "nfs":
        mount_hash = hashlib.md5(NFS_EXPORT.encode()).hexdigest()
        return f"/var/lib/nova/mnt/{mount_hash}/volume-{volume_id}"
    return None


def nova_connection_info(
    cinder_flat: Obj,
    *,
    backend: Backend,
    status: str,
    instance_uuid: str,
    attached_at: str,
    volume_id: str,
    multipath: bool,
    multiattach: bool,
) -> Obj:
    """block_device_mapping.connection_info as nova stores it after a successful attach."""
    data = {k: v for k, v in cinder_flat.items() if k not in ("attachment_id", "driver_volume_type")}
    path = device_path(backend, data, multipath, volume_id)
    if path is not None:
        data["device_path"] = path
    if multipath and backend.protocol == "iscsi":
        data["multipath_id"] = "36001405" + _stable_hex(volume_id, 24)
    out: Obj = {
        "driver_volume_type": cinder_flat["driver_volume_type"],
        "data": data,
        "status": status,
        "instance": instance_uuid,
        "attached_at": attached_at,
        "detached_at": "",
        "volume_id": volume_id,
    }
    if multiattach:
        out["multiattach"] = True
    out["serial"] = volume_id
    return out
