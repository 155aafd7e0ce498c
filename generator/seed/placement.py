"""Placement rows: providers with inventories and traits, projects/users, consumers, allocations.

Facts taken from openstack-placement's own code:
- Standard resource classes are written into `resource_classes` by placement itself at
  startup (placement/objects/resource_class.py `_resource_classes_sync`, called from
  deploy.py), with id = index in os_resource_classes.STANDARDS (VCPU is id 0, inserted
  under NO_AUTO_VALUE_ON_ZERO). So allocations.resource_class_id 0/1/2 = VCPU/MEMORY_MB/
  DISK_GB, and a real placement database does hold those rows.
- Traits are synced the same way from os-traits (a subset is seeded here: those a
  libvirt compute really reports, plus COMPUTE_STATUS_DISABLED).
- nova never sends `consumer_type` (its report client stops at microversion 1.36, and
  1.38 introduced consumer types), so real nova consumers have consumer_type_id NULL;
  `consumer_types=True` on the Seeder writes INSTANCE/MIGRATION rows instead, as a
  client using 1.38 would.
- Every allocation write bumps the generation of each provider it touches and of the
  consumer; a provider's generation after creation + inventory + traits is 2.
"""

from __future__ import annotations

import datetime as dt

from generator.seed.context import SeedContext
from generator.seed.model import HostState, Project, User

# os_resource_classes.STANDARDS (os-resource-classes 1.1, as installed with placement 16.0.0).
STANDARD_RESOURCE_CLASSES = (
    "VCPU",
    "MEMORY_MB",
    "DISK_GB",
    "PCI_DEVICE",
    "SRIOV_NET_VF",
    "NUMA_SOCKET",
    "NUMA_CORE",
    "NUMA_THREAD",
    "NUMA_MEMORY_MB",
    "IPV4_ADDRESS",
    "VGPU",
    "VGPU_DISPLAY_HEAD",
    "NET_BW_EGR_KILOBIT_PER_SEC",
    "NET_BW_IGR_KILOBIT_PER_SEC",
    "PCPU",
    "MEM_ENCRYPTION_CONTEXT",
    "FPGA",
    "PGPU",
    "NET_PACKET_RATE_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC",
)
RC = {name: index for index, name in enumerate(STANDARD_RESOURCE_CLASSES)}

COMPUTE_TRAITS = (
    "COMPUTE_NODE",
    "COMPUTE_ACCELERATORS",
    "COMPUTE_DEVICE_TAGGING",
    "COMPUTE_NET_ATTACH_INTERFACE",
    "COMPUTE_NET_ATTACH_INTERFACE_WITH_TAG",
    "COMPUTE_NET_VIF_MODEL_VIRTIO",
    "COMPUTE_VOLUME_ATTACH_WITH_TAG",
    "COMPUTE_VOLUME_EXTEND",
    "COMPUTE_VOLUME_MULTI_ATTACH",
    "COMPUTE_TRUSTED_CERTS",
    "COMPUTE_IMAGE_TYPE_QCOW2",
    "COMPUTE_IMAGE_TYPE_RAW",
    "COMPUTE_GRAPHICS_MODEL_VGA",
    "COMPUTE_STORAGE_BUS_VIRTIO",
    "COMPUTE_RESCUE_BFV",
    "HW_CPU_X86_AVX2",
    "HW_CPU_X86_SSE42",
    "HW_CPU_X86_AESNI",
    "HW_CPU_X86_VMX",
)
DISABLED_TRAIT = "COMPUTE_STATUS_DISABLED"
ALL_TRAITS = (*COMPUTE_TRAITS, DISABLED_TRAIT)

ROLE = "placement"


