"""Compute hosts: the nova-compute service, its compute node, provider and host mapping.

A host is what `nova-compute` registers on first start (services row with the
release's service version, compute_nodes row from the libvirt driver's resources), what
its resource tracker reports to placement (provider + inventories + traits), and what
`nova-manage cell_v2 discover_hosts` maps. Usage columns are folded in at flush time
from the instances seeded onto the host, as the resource tracker would report them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pymysql

from generator.seed import api, shapes
from generator.seed.context import SeedContext
from generator.seed.model import ComputeHost, HostState
from generator.seed.placement import PlacementSeeder

Row = dict
HYPERVISOR_VERSION = 8002002  # QEMU 8.2.2 as the libvirt driver encodes it


def add_compute_host(
    ctx: SeedContext,
    placement: PlacementSeeder,
    name: str,
    *,
    enabled: bool,
    hypervisor_hostname: str | None,
    vcpus: int,
    memory_mb: int,
    local_gb: int,
    service_version: int,
) -> HostState:
    """services + compute_nodes rows (cell1), the resource provider, the host mapping."""
    role, buf, rand = "nova", ctx.buf, ctx.rand
    when = rand.tick()
    n = len(ctx.hosts) + 1
    ip = f"10.20.{n // 250}.{n % 250 + 1}"
    node = hypervisor_hostname or f"{name}.example.org"
    service_id = buf.next_id(role, "services")
    buf.add(
        role,
        "services",
        {
            "created_at": when,
            "updated_at": when + dt.timedelta(days=20),
            "deleted_at": None,
            "id": service_id,
            "host": name,
            "binary": "nova-compute",
            "topic": "compute",
            "report_count": rand.randint(1000, 90000),
            "disabled": int(not enabled),
            "deleted": 0,
            "disabled_reason": None if enabled else "maintenance: hardware replacement",
            "last_seen_up": when + dt.timedelta(days=20),
            "forced_down": 0,
            "version": service_version,
            "uuid": rand.uuid(),
        },
    )
    cn_id = buf.next_id(role, "compute_nodes")
    cn_uuid = rand.uuid()
    node_row = buf.add(
        role,
        "compute_nodes",
        {
            "created_at": when,
            "updated_at": when + dt.timedelta(days=20),
            "deleted_at": None,
            "id": cn_id,
            "service_id": service_id,
            "vcpus": vcpus,
            "memory_mb": memory_mb,
            "local_gb": local_gb,
            "vcpus_used": 0,
            "memory_mb_used": 512,
            "local_gb_used": 0,
            "hypervisor_type": "QEMU",
            "hypervisor_version": HYPERVISOR_VERSION,
            "cpu_info": shapes.cpu_info(vcpus),
            "disk_available_least": local_gb - 3,
            "free_ram_mb": memory_mb - 512,
            "free_disk_gb": local_gb,
            "current_workload": 0,
            "running_vms": 0,
            "hypervisor_hostname": node,
            "deleted": 0,
            "host_ip": ip,
            "supported_instances": '[["i686", "kvm", "hvm"], ["x86_64", "kvm", "hvm"]]',
            "pci_stats": shapes.pci_pools(),
            "metrics": "[]",
            "extra_resources": None,
            "stats": shapes.compute_stats(0, {}),
            "numa_topology": shapes.host_numa_topology(vcpus, memory_mb),
            "host": name,
            "ram_allocation_ratio": 1.5,
            "cpu_allocation_ratio": 16.0,
            "uuid": cn_uuid,
            "disk_allocation_ratio": 1.0,
            "mapped": 1,
        },
    )
    rp_id, rp_row = placement.provider(
        cn_uuid, node, vcpus=vcpus, memory_mb=memory_mb, local_gb=local_gb, enabled=enabled
    )
    api.host_mapping(ctx, name, "cell1", when)
    public = ComputeHost(name, node, service_id, cn_id, cn_uuid, rp_id, cn_uuid, ip, "cell1")
    state = HostState(public, vcpus, memory_mb, local_gb, enabled, node_row, rp_row, rp_generation=2)
    ctx.hosts[name] = state
    return state


def host_usage_values(h: HostState) -> Row:
    """compute_nodes usage columns as the resource tracker reports them."""
    mem_used = 512 + h.used_memory_mb
    return {
        "vcpus_used": h.used_vcpus,
        "memory_mb_used": mem_used,
        "local_gb_used": h.used_disk_gb,
        "free_ram_mb": h.memory_mb - mem_used,
        "free_disk_gb": h.local_gb - h.used_disk_gb,
        "disk_available_least": h.local_gb - h.used_disk_gb - 3,
        "running_vms": h.running_vms,
        "stats": shapes.compute_stats(h.running_vms, h.project_counts),
    }


def fold_host_values(ctx: SeedContext) -> None:
    """Before a flush: usage into compute_nodes, generations into resource_providers.

    Rows still pending are patched in place; rows already written get an UPDATE run in
    the same transaction as the next batch of inserts.
    """
    buf = ctx.buf
    for h in ctx.hosts.values():
        if h.dirty:
            values = host_usage_values(h)
            if h.node_row is not None:
                h.node_row.update(values)
            else:
                buf.post_insert["nova"].append(update_hook("compute_nodes", values, h.public.compute_node_id))
            h.dirty = False
        if h.rp_dirty:
            gen = {"generation": h.rp_generation}
            if h.rp_row is not None:
                h.rp_row.update(gen)
            else:
                buf.post_insert["placement"].append(
                    update_hook("resource_providers", gen, h.public.provider_id)
                )
            h.rp_dirty = False


def update_hook(table: str, values: Row, row_id: int) -> Callable:
    """A post-insert hook updating one row by id."""
    sets = ", ".join(f"`{k}` = %s" for k in values)

    def run(cur: pymysql.cursors.Cursor) -> None:
        cur.execute(f"UPDATE `{table}` SET {sets} WHERE id = %s", (*values.values(), row_id))

    return run


def load_existing(ctx: SeedContext) -> None:
    """Adopt compute hosts an earlier Seeder wrote, so a new one extends the deployment."""
    nodes = ctx.dep.query(
        "nova",
        "SELECT s.id AS service_id, s.disabled, c.* FROM services s JOIN compute_nodes c ON c.host = s.host "
        "WHERE s.`binary` = 'nova-compute' AND s.deleted = 0 AND c.deleted = 0 ORDER BY c.id",
    )
    if not nodes:
        return
    rps = {
        r["uuid"]: r
        for r in ctx.dep.query("placement", "SELECT id, uuid, generation FROM resource_providers")
    }
    pci_sql = "SELECT compute_node_id, COUNT(*) AS n FROM pci_devices GROUP BY compute_node_id"
    pci = {r["compute_node_id"]: r["n"] for r in ctx.dep.query("nova", pci_sql)}
    for n in nodes:
        rp = rps.get(n["uuid"])
        if rp is None:
            continue
        public = ComputeHost(
            n["host"], n["hypervisor_hostname"], n["service_id"], n["id"], n["uuid"], rp["id"], n["uuid"],
            n["host_ip"] or "", "cell1",
        )  # fmt: skip
        stats = json.loads(n["stats"] or "{}")
        state = HostState(
            public, n["vcpus"], n["memory_mb"], n["local_gb"], not n["disabled"], None, None,
            rp_generation=rp["generation"] or 0, used_vcpus=n["vcpus_used"],
            used_memory_mb=n["memory_mb_used"] - 512, used_disk_gb=n["local_gb_used"],
            running_vms=n["running_vms"] or 0, pci_next=pci.get(n["id"], 0),
            project_counts={k[9:]: int(v) for k, v in stats.items() if k.startswith("num_proj_")},
        )  # fmt: skip
        ctx.hosts[public.host] = state
