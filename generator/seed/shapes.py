"""JSON payloads in the exact shapes nova writes into its databases.

Every shape here was checked against the real objects: they were produced once with
the nova package of the catalog releases (`obj_to_primitive()` of Flavor, RequestSpec,
MigrationContext, VirtCPUModel, KeyPairList, NUMATopology, nova.network.model.VIF ...)
and copied, including the `nova_object.*` envelope and versions. Repair code parses
these blobs (flavor sizes, VIF devnames, bridges), so a wrong shape would hide bugs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from generator.seed.values import IMAGE_META_PROPS_VERSION, at_least, iso

Obj = dict[str, Any]


def dumps(value: Any) -> str:
    """oslo.serialization's jsonutils.dumps output for these values (plain json.dumps)."""
    return json.dumps(value)


class Memo:
    """JSON strings built once per key, then filled by plain string replacement.

    Most blobs differ between instances only in a few ids; encoding the whole nested
    structure per instance was a third of the bulk seeding time. A template is the
    json.dumps() of the structure with placeholder tokens (`%%NAME%%`, JSON-safe), and
    the values substituted are ids/addresses that need no JSON escaping either.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple, str] = {}

    def get(self, key: tuple, build: Callable[[], str]) -> str:
        text = self._cache.get(key)
        if text is None:
            text = self._cache[key] = build()
        return text


def fill(template: str, values: dict[str, str]) -> str:
    for token, value in values.items():
        template = template.replace(token, value)
    return template


def nova_object(name: str, version: str, data: Obj, changes: bool = True) -> Obj:
    """The oslo.versionedobjects primitive envelope."""
    out: Obj = {
        "nova_object.name": name,
        "nova_object.namespace": "nova",
        "nova_object.version": version,
        "nova_object.data": data,
    }
    if changes:
        out["nova_object.changes"] = list(data)
    return out


def flavor(
    flavor_id: int, name: str, spec: dict, created_at: dt.datetime, extra_specs: dict | None = None
) -> Obj:
    """Flavor 1.2 as loaded from nova_api (changes reset, so no `changes` list)."""
    return nova_object(
        "Flavor",
        "1.2",
        {
            "id": flavor_id,
            "name": name,
            "memory_mb": spec["memory_mb"],
            "vcpus": spec["vcpus"],
            "root_gb": spec["root_gb"],
            "ephemeral_gb": 0,
            "flavorid": spec["flavorid"],
            "swap": 0,
            "rxtx_factor": 1.0,
            "vcpu_weight": 0,
            "disabled": False,
            "is_public": True,
            "extra_specs": extra_specs or {},
            "description": None,
            "created_at": iso(created_at),
            "updated_at": None,
            "deleted_at": None,
            "deleted": False,
        },
        changes=False,
    )


def flavor_extra(cur: Obj, old: Obj | None = None, new: Obj | None = None) -> str:
    """instance_extra.flavor: nova's Instance._save_flavor writes cur/old/new."""
    return dumps({"cur": cur, "old": old, "new": new})


def image_meta(release: str, image: dict) -> Obj:
    """ImageMeta 1.8 with ImageMetaProps of the release's version (RequestSpec.image)."""
    props = nova_object("ImageMetaProps", IMAGE_META_PROPS_VERSION.get(release, "1.34"), image["properties"])
    data = {
        "id": image["id"],
        "name": image["name"],
        "status": "active",
        "visibility": "public",
        "protected": False,
        "checksum": image["checksum"],
        "owner": image["owner"],
        "size": image["size"],
        "virtual_size": image["virtual_size"],
        "container_format": "bare",
        "disk_format": image["disk_format"],
        "created_at": iso(image["created_at"]),
        "updated_at": iso(image["created_at"]),
        "tags": [],
        "min_ram": 0,
        "min_disk": image["min_disk"],
        "properties": props,
    }
    return nova_object("ImageMeta", "1.8", data)


def pci_requests_obj(requests: list[Obj]) -> Obj:
    return nova_object("InstancePCIRequests", "1.1", {"requests": requests})


def pci_request(request_id: str, alias: str, vendor_id: str, product_id: str) -> Obj:
    """One InstancePCIRequest (flavor alias) as instance_extra.pci_requests lists it."""
    return {
        "count": 1,
        "spec": [{"vendor_id": vendor_id, "product_id": product_id, "dev_type": "type-VF"}],
        "alias_name": alias,
        "is_new": False,
        "numa_policy": None,
        "request_id": request_id,
        "requester_id": None,
    }


