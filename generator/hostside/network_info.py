"""Read `instance_info_caches.network_info` into the VIFs a compute script must unplug.

network_info is the JSON list nova keeps of an instance's ports (nova.network.model
serialised). What the host holds for each port depends on how it was plugged
(os-vif, nova.network.os_vif_util):

- `ovs` with `details.ovs_hybrid_plug` (iptables firewall): tap `tapX` in linux
  bridge `qbrX`, veth pair `qvbX`/`qvoX`, `qvoX` a port on the integration bridge;
- `ovs` without hybrid plug, and OVN: `tapX` is a port on the integration bridge;
- `bridge` (linuxbridge agent): `tapX` in `brq` + network id[:11], a bridge the
  whole network shares on that host;
- `vhostuser` with `vhostuser_ovs_plug`: OVS port `vhuX` and a vhost-user socket;
- SR-IOV / vDPA / macvtap / other plugins: nothing fixpack may touch.

X is the first 11 characters of the port id (the names are cut to 14 characters,
NIC_NAME_LEN). Every name is validated, and for the interfaces the script deletes the
name must also carry the port's own id: a row saying `devname: eth0` is refused,
not obeyed, because a shape check alone would let it delete the host's uplink.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from generator.errors import TargetProblem
from generator.hostside import validate
from generator.hostside.model import Vif

NIC_NAME_LEN = 14  # nova.network.model.NIC_NAME_LEN
DEFAULT_OVS_BRIDGE = "br-int"  # [neutron] ovs_bridge default
VIF_TYPES = ("ovs_hybrid", "ovs", "bridge", "vhostuser", "other")
_NORMAL_VNIC = (None, "", "normal")


def port_prefix(port_id: str) -> str:
    """The 11 characters of the port id that every host-side name of the port carries."""
    return port_id[: NIC_NAME_LEN - 3]


def hybrid_names(port_id: str) -> tuple[str, str, str]:
    """(qbrX, qvbX, qvoX): the linux bridge and the veth pair of an OVS hybrid plug."""
    x = port_prefix(port_id)
    return f"qbr{x}", f"qvb{x}", f"qvo{x}"


def vhostuser_port_name(port_id: str) -> str:
    """The OVS port os-vif creates for a vhost-user VIF: vhu + 11 characters of the port id."""
    return f"vhu{port_prefix(port_id)}"


def checked_vif(vif: Vif, where: str | None = None) -> Vif:
    """Re-validate a Vif (from the parser or built elsewhere) before it reaches a script.

    The renderer calls this too: a plan is a data structure anyone can build,
    and the script must be safe whatever produced it. `where` names the VIF in
    errors ("instance … network_info[1]"); by default its port id.
    """
    where = where or f"VIF {validate.show(vif.port_id)}"
    port_id = validate.uuid(vif.port_id, f"{where}.id")
    x = port_prefix(port_id)
    devname = validate.ifname(vif.devname, f"{where}.devname")
    if vif.vif_type not in VIF_TYPES:
        raise validate.reject(f"{where}.type", vif.vif_type, "one of " + ", ".join(VIF_TYPES))
    if vif.vif_type != "other" and not devname.endswith(x):
        raise validate.reject(f"{where}.devname", vif.devname, f"a device name of this port (ending in {x})")
    bridge = None if vif.bridge is None else validate.bridge_name(vif.bridge, f"{where} bridge")
    mac = None if vif.mac is None else validate.mac(vif.mac, f"{where}.address")
    socket = None
    if vif.socket_path is not None:
        socket = validate.safe_path(vif.socket_path, f"{where}.details.vhostuser_socket")
        if x not in socket.rsplit("/", 1)[-1]:
            raise validate.reject(
                f"{where}.details.vhostuser_socket", vif.socket_path, f"a socket named after the port ({x})"
            )
    return Vif(port_id, devname, vif.vif_type, bridge, mac, socket, vif.preserve_on_delete is True)


def parse_network_info(text: str | None, instance_uuid: str) -> tuple[Vif, ...]:
    """Parse one instance's network_info; () when it is NULL, empty or `[]`.

    Malformed JSON or a VIF whose values do not have the expected shape is a
    TargetProblem: the operator must look at that row, not get a script that
    silently skips a port or, worse, acts on a planted name.
    """
    owner = f"instance {validate.uuid(instance_uuid, 'instance UUID')}"
    if text is None or not text.strip():
        return ()
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise TargetProblem(f"{owner}: network_info is not valid JSON ({exc})") from None
    if data is None:
        return ()
    if not isinstance(data, list):
        raise TargetProblem(f"{owner}: network_info is a JSON {type(data).__name__}, expected a list of VIFs")
    vifs: dict[str, Vif] = {}
    for index, item in enumerate(data):
        vif = _parse_vif(item, f"{owner} network_info[{index}]")
        known = vifs.get(vif.port_id)
        if known is not None and known != vif:
            raise TargetProblem(f"{owner}: network_info lists port {vif.port_id} twice, differently")
        vifs[vif.port_id] = vif
    return tuple(vifs.values())


def _mapping(value: Any, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise validate.reject(field, value, "a JSON object")
    return value


def _optional_text(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise validate.reject(field, value, "a string")
    return value


def _parse_vif(item: Any, where: str) -> Vif:
    vif = _mapping(item, where)
    port_id = validate.uuid(vif.get("id"), f"{where}.id")
    raw_type = _optional_text(vif.get("type"), f"{where}.type")
    vnic_type = _optional_text(vif.get("vnic_type"), f"{where}.vnic_type")
    details = _mapping(vif.get("details"), f"{where}.details")
    network = _mapping(vif.get("network"), f"{where}.network")
    devname = _optional_text(vif.get("devname"), f"{where}.devname") or f"tap{port_prefix(port_id)}"
    address = _optional_text(vif.get("address"), f"{where}.address")
    net_bridge = _optional_text(network.get("bridge"), f"{where}.network.bridge")
    details_bridge = _optional_text(details.get("bridge_name"), f"{where}.details.bridge_name")

    vif_type, bridge, socket = "other", None, None
    if raw_type == "ovs" and vnic_type in _NORMAL_VNIC:
        # os-vif plugs into network.bridge, which nova filled from details.bridge_name
        vif_type = "ovs_hybrid" if details.get("ovs_hybrid_plug") is True else "ovs"
        bridge = net_bridge or details_bridge or DEFAULT_OVS_BRIDGE
    elif raw_type == "bridge" and vnic_type in _NORMAL_VNIC:
        vif_type = "bridge"
        bridge = net_bridge or details_bridge
        network_id = _optional_text(network.get("id"), f"{where}.network.id")
        if bridge is None and network_id is not None:
            bridge = "brq" + port_prefix(validate.uuid(network_id, f"{where}.network.id"))
    elif raw_type == "vhostuser":
        vif_type = "vhostuser"
        socket = _optional_text(details.get("vhostuser_socket"), f"{where}.details.vhostuser_socket")
        ovs_plug = details.get("vhostuser_ovs_plug") is True and details.get("vhostuser_fp_plug") is not True
        if ovs_plug:
            bridge = net_bridge or details_bridge or DEFAULT_OVS_BRIDGE

    return checked_vif(
        Vif(
            port_id=port_id,
            devname=devname,
            vif_type=vif_type,
            bridge=bridge,
            mac=address,
            socket_path=socket,
            preserve_on_delete=vif.get("preserve_on_delete") is True,
        ),
        where,
    )