class PlacementSeeder:
    """Placement-side rows; ids are allocated up front so batches can cross-reference."""

    def __init__(self, ctx: SeedContext) -> None:
        self.ctx = ctx
        self._synced = False
        self._traits: dict[str, int] = {}
        self._projects: dict[str, int] = {}
        self._users: dict[str, int] = {}
        self._consumer_types: dict[str, int] = {}

    def sync(self) -> None:
        """What placement does at startup: standard resource classes and traits."""
        if self._synced:
            return
        self._synced = True
        buf, when = self.ctx.buf, self.ctx.rand.base - dt.timedelta(days=30)
        have = {r["name"] for r in self.ctx.dep.query(ROLE, "SELECT name FROM resource_classes")}
        for index, name in enumerate(STANDARD_RESOURCE_CLASSES):
            if name not in have:
                buf.add(
                    ROLE,
                    "resource_classes",
                    {"created_at": when, "updated_at": None, "id": index, "name": name},
                )
        rows = self.ctx.dep.query(ROLE, "SELECT id, name FROM traits")
        self._traits = {r["name"]: r["id"] for r in rows}
        for name in ALL_TRAITS:
            if name not in self._traits:
                tid = buf.next_id(ROLE, "traits")
                buf.add(ROLE, "traits", {"created_at": when, "updated_at": None, "id": tid, "name": name})
                self._traits[name] = tid

    def provider(self, rp_uuid: str, name: str, *, vcpus: int, memory_mb: int, local_gb: int, enabled: bool):
        """resource_providers row (root = itself) + VCPU/MEMORY_MB/DISK_GB inventories + traits."""
        self.sync()
        buf, when = self.ctx.buf, self.ctx.rand.now()
        rp_id = buf.next_id(ROLE, "resource_providers")
        row = buf.add(
            ROLE,
            "resource_providers",
            {
                "created_at": when,
                "updated_at": when,
                "id": rp_id,
                "uuid": rp_uuid,
                "name": name,
                "generation": 2,
                "root_provider_id": rp_id,
                "parent_provider_id": None,
            },
        )
        inventory = (
            ("VCPU", vcpus, 0, 16.0),
            ("MEMORY_MB", memory_mb, 512, 1.5),
            ("DISK_GB", local_gb, 0, 1.0),
        )
        for rc, total, reserved, ratio in inventory:
            buf.add(
                ROLE,
                "inventories",
                {
                    "created_at": when,
                    "updated_at": None,
                    "id": buf.next_id(ROLE, "inventories"),
                    "resource_provider_id": rp_id,
                    "resource_class_id": RC[rc],
                    "total": total,
                    "reserved": reserved,
                    "min_unit": 1,
                    "max_unit": total,
                    "step_size": 1,
                    "allocation_ratio": ratio,
                },
            )
        traits = COMPUTE_TRAITS if enabled else (*COMPUTE_TRAITS, DISABLED_TRAIT)
        for name in traits:
            buf.add(
                ROLE,
                "resource_provider_traits",
                {
                    "created_at": when,
                    "updated_at": None,
                    "trait_id": self._traits[name],
                    "resource_provider_id": rp_id,
                },
            )
        return rp_id, row

    def _external(self, table: str, cache: dict[str, int], external_id: str, when: dt.datetime) -> int:
        if external_id not in cache:
            found = self.ctx.dep.query(ROLE, f"SELECT id FROM {table} WHERE external_id = %s", (external_id,))
            if found:
                cache[external_id] = found[0]["id"]
            else:
                new_id = self.ctx.buf.next_id(ROLE, table)
                self.ctx.buf.add(
                    ROLE,
                    table,
                    {"created_at": when, "updated_at": None, "id": new_id, "external_id": external_id},
                )
                cache[external_id] = new_id
        return cache[external_id]

    def _consumer_type(self, name: str, when: dt.datetime) -> int | None:
        if not self.ctx.consumer_types or not self.ctx.has(ROLE, "consumer_types"):
            return None
        if name not in self._consumer_types:
            found = self.ctx.dep.query(ROLE, "SELECT id FROM consumer_types WHERE name = %s", (name,))
            if found:
                self._consumer_types[name] = found[0]["id"]
            else:
                cid = self.ctx.buf.next_id(ROLE, "consumer_types")
                self.ctx.buf.add(
                    ROLE, "consumer_types", {"created_at": when, "updated_at": None, "id": cid, "name": name}
                )
                self._consumer_types[name] = cid
        return self._consumer_types[name]

    def allocate(
        self,
        consumer_uuid: str,
        project: Project,
        user: User,
        host: HostState,
        *,
        vcpus: int,
        memory_mb: int,
        disk_gb: int,
        when: dt.datetime,
        consumer_type: str = "INSTANCE",
    ) -> None:
        """A consumer (created with its first allocation, as placement does) and its allocations."""
        self.sync()
        buf = self.ctx.buf
        pid = self._external("projects", self._projects, project.id, when)
        uid = self._external("users", self._users, user.id, when)
        buf.add(
            ROLE,
            "consumers",
            {
                "created_at": when,
                "updated_at": when,
                "id": buf.next_id(ROLE, "consumers"),
                "uuid": consumer_uuid,
                "project_id": pid,
                "user_id": uid,
                "generation": 1,
                "consumer_type_id": self._consumer_type(consumer_type, when),
            },
        )
        rp_id = host.public.provider_id
        for rc, used in (("VCPU", vcpus), ("MEMORY_MB", memory_mb), ("DISK_GB", disk_gb)):
            if used:
                buf.add(
                    ROLE,
                    "allocations",
                    {
                        "created_at": when,
                        "updated_at": None,
                        "id": buf.next_id(ROLE, "allocations"),
                        "resource_provider_id": rp_id,
                        "consumer_id": consumer_uuid,
                        "resource_class_id": RC[rc],
                        "used": used,
                    },
                )
        host.rp_generation += 1
        host.rp_dirty = True