def request_spec(
    release: str,
    *,
    instance_uuid: str,
    image: dict,
    flavor_obj: Obj,
    project_id: str,
    user_id: str,
    availability_zone: str | None,
    pci_requests: list[Obj] | None = None,
    is_bfv: bool = False,
) -> str:
    """nova_api.request_specs.spec as RequestSpec._get_update_primitives() dumps it."""
    version = "1.15" if at_least(release, "2024.1") else "1.14"
    limits = nova_object(
        "SchedulerLimits", "1.0", {"numa_topology": None, "vcpu": None, "disk_gb": None, "memory_mb": None}
    )
    default_sg = nova_object("SecurityGroup", "1.2", {"name": "default"})
    data: dict[str, Any] = {
        "image": image_meta(release, image),
        "numa_topology": None,
        "pci_requests": pci_requests_obj(
            [nova_object("InstancePCIRequest", "1.4", r) for r in (pci_requests or [])]
        ),
        "project_id": project_id,
        "user_id": user_id,
        "availability_zone": availability_zone,
        "flavor": flavor_obj,
        "num_instances": 1,
        "ignore_hosts": None,
        "force_hosts": None,
        "force_nodes": None,
        "requested_destination": None,
        "retry": None,
        "limits": limits,
        "instance_group": None,
        "scheduler_hints": {},
        "instance_uuid": instance_uuid,
        "security_groups": nova_object("SecurityGroupList", "1.1", {"objects": [default_sg]}, changes=False),
        "is_bfv": is_bfv,
        "requested_resources": [],
    }
    return dumps(nova_object("RequestSpec", version, data))


def vif(
    *,
    port_id: str,
    mac: str,
    ip: str,
    vif_type: str,
    network_id: str,
    network_label: str,
    prefix: str,
    project_id: str,
    floating_ip: str | None,
    port_short: str | None = None,
) -> Obj:
    """One entry of instance_info_caches.network_info (nova.network.model.VIF.json()).

    `port_short` stands in for port_id[:11] (devname, vhostuser socket) when templating."""
    short = port_id[:11] if port_short is None else port_short
    devname = "tap" + short
    if vif_type == "bridge":
        model_type, bridge, ovs_id = "bridge", "brq" + network_id[:11], None
        details: Obj = {"port_filter": True, "connectivity": "l2"}
    elif vif_type == "vhostuser":
        model_type, bridge, ovs_id = "vhostuser", "br-int", port_id
        details = {
            "port_filter": False,
            "connectivity": "l2",
            "vhostuser_mode": "server",
            "vhostuser_socket": "/var/run/openvswitch/vhu" + short,
            "vhostuser_ovs_plug": True,
            "datapath_type": "netdev",
            "bridge_name": "br-int",
        }
    else:
        model_type, bridge, ovs_id = "ovs", "br-int", port_id
        details = {
            "port_filter": True,
            "connectivity": "l2",
            "ovs_hybrid_plug": vif_type == "ovs_hybrid",
            "datapath_type": "system",
            "bridge_name": "br-int",
        }
    floating = (
        []
        if floating_ip is None
        else [{"address": floating_ip, "type": "floating", "version": 4, "meta": {}}]
    )
    meta: Obj = {
        "injected": False,
        "tenant_id": project_id,
        "mtu": 1450,
        "physical_network": None,
        "tunneled": True,
    }
    if vif_type == "bridge":
        meta["should_create_bridge"] = True
    subnet = {
        "cidr": f"{prefix}.0.0/16",
        "dns": [],
        "gateway": {"address": f"{prefix}.0.1", "type": "gateway", "version": 4, "meta": {}},
        "ips": [{"address": ip, "type": "fixed", "version": 4, "meta": {}, "floating_ips": floating}],
        "routes": [],
        "version": 4,
        "meta": {"dhcp_server": f"{prefix}.0.2"},
    }
    return {
        "id": port_id,
        "address": mac,
        "network": {
            "id": network_id,
            "bridge": bridge,
            "label": network_label,
            "subnets": [subnet],
            "meta": meta,
        },
        "type": model_type,
        "details": details,
        "devname": devname,
        "ovs_interfaceid": ovs_id,
        "qbh_params": None,
        "qbg_params": None,
        "active": True,
        "vnic_type": "normal",
        "profile": {},
        "preserve_on_delete": False,
        "delegate_create": False,
        "meta": {},
    }


