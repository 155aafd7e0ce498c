"""Read `block_device_mapping.connection_info` into what a compute script must disconnect.

connection_info is the JSON Cinder's `initialize_connection` returned and nova stored
for the attachment; os-brick connected the host with it. What that leaves on the host:

- `iscsi`: a session per (target IQN, portal) and a SCSI disk per LUN, maybe under a
  multipath map. Multipath attachments list every path in `target_iqns` /
  `target_portals` / `target_luns`; os-brick pairs those lists element by element
  and falls back to the single `target_iqn`/`target_portal`/`target_lun`.
- `fibre_channel`: SCSI disks reached through the target WWN(s) at a LUN, maybe under
  a multipath map; WWNs and LUNs are paired the way os-brick pairs them.
- `rbd`: nothing host-side (librbd inside qemu).
- `nfs`: the share mounted under nova's mount point, shared with every other volume
  on that share: never unmounted by fixpack.
- anything else: reported, not touched.

Every value is validated (see `validate`): an IQN carrying `$(reboot)` or a portal
carrying `;id` is a TargetProblem at generation, never a script.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from generator.errors import TargetProblem
from generator.hostside import validate
from generator.hostside.model import VolumeConnection

DRIVERS = ("iscsi", "rbd", "fibre_channel", "nfs", "other")


def parse_connection_info(volume_id: str, text: str | None) -> VolumeConnection:
    """Parse one BDM's connection_info; NULL or `{}` (never connected) is driver "other".

    Raises TargetProblem for malformed JSON, an unexpected shape, or any value
    that is not what the driver sends.
    """
    vol = validate.uuid(volume_id, "volume UUID")
    where = f"volume {vol} connection_info"
    if text is None or not text.strip():
        return VolumeConnection(vol, "other")
    try:
        info = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise TargetProblem(f"{where} is not valid JSON ({exc})") from None
    if info is None or info == {}:
        return VolumeConnection(vol, "other")
    if not isinstance(info, Mapping):
        raise TargetProblem(f"{where} is a JSON {type(info).__name__}, expected an object")
    driver = info.get("driver_volume_type")
    if not isinstance(driver, str):
        raise validate.reject(f"{where}.driver_volume_type", driver, "a driver name")
    data = info.get("data") or {}
    if not isinstance(data, Mapping):
        raise validate.reject(f"{where}.data", data, "a JSON object")
    driver = driver.lower()
    if driver == "iscsi":
        return checked_connection(VolumeConnection(vol, "iscsi", iscsi_targets=_iscsi_targets(data, where)))
    if driver in ("rbd", "ceph"):
        return VolumeConnection(vol, "rbd")
    if driver in ("fibre_channel", "fibrechannel"):
        targets = _fc_targets(data, where)
        wwns = tuple(dict.fromkeys(wwn for wwn, _ in targets))
        return checked_connection(VolumeConnection(vol, "fibre_channel", fc_wwns=wwns, fc_targets=targets))
    if driver == "nfs":
        export = validate.nfs_export(data.get("export"), f"{where}.data.export")
        return VolumeConnection(vol, "nfs", nfs_export=export)
    return VolumeConnection(vol, "other")


def checked_connection(conn: VolumeConnection) -> VolumeConnection:
    """Re-validate a VolumeConnection however it was built; the renderer relies on this."""
    vol = validate.uuid(conn.volume_id, "volume UUID")
    where = f"volume {vol}"
    if conn.driver not in DRIVERS:
        raise validate.reject(f"{where} driver", conn.driver, "one of " + ", ".join(DRIVERS))
    targets = tuple(
        (
            validate.iqn(iqn, f"{where} target IQN"),
            validate.portal(portal, f"{where} target portal"),
            validate.lun(lun, f"{where} target LUN"),
        )
        for iqn, portal, lun in conn.iscsi_targets
    )
    if conn.driver == "iscsi" and not targets:
        raise TargetProblem(f"{where}: iSCSI connection without any target")
    fc = tuple(
        (validate.wwn(wwn, f"{where} FC target WWN"), validate.lun(lun, f"{where} FC LUN"))
        for wwn, lun in conn.fc_targets
    )
    wwns = tuple(validate.wwn(w, f"{where} FC target WWN") for w in conn.fc_wwns)
    if conn.driver == "fibre_channel" and not fc:
        # a WWN without its LUN would make the script touch every LUN behind that port
        raise TargetProblem(f"{where}: Fibre Channel connection without (WWN, LUN) targets")
    export = None if conn.nfs_export is None else validate.nfs_export(conn.nfs_export, f"{where} NFS export")
    return VolumeConnection(vol, conn.driver, targets, wwns, export, fc)


def _as_list(value: Any, field: str) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise validate.reject(field, value, "a JSON list")
    return list(value)


def _iscsi_targets(data: Mapping[str, Any], where: str) -> tuple[tuple[str, str, int], ...]:
    """Every (iqn, portal, lun) path: the multipath lists zipped, plus the single target."""
    field = f"{where}.data"
    portals = _as_list(data.get("target_portals"), f"{field}.target_portals")
    iqns = _as_list(data.get("target_iqns"), f"{field}.target_iqns")
    luns = _as_list(data.get("target_luns"), f"{field}.target_luns")
    raw: list[tuple[Any, Any, Any]] = []
    if portals:
        iqns = iqns if iqns is not None else [data.get("target_iqn")] * len(portals)
        luns = luns if luns is not None else [data.get("target_lun", 0)] * len(portals)
        if not len(portals) == len(iqns) == len(luns):
            raise TargetProblem(
                f"{field}: target_portals, target_iqns and target_luns differ in length "
                f"({len(portals)}, {len(iqns)}, {len(luns)})"
            )
        raw.extend(zip(iqns, portals, luns, strict=True))
    if data.get("target_portal") is not None or not raw:
        raw.insert(0, (data.get("target_iqn"), data.get("target_portal"), data.get("target_lun", 0)))
    paths = (
        (
            validate.iqn(iqn, f"{field}.target_iqn"),
            validate.portal(portal, f"{field}.target_portal"),
            validate.lun(lun, f"{field}.target_lun"),
        )
        for iqn, portal, lun in raw
    )
    return tuple(dict.fromkeys(paths))


def _fc_targets(data: Mapping[str, Any], where: str) -> tuple[tuple[str, int], ...]:
    """(wwn, lun) pairs as os-brick's _add_targets_to_connection_properties builds them."""
    field = f"{where}.data"
    target_wwn = data.get("target_wwn")
    wwns = _as_list(data.get("target_wwns"), f"{field}.target_wwns")
    if not wwns:
        wwns = [target_wwn] if isinstance(target_wwn, str) else _as_list(target_wwn, f"{field}.target_wwn")
    if not wwns:
        raise TargetProblem(f"{field}: Fibre Channel connection without target_wwn")
    luns = _as_list(data.get("target_luns"), f"{field}.target_luns") or [data.get("target_lun", 0)]
    if len(luns) == len(wwns):
        pairs = list(zip(wwns, luns, strict=True))
    elif len(luns) == 1:
        pairs = [(wwn, luns[0]) for wwn in wwns]
    else:
        raise TargetProblem(f"{field}: {len(wwns)} target WWNs but {len(luns)} LUNs")
    checked = (
        (validate.wwn(wwn, f"{field}.target_wwn"), validate.lun(lun, f"{field}.target_lun"))
        for wwn, lun in pairs
    )
    return tuple(dict.fromkeys(checked))
