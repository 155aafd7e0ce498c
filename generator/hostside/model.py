"""What an instance left on its compute node: its VIFs and its volume connections.

Parsed from nova's rows by `network_info` and `connection_info`, carried by the
plan (`plan.model.ComputeCleanup`) and written into host scripts by render; they
live here, below plan, so hostside never imports the planner.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Vif:
    port_id: str
    devname: str
    vif_type: str  # ovs_hybrid | ovs | bridge | vhostuser | other
    bridge: str | None  # br-int, brq<network id prefix>, or None
    mac: str | None
    socket_path: str | None = None  # vhostuser: the vhost-user socket (details.vhostuser_socket)
    preserve_on_delete: bool = False  # port created outside Nova: Nova unbinds it, never deletes it


@dataclass(frozen=True)
class VolumeConnection:
    volume_id: str
    driver: str  # iscsi | rbd | fibre_channel | nfs | other
    iscsi_targets: tuple[tuple[str, str, int], ...] = ()  # (iqn, portal, lun)
    fc_wwns: tuple[str, ...] = ()
    nfs_export: str | None = None
    fc_targets: tuple[tuple[str, int], ...] = ()  # (wwn, lun) pairs, as os-brick pairs them