def vcpu_model(vcpus: int) -> str:
    """instance_extra.vcpu_model as the libvirt driver records it at spawn."""
    topology = nova_object("VirtCPUTopology", "1.0", {"sockets": vcpus, "cores": 1, "threads": 1})
    data = {
        "arch": "x86_64",
        "vendor": "Intel",
        "topology": topology,
        "features": [],
        "mode": "host-model",
        "model": "Cascadelake-Server-noTSX",
        "match": "exact",
    }
    return dumps(nova_object("VirtCPUModel", "1.0", data))


def keypairs(entries: list[tuple[str, str, str, str]]) -> str:
    """instance_extra.keypairs: KeyPairList of (name, user_id, fingerprint, public_key)."""
    objs = [
        nova_object(
            "KeyPair",
            "1.4",
            {"name": n, "user_id": u, "fingerprint": f, "public_key": k, "type": "ssh"},
        )
        for n, u, f, k in entries
    ]
    return dumps(nova_object("KeyPairList", "1.3", {"objects": objs}))


def migration_context(instance_uuid: str, migration_id: int) -> str:
    """instance_extra.migration_context written by the resource tracker's move claim."""

    def lst(name: str, version: str) -> Obj:
        return nova_object(name, version, {"objects": []})

    data = {
        "instance_uuid": instance_uuid,
        "migration_id": migration_id,
        "new_numa_topology": None,
        "old_numa_topology": None,
        "new_pci_devices": lst("PciDeviceList", "1.3"),
        "old_pci_devices": lst("PciDeviceList", "1.3"),
        "new_pci_requests": pci_requests_obj([]),
        "old_pci_requests": pci_requests_obj([]),
        "new_resources": lst("ResourceList", "1.0"),
        "old_resources": lst("ResourceList", "1.0"),
    }
    return dumps(nova_object("MigrationContext", "1.2", data))


def cpu_info(cores: int) -> str:
    """compute_nodes.cpu_info as the libvirt driver's _get_cpu_info() dumps it."""
    return dumps(
        {
            "arch": "x86_64",
            "model": "Cascadelake-Server-noTSX",
            "vendor": "Intel",
            "topology": {"cells": 2, "sockets": 2, "cores": cores // 4, "threads": 2},
            "features": ["avx2", "avx512f", "sse4.2", "vmx", "pdpe1gb", "aes", "rdrand", "x2apic"],
            "maxphysaddr": {"mode": "emulate", "bits": 46},
        }
    )


def host_numa_topology(vcpus: int, memory_mb: int) -> str:
    """compute_nodes.numa_topology: NUMATopology 1.2 with two cells."""
    per = vcpus // 2
    cells = []
    for cid in range(2):
        cpus = list(range(cid * per, cid * per + per))
        pages = [
            nova_object(
                "NUMAPagesTopology", "1.1", {"size_kb": size, "total": total, "used": 0, "reserved": 0}
            )
            for size, total in ((4, memory_mb * 128), (2048, 0), (1048576, 0))
        ]
        netmeta = nova_object("NetworkMetadata", "1.0", {"physnets": [], "tunneled": False})
        cell = {
            "id": cid,
            "cpuset": cpus,
            "pcpuset": [],
            "memory": memory_mb // 2,
            "cpu_usage": 0,
            "memory_usage": 0,
            "pinned_cpus": [],
            "siblings": [[c, c + per // 2] for c in cpus[: per // 2]],
            "mempages": pages,
            "network_metadata": netmeta,
            "socket": cid,
        }
        cells.append(nova_object("NUMACell", "1.5", cell))
    return dumps(nova_object("NUMATopology", "1.2", {"cells": cells}))


def pci_pools() -> str:
    return dumps(nova_object("PciDevicePoolList", "1.1", {"objects": []}))


def compute_stats(running: int, per_project: dict[str, int]) -> str:
    """compute_nodes.stats as the resource tracker's Stats dict (values are strings)."""
    stats = {"failed_builds": "0", "num_instances": str(running), "num_vm_active": str(running)}
    stats["num_task_None"] = str(running)
    stats["num_os_type_None"] = str(running)
    for pid, count in per_project.items():
        stats[f"num_proj_{pid}"] = str(count)
    stats["io_workload"] = "0"
    return dumps(stats)
