"""What the seeder hands back (frozen) and the mutable bookkeeping it keeps meanwhile.

The frozen dataclasses are the contract other code (repair tests, benchmarks) builds
on: ids and names of everything seeded, so a test can aim a repair at a row without
re-querying. The mutable `*State` classes are internal: they track per-host usage,
per-instance device names and the like, which change as more rows are seeded and
are folded into the rows at flush time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

VIF_TYPES = ("ovs_hybrid", "ovs", "bridge", "vhostuser")
PROTOCOLS = ("iscsi", "rbd", "fibre_channel", "nfs")
MIGRATION_TYPES = ("resize", "migration", "live-migration")


@dataclass(frozen=True)
class ComputeHost:
    """A nova-compute service, its compute node and its placement resource provider."""

    host: str
    node: str
    service_id: int
    compute_node_id: int
    compute_node_uuid: str
    provider_id: int
    provider_uuid: str
    host_ip: str = ""
    cell: str = "cell1"


@dataclass(frozen=True)
class SeededPort:
    """One VIF of an instance, as Neutron's port and nova's network_info describe it."""

    id: str
    mac: str
    ip: str
    network_id: str
    vif_type: str  # the seeder's vif_types value: ovs_hybrid | ovs | bridge | vhostuser
    devname: str
    bridge: str
    floating_ip: str | None = None


@dataclass(frozen=True)
class SeededInstance:
    """An instance and the handles of what was seeded around it."""

    uuid: str
    id: int
    host: str | None
    node: str | None
    project_id: str
    user_id: str
    cell: str
    ports: tuple[SeededPort, ...]
    volumes: tuple[str, ...]
    migration: str | None
    flavor: str = "m1.small"
    vm_state: str = "active"
    task_state: str | None = None
    display_name: str = ""
    dest_host: str | None = None
    compute_node_id: int | None = None
    shelved: bool = False
    deleted: bool = False
    tags: tuple[str, ...] = ()
    pci_addresses: tuple[str, ...] = ()
    console_tokens: int = 0

    @property
    def vifs(self) -> tuple[SeededPort, ...]:
        return self.ports


@dataclass(frozen=True)
class SeededVolume:
    """A Cinder volume and its attachments, snapshots and backups."""

    id: str
    project_id: str
    size: int
    volume_type_id: str
    volume_type_name: str
    attachments: tuple[str, ...]
    snapshots: tuple[str, ...]
    backups: tuple[str, ...]
    protocol: str = "iscsi"
    status: str = "available"
    attach_status: str = "detached"
    instance_uuids: tuple[str, ...] = ()
    encrypted: bool = False
    multiattach: bool = False
    bootable: bool = False
    host: str = ""


@dataclass
class Network:
    """A project's tenant network and subnet (Neutron side, only as nova caches it)."""

    id: str
    label: str
    prefix: str  # first two octets of the tenant /16
    next_host: int = 10


@dataclass
class User:
    id: str
    name: str


@dataclass
class Project:
    id: str
    name: str
    users: list[User]
    network: Network
    placement_id: int | None = None


@dataclass
class HostState:
    """Per-host bookkeeping: capacity, usage to fold into compute_nodes, RP generation."""

    public: ComputeHost
    vcpus: int
    memory_mb: int
    local_gb: int
    enabled: bool
    node_row: dict[str, Any] | None
    rp_row: dict[str, Any] | None
    rp_generation: int
    used_vcpus: int = 0
    used_memory_mb: int = 0
    used_disk_gb: int = 0
    running_vms: int = 0
    project_counts: dict[str, int] = field(default_factory=dict)
    pci_next: int = 0
    vnc_next: int = 0
    dirty: bool = False
    rp_dirty: bool = False


@dataclass
class InstanceState:
    """Per-instance bookkeeping used while volumes get attached to it later."""

    uuid: str
    id: int
    role: str
    cell: str
    host: HostState | None
    project: Project
    user: User
    flavor: str
    created_at: dt.datetime
    vm_state: str
    shelved: bool
    deleted: bool
    launched_on: HostState | None = None
    next_disk: int = 1  # /dev/vda is the image BDM; volumes from /dev/vdb
    volumes: list[str] = field(default_factory=list)
    # (table, row) of the cell-DB rows nova's instance_destroy soft-deletes with it
    children: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
