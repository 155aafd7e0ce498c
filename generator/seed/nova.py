"""Cell-database rows: compute services and nodes, and an instance with everything around it.

Follows what nova's own code writes for a booted server: the API creates instances,
instance_extra (flavor, pci_requests, keypairs), system metadata, metadata, tags and the
image BDM; the compute manager fills host/node/launched_on, vcpu_model, the info cache
and virtual_interfaces from Neutron, console tokens on demand. Rows are built with
every column any release knows; the writer keeps the columns this release has.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from generator.seed import api, shapes
from generator.seed.context import SeedContext
from generator.seed.model import HostState, InstanceState, Project, SeededPort, User
from generator.seed.values import epoch, iso_micro, sha256_hex

Row = dict
SOFT_DELETED_TABLES = (
    "instance_info_caches",
    "instance_metadata",
    "instance_faults",
    "instance_extra",
    "instance_system_metadata",
    "block_device_mapping",
    "migrations",
    "virtual_interfaces",
    "instance_id_mappings",
)


@dataclass
class InstanceSpec:
    """Resolved arguments of Seeder.instance(): objects instead of ids and names."""

    cell: str
    host: HostState | None  # where the instance row says it is
    project: Project
    user: User
    flavor: str
    display_name: str
    vm_state: str
    task_state: str | None
    power_state: int
    vif_types: tuple[str, ...]
    tags: tuple[str, ...]
    metadata: dict[str, str]
    faults: int
    actions: int
    console_tokens: int
    pci_devices: int
    shelved: bool
    deleted: bool
    build_request: bool
    launched_on: HostState | None = None
    new_flavor: str | None = None
    migration: str | None = None
    migration_status: str = "error"
    source: HostState | None = None
    dest: HostState | None = None
    uuid: str | None = None  # a given instance uuid (rehearsing an offline bundle made for it)


def _hostname(display_name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", display_name.lower()).strip("-")[:63] or "server"


class InstanceWriter:
    """Builds the cell-DB and nova_api rows of one instance (volumes are attached later)."""

    def __init__(self, ctx: SeedContext, spec: InstanceSpec) -> None:
        self.ctx, self.spec = ctx, spec
        self.role = ctx.cell_role(spec.cell)
        self.when = ctx.rand.tick()
        self.pci_addresses: list[str] = []

    def add(self, table: str, row: Row) -> Row:
        self.ctx.buf.add(self.role, table, row)
        self.inst.children.append((table, row))
        return row

    def write(self) -> tuple[InstanceState, list[SeededPort], Row]:
        """All rows of the instance; returns its state, its ports and the instance_extra row."""
        ctx, spec, role, buf = self.ctx, self.spec, self.role, self.ctx.buf
        uuid, inst_id = spec.uuid or ctx.rand.uuid(), buf.next_id(self.role, "instances")
        fspec = ctx.flavor(spec.flavor)[2]
        cur_name = (
            spec.new_flavor if (spec.new_flavor and spec.migration_status == "finished") else spec.flavor
        )
        cur_id, _, cur_spec = ctx.flavor(cur_name)
        image = ctx.image()
        host = spec.host
        launched = (
            None if spec.cell == "cell0" else self.when + dt.timedelta(seconds=ctx.rand.randint(15, 60))
        )
        inst = InstanceState(
            uuid, inst_id, role, spec.cell, host, spec.project, spec.user, cur_name, self.when,
            spec.vm_state, spec.shelved, spec.deleted,
        )  # fmt: skip
        inst.launched_on = spec.launched_on or host
        self.inst = inst
        kp_name, kp_fp, kp_key = api.keypair(ctx, spec.user, self.when)
        launched_on = spec.launched_on or host
        buf.add(
            role,
            "instances",
            {
                "created_at": self.when,
                "updated_at": (launched or self.when) + dt.timedelta(seconds=ctx.rand.randint(1, 900)),
                "deleted_at": None,
                "id": inst_id,
                "internal_id": None,
                "user_id": spec.user.id,
                "project_id": spec.project.id,
                "image_ref": image["id"],
                "kernel_id": "",
                "ramdisk_id": "",
                "launch_index": 0,
                "key_name": kp_name,
                "key_data": kp_key,
                "power_state": spec.power_state,
                "vm_state": spec.vm_state,
                "memory_mb": cur_spec["memory_mb"],
                "vcpus": cur_spec["vcpus"],
                "hostname": _hostname(spec.display_name),
                "host": host.public.host if host else None,
                "user_data": None,
                "reservation_id": "r-" + ctx.rand.token(4),
                "launched_at": launched,
                "terminated_at": None,
                "display_name": spec.display_name,
                "display_description": None,
                "availability_zone": "nova" if host or launched_on else None,
                "locked": 0,
                "os_type": "linux",
                "launched_on": launched_on.public.host if launched_on else None,
                "instance_type_id": cur_id,
                "vm_mode": None,
                "uuid": uuid,
                "architecture": "x86_64" if launched else None,
                "root_device_name": "/dev/vda",
                "access_ip_v4": None,
                "access_ip_v6": None,
                "config_drive": "",
                "task_state": spec.task_state,
                "default_ephemeral_device": None,
                "default_swap_device": None,
                "progress": 0,
                "auto_disk_config": 0,
                "shutdown_terminate": 0,
                "disable_terminate": 0,
                "root_gb": cur_spec["root_gb"],
                "ephemeral_gb": 0,
                "cell_name": None,
                "node": host.public.node if host else None,
                "deleted": 0,
                "locked_by": None,
                "cleaned": 0,
                "ephemeral_key_uuid": None,
                "hidden": 0,
                "compute_id": host.public.compute_node_id if host else None,
            },
        )
        self.instance_row = buf.pending[role]["instances"][-1]
        old_obj, cur_obj = ctx.flavor_obj(spec.flavor), ctx.flavor_obj(cur_name)
        old_extra = new_extra = None
        if spec.migration in ("resize", "migration"):
            # prep_resize records both flavors; a cold migration is a resize to the same flavor
            new_name = spec.new_flavor or spec.flavor
            old_extra, new_extra = old_obj, ctx.flavor_obj(new_name)
        pci_reqs, request_id = [], None
        if spec.pci_devices:
            request_id = ctx.rand.uuid()
            pci_reqs = [shapes.pci_request(request_id, "sriov-vf", "8086", "154c")]
        memo = ctx.memo
        flavor_json = memo.get(
            ("flavor", cur_name, old_extra is not None, spec.new_flavor),
            lambda: shapes.flavor_extra(cur_obj, old_extra, new_extra),
        )
        keypairs_json = memo.get(
            ("keypairs", spec.user.id), lambda: shapes.keypairs([(kp_name, spec.user.id, kp_fp, kp_key)])
        )
        extra = self.add(
            "instance_extra",
            {
                "created_at": self.when,
                "updated_at": launched,
                "deleted_at": None,
                "deleted": 0,
                "id": buf.next_id(role, "instance_extra"),
                "instance_uuid": uuid,
                "numa_topology": None,
                "pci_requests": shapes.dumps(pci_reqs) if pci_reqs else "[]",
                "flavor": flavor_json,
                "vcpu_model": memo.get(
                    ("vcpu", cur_spec["vcpus"]), lambda: shapes.vcpu_model(cur_spec["vcpus"])
                )
                if launched
                else None,
                "migration_context": None,
                "keypairs": keypairs_json,
                "device_metadata": None,
                "trusted_certs": None,
                "vpmems": None,
                "resources": None,
            },
        )
        ports = self._network(inst, launched)
        self._system_metadata(inst, image, fspec, launched)
        for key, value in spec.metadata.items():
            self.add(
                "instance_metadata",
                {
                    "created_at": self.when, "updated_at": None, "deleted_at": None,
                    "id": buf.next_id(role, "instance_metadata"), "key": key, "value": value,
                    "instance_uuid": uuid, "deleted": 0,
                },
            )  # fmt: skip
        if not spec.deleted:
            for tag in spec.tags:
                buf.add(role, "tags", {"resource_id": uuid, "tag": tag})
        image_bdm = self._image_bdm(inst, image)
        self.add(
            "instance_id_mappings",
            {
                "created_at": self.when, "updated_at": None, "deleted_at": None,
                "id": buf.next_id(role, "instance_id_mappings"), "uuid": uuid, "deleted": 0,
            },
        )  # fmt: skip
        if host and not spec.deleted:
            self._console_tokens(inst, host)
        if spec.pci_devices:
            self._pci(inst, request_id)
        if pci_reqs:
            spec_json = shapes.request_spec(
                ctx.release, instance_uuid=uuid, image=image, flavor_obj=cur_obj, project_id=spec.project.id,
                user_id=spec.user.id, availability_zone=None, pci_requests=pci_reqs,
            )  # fmt: skip
        else:
            template = memo.get(("request_spec", image["id"], cur_name), lambda: shapes.request_spec(
                ctx.release, instance_uuid="%%INSTANCE%%", image=image, flavor_obj=cur_obj,
                project_id="%%PROJECT%%", user_id="%%USER%%", availability_zone=None,
            ))  # fmt: skip
            spec_json = shapes.fill(
                template, {"%%INSTANCE%%": uuid, "%%PROJECT%%": spec.project.id, "%%USER%%": spec.user.id}
            )
        api.instance_mapping(ctx, inst, queued_for_delete=spec.deleted)
        api.request_spec(ctx, inst, spec_json)
        if spec.build_request:
            api.build_request(
                ctx, inst, flavor_obj=cur_obj, image=image, display_name=spec.display_name,
                tags=spec.tags, image_bdm=image_bdm,
            )  # fmt: skip
        return inst, ports, extra

    def _network(self, inst: InstanceState, launched: dt.datetime | None) -> list[SeededPort]:
        ctx, spec, buf = self.ctx, self.spec, self.ctx.buf
        vifs, ports = [], []
        net = spec.project.network
        for i, vif_type in enumerate(spec.vif_types if inst.cell == "cell1" else ()):
            port_id, mac = ctx.rand.uuid(), ctx.rand.mac()
            c = net.next_host
            net.next_host += 1
            ip = f"{net.prefix}.{(c // 250) % 256}.{c % 250 + 2}"  # a /16 per project
            floating = None
            if i == 0 and ctx.rand.chance(0.3):
                floating = f"198.51.100.{ctx.rand.randint(2, 254)}"
            key = ("vif", vif_type, net.id, floating is not None)

            def vif_json(vt: str = vif_type, fip: str | None = floating) -> str:
                return shapes.dumps(shapes.vif(
                    port_id="%%PORT%%", port_short="%%SHORT%%", mac="%%MAC%%", ip="%%IP%%", vif_type=vt,
                    network_id=net.id, network_label=net.label, prefix=net.prefix, project_id=spec.project.id,
                    floating_ip="%%FIP%%" if fip else None,
                ))  # fmt: skip

            template = ctx.memo.get(key, vif_json)
            vifs.append(shapes.fill(template, {"%%PORT%%": port_id, "%%SHORT%%": port_id[:11], "%%MAC%%": mac,
                                               "%%IP%%": ip, "%%FIP%%": floating or ""}))  # fmt: skip
            bridge = "brq" + net.id[:11] if vif_type == "bridge" else "br-int"
            ports.append(
                SeededPort(port_id, mac, ip, net.id, vif_type, "tap" + port_id[:11], bridge, floating)
            )
            self.add(
                "virtual_interfaces",
                {
                    "created_at": self.when, "updated_at": None, "deleted_at": None,
                    "id": buf.next_id(self.role, "virtual_interfaces"), "address": mac, "network_id": None,
                    "uuid": port_id, "instance_uuid": inst.uuid, "deleted": 0, "tag": None,
                },
            )  # fmt: skip
        self.add(
            "instance_info_caches",
            {
                "created_at": self.when, "updated_at": launched, "deleted_at": None,
                "id": buf.next_id(self.role, "instance_info_caches"),
                "network_info": "[" + ", ".join(vifs) + "]", "instance_uuid": inst.uuid, "deleted": 0,
            },
        )  # fmt: skip
        return ports

    def _system_metadata(
        self, inst: InstanceState, image: dict, fspec: dict, launched: dt.datetime | None
    ) -> None:
        spec = self.spec
        meta = {
            "image_base_image_ref": image["id"],
            "image_container_format": "bare",
            "image_disk_format": image["disk_format"],
            "image_min_disk": str(max(image["min_disk"], fspec["root_gb"])),
            "image_min_ram": "0",
        }
        meta.update({f"image_{k}": v for k, v in image["properties"].items()})
        meta["owner_project_name"] = spec.project.name
        meta["owner_user_name"] = spec.user.name
        if launched:
            meta["image_hw_machine_type"] = "q35"
            meta["boot_roles"] = "reader,member"
        if spec.shelved and spec.launched_on:
            shelved_at = self.when + dt.timedelta(days=2)
            meta["shelved_at"] = iso_micro(shelved_at)
            meta["shelved_image_id"] = self.ctx.rand.uuid()
            meta["shelved_host"] = spec.launched_on.public.host
        for key, value in meta.items():
            self.add(
                "instance_system_metadata",
                {
                    "created_at": self.when, "updated_at": None, "deleted_at": None,
                    "id": self.ctx.buf.next_id(self.role, "instance_system_metadata"),
                    "instance_uuid": inst.uuid, "key": key, "value": value, "deleted": 0,
                },
            )  # fmt: skip

    def _image_bdm(self, inst: InstanceState, image: dict) -> Row:
        return self.add(
            "block_device_mapping",
            {
                "created_at": self.when, "updated_at": self.when, "deleted_at": None,
                "id": self.ctx.buf.next_id(self.role, "block_device_mapping"), "device_name": "/dev/vda",
                "delete_on_termination": 1, "snapshot_id": None, "volume_id": None, "volume_size": None,
                "no_device": None, "connection_info": None, "instance_uuid": inst.uuid, "deleted": 0,
                "source_type": "image", "destination_type": "local", "guest_format": None,
                "device_type": "disk", "disk_bus": "virtio", "boot_index": 0, "image_id": image["id"],
                "tag": None, "attachment_id": None, "uuid": self.ctx.rand.uuid(), "volume_type": None,
                "encrypted": 0, "encryption_secret_uuid": None, "encryption_format": None,
                "encryption_options": None,
            },
        )  # fmt: skip

    def _console_tokens(self, inst: InstanceState, host: HostState) -> None:
        for _ in range(self.spec.console_tokens):
            created = self.when + dt.timedelta(minutes=self.ctx.rand.randint(5, 600))
            self.ctx.buf.add(
                self.role,
                "console_auth_tokens",
                {
                    "created_at": created, "updated_at": None,
                    "id": self.ctx.buf.next_id(self.role, "console_auth_tokens"),
                    "token_hash": sha256_hex(self.ctx.rand.uuid()), "console_type": "novnc",
                    "host": host.public.host_ip, "port": 5900 + host.vnc_next, "internal_access_path": None,
                    "instance_uuid": inst.uuid, "expires": epoch(created) + 600,
                    "access_url_base": "https://controller.example.org:6080/vnc_lite.html", "tls_port": None,
                },
            )  # fmt: skip
            host.vnc_next += 1

    def _pci(self, inst: InstanceState, request_id: str | None) -> None:
        host = self.spec.host
        assert host is not None
        for _ in range(self.spec.pci_devices):
            n = host.pci_next
            host.pci_next += 1
            slot, fn = n // 7, n % 7 + 1
            address = f"0000:81:{slot:02x}.{fn}"
            self.pci_addresses.append(address)
            self.ctx.buf.add(
                self.role,
                "pci_devices",
                {
                    "created_at": self.when, "updated_at": self.when, "deleted_at": None, "deleted": 0,
                    "id": self.ctx.buf.next_id(self.role, "pci_devices"),
                    "compute_node_id": host.public.compute_node_id, "address": address, "product_id": "154c",
                    "vendor_id": "8086", "dev_type": "type-VF", "dev_id": f"pci_0000_81_{slot:02x}_{fn}",
                    "label": "label_8086_154c", "status": "allocated", "extra_info": "{}",
                    "instance_uuid": inst.uuid, "request_id": request_id, "numa_node": 0,
                    "parent_addr": "0000:81:00.0", "uuid": self.ctx.rand.uuid(),
                },
            )  # fmt: skip


def soft_delete(inst: InstanceState, instance_row: Row, when: dt.datetime) -> None:
    """What instance_destroy() leaves: deleted=id on the instance and its dependent rows."""
    instance_row.update(
        vm_state="deleted", task_state=None, power_state=0, terminated_at=when, deleted_at=when,
        updated_at=when, deleted=instance_row["id"],
    )  # fmt: skip
    for table, row in inst.children:
        if table in SOFT_DELETED_TABLES:
            row.update(deleted=row["id"], deleted_at=when, updated_at=when)
