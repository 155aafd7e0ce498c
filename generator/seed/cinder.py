"""Cinder rows: services, volume types (+extra specs, encryption), volumes, snapshots, backups.

Per backend (one per protocol) there is a cinder-volume service whose uuid volumes
carry in service_uuid (Queens+), and a volume type whose `volume_backend_name` extra
spec routes to it, as an operator configures them. Values follow the drivers: the LVM
target writes provider_location/provider_auth (iSCSI portal, IQN, CHAP), NFS the share,
RBD nothing. Attachments live in attach.py; quota usage recount in quota.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from generator.seed.connection import BACKENDS, ISCSI_PORTALS, Backend
from generator.seed.context import SeedContext
from generator.seed.model import Project, User
from generator.seed.values import cinder_backup_rpc, cinder_volume_rpc
from generator.seed.writer import SeedError

ROLE = "cinder"
Row = dict


@dataclass
class VolumeType:
    id: str
    name: str
    backend: Backend
    encrypted: bool
    multiattach: bool


@dataclass
class VolumeState:
    """A volume while its attachments are being added."""

    row: Row
    vtype: VolumeType
    project: Project
    user: User
    multipath: bool
    chap: tuple[str, str]
    attachments: list[str] = field(default_factory=list)
    attach_statuses: list[str] = field(default_factory=list)
    instance_uuids: list[str] = field(default_factory=list)
    admin_metadata_done: bool = False


class CinderSeeder:
    """Cinder-side rows; remembers which projects need their quota usage recounted."""

    def __init__(self, ctx: SeedContext) -> None:
        self.ctx = ctx
        self.types: dict[str, VolumeType] = {}
        self.services: dict[str, str] = {}
        self.dirty_projects: set[str] = set()
        self._array_wwns: list[str] = []
        self._controller_done = False

    # services / types --------------------------------------------------------------
    def _service_row(self, host: str, binary: str, rpc: str, when: dt.datetime) -> str:
        svc_uuid = self.ctx.rand.uuid()
        self.ctx.buf.add(
            ROLE,
            "services",
            {
                "created_at": when, "updated_at": when + dt.timedelta(days=20), "deleted_at": None,
                "deleted": 0, "id": self.ctx.buf.next_id(ROLE, "services"), "host": host, "binary": binary,
                "topic": binary, "report_count": self.ctx.rand.randint(1000, 90000), "disabled": 0,
                "availability_zone": "nova", "disabled_reason": None, "modified_at": None,
                "rpc_current_version": rpc, "object_current_version": "1.39",
                "replication_status": "disabled" if binary == "cinder-volume" else "not-capable",
                "frozen": 0, "active_backend_id": None, "cluster_name": None, "uuid": svc_uuid,
            },
        )  # fmt: skip
        return svc_uuid

    def service(self, backend: Backend) -> str:
        """cinder-volume service of a backend (plus scheduler and backup on first call)."""
        when = self.ctx.rand.base - dt.timedelta(days=25)
        if not self._controller_done:
            self._controller_done = True
            rows = self.ctx.dep.query(ROLE, "SELECT host, `binary`, uuid FROM services WHERE deleted = 0")
            if rows:  # an earlier Seeder on this deployment made them
                self.services.update({r["host"].split("@")[-1]: r["uuid"] for r in rows})
            else:
                self._service_row("controller", "cinder-scheduler", "3.12", when)
                self._service_row("controller", "cinder-backup", cinder_backup_rpc(self.ctx.release), when)
        if backend.section not in self.services:
            self.services[backend.section] = self._service_row(
                backend.service_host, "cinder-volume", cinder_volume_rpc(self.ctx.release), when
            )
        return self.services[backend.section]

    def volume_type(self, name: str, backend: Backend, *, encrypted: bool, multiattach: bool) -> VolumeType:
        """A volume type with volume_backend_name (+ multiattach spec, + encryption row)."""
        if name not in self.types:
            found = self.ctx.dep.query(
                ROLE, "SELECT id FROM volume_types WHERE name = %s AND deleted = 0", (name,)
            )
            if found:  # made by an earlier Seeder on this deployment
                self.types[name] = VolumeType(found[0]["id"], name, backend, encrypted, multiattach)
        if name in self.types:
            vt = self.types[name]
            if vt.encrypted != encrypted or vt.multiattach != multiattach:
                raise SeedError(
                    f"volume type {name!r} exists with encrypted={vt.encrypted}, multiattach={vt.multiattach}"
                )
            return vt
        buf, when = self.ctx.buf, self.ctx.rand.base - dt.timedelta(days=24)
        type_id = self.ctx.rand.uuid()
        buf.add(
            ROLE,
            "volume_types",
            {
                "created_at": when, "updated_at": when, "deleted_at": None, "deleted": 0, "id": type_id,
                "name": name, "qos_specs_id": None, "is_public": 1,
                "description": f"{backend.section} backend",
            },
        )  # fmt: skip
        specs = {"volume_backend_name": backend.section}
        if multiattach:
            specs["multiattach"] = "<is> True"
        for key, value in specs.items():
            buf.add(
                ROLE,
                "volume_type_extra_specs",
                {
                    "created_at": when, "updated_at": None, "deleted_at": None, "deleted": 0,
                    "id": buf.next_id(ROLE, "volume_type_extra_specs"), "volume_type_id": type_id,
                    "key": key, "value": value,
                },
            )  # fmt: skip
        if encrypted:
            buf.add(
                ROLE,
                "encryption",
                {
                    "created_at": when, "updated_at": None, "deleted_at": None, "deleted": 0,
                    "cipher": "aes-xts-plain64", "control_location": "front-end", "key_size": 256,
                    "provider": "luks", "volume_type_id": type_id, "encryption_id": self.ctx.rand.uuid(),
                },
            )  # fmt: skip
        vt = VolumeType(type_id, name, backend, encrypted, multiattach)
        self.types[name] = vt
        return vt

    def resolve_type(
        self, name: str | None, protocol: str, *, encrypted: bool, multiattach: bool
    ) -> VolumeType:
        if protocol not in BACKENDS:
            raise SeedError(f"unknown protocol {protocol!r}; expected one of {', '.join(BACKENDS)}")
        if encrypted and multiattach:
            raise SeedError("cinder refuses multiattach for encrypted volume types")
        backend = BACKENDS[protocol]
        if name is None:
            name = (
                backend.default_type
                + ("-luks" if encrypted else "")
                + ("-multiattach" if multiattach else "")
            )
        return self.volume_type(name, backend, encrypted=encrypted, multiattach=multiattach)

    @property
    def array_wwns(self) -> list[str]:
        if not self._array_wwns:
            self._array_wwns = [self.ctx.rand.wwn(), self.ctx.rand.wwn()]
        return self._array_wwns

    # volumes -----------------------------------------------------------------------
    def volume(
        self,
        *,
        project: Project,
        user: User,
        size: int,
        vtype: VolumeType,
        status: str,
        bootable: bool,
        metadata: dict[str, str],
        use_quota: bool,
        multipath: bool,
        display_name: str,
    ) -> VolumeState:
        ctx, buf = self.ctx, self.ctx.buf
        when = ctx.rand.tick()
        vol_id = ctx.rand.uuid()
        backend = vtype.backend
        chap = (ctx.rand.password(20), ctx.rand.password(16))
        provider_location = provider_auth = None
        if backend.protocol == "iscsi":
            provider_location = f"{ISCSI_PORTALS[0]},1 iqn.2010-10.org.openstack:volume-{vol_id} 1"
            provider_auth = f"CHAP {chap[0]} {chap[1]}"
        elif backend.protocol == "nfs":
            provider_location = backend.pool
        row = buf.add(
            ROLE,
            "volumes",
            {
                "created_at": when, "updated_at": when + dt.timedelta(seconds=8), "deleted_at": None,
                "deleted": 0, "id": vol_id, "ec2_id": None, "user_id": user.id, "project_id": project.id,
                "host": backend.volume_host, "size": size, "availability_zone": "nova", "status": status,
                "attach_status": "detached", "scheduled_at": when + dt.timedelta(seconds=1),
                "launched_at": when + dt.timedelta(seconds=6), "terminated_at": None,
                "display_name": display_name, "display_description": None,
                "provider_location": provider_location, "provider_auth": provider_auth, "snapshot_id": None,
                "volume_type_id": vtype.id, "source_volid": None, "bootable": int(bootable),
                "provider_geometry": None, "_name_id": None,
                "encryption_key_id": ctx.rand.uuid() if vtype.encrypted else None, "migration_status": None,
                "replication_status": "disabled", "replication_extended_status": None,
                "replication_driver_data": None, "consistencygroup_id": None, "provider_id": None,
                "multiattach": int(vtype.multiattach), "previous_status": None, "cluster_name": None,
                "group_id": None, "service_uuid": self.service(backend), "shared_targets": 0,
                "use_quota": int(use_quota),
            },
        )  # fmt: skip
        for key, value in metadata.items():
            self._meta("volume_metadata", {"volume_id": vol_id, "key": key, "value": value}, when)
        if bootable:
            for key, value in self.glance_metadata().items():
                self._meta("volume_glance_metadata", {"volume_id": vol_id, "snapshot_id": None, "key": key,
                                                      "value": value}, when)  # fmt: skip
        self.dirty_projects.add(project.id)
        return VolumeState(row, vtype, project, user, multipath, chap)

    def glance_metadata(self) -> dict[str, str]:
        """What cinder copies from the Glance image into volume_glance_metadata."""
        image = self.ctx.image(0)
        meta = {
            "image_id": image["id"],
            "image_name": image["name"],
            "container_format": "bare",
            "disk_format": image["disk_format"],
            "checksum": image["checksum"],
            "min_disk": str(image["min_disk"]),
            "min_ram": "0",
            "size": str(image["size"]),
        }
        meta.update({k: str(v) for k, v in image["properties"].items()})
        return meta

    def _meta(self, table: str, values: Row, when: dt.datetime) -> Row:
        row = {"created_at": when, "updated_at": None, "deleted_at": None, "deleted": 0,
               "id": self.ctx.buf.next_id(ROLE, table), **values}  # fmt: skip
        return self.ctx.buf.add(ROLE, table, row)

    def admin_metadata(self, vol: VolumeState, when: dt.datetime) -> None:
        """attached_mode/readonly, as the (legacy) attach path records them once per volume."""
        if vol.admin_metadata_done:
            return
        vol.admin_metadata_done = True
        for key, value in (("readonly", "False"), ("attached_mode", "rw")):
            self._meta(
                "volume_admin_metadata", {"volume_id": vol.row["id"], "key": key, "value": value}, when
            )

    def snapshot(self, vol: VolumeState, index: int) -> str:
        ctx = self.ctx
        when = vol.row["created_at"] + dt.timedelta(hours=6 * (index + 1))
        snap_id = ctx.rand.uuid()
        ctx.buf.add(
            ROLE,
            "snapshots",
            {
                "created_at": when, "updated_at": when + dt.timedelta(seconds=4), "deleted_at": None,
                "deleted": 0, "id": snap_id, "volume_id": vol.row["id"], "user_id": vol.user.id,
                "project_id": vol.project.id, "status": "available", "progress": "100%",
                "volume_size": vol.row["size"], "scheduled_at": None,
                "display_name": f"{vol.row['display_name']}-snap-{index + 1}", "display_description": None,
                "provider_location": None,
                "encryption_key_id": ctx.rand.uuid() if vol.vtype.encrypted else None,
                "volume_type_id": vol.vtype.id, "cgsnapshot_id": None, "provider_id": None,
                "provider_auth": None, "group_snapshot_id": None, "use_quota": 1,
            },
        )  # fmt: skip
        self._meta(
            "snapshot_metadata", {"snapshot_id": snap_id, "key": "created_by", "value": "backup-job"}, when
        )
        if vol.row["bootable"]:
            for key, value in self.glance_metadata().items():
                self._meta("volume_glance_metadata", {"volume_id": None, "snapshot_id": snap_id, "key": key,
                                                      "value": value}, when)  # fmt: skip
        self.dirty_projects.add(vol.project.id)
        return snap_id

    def backup(self, vol: VolumeState, index: int) -> str:
        ctx = self.ctx
        when = vol.row["created_at"] + dt.timedelta(days=index + 1)
        backup_id = ctx.rand.uuid()
        size = vol.row["size"]
        ctx.buf.add(
            ROLE,
            "backups",
            {
                "created_at": when, "updated_at": when + dt.timedelta(minutes=3), "deleted_at": None,
                "deleted": 0, "id": backup_id, "volume_id": vol.row["id"], "user_id": vol.user.id,
                "project_id": vol.project.id, "host": "controller", "availability_zone": "nova",
                "display_name": f"{vol.row['display_name']}-backup-{index + 1}", "display_description": None,
                "container": "volumebackups", "status": "available", "fail_reason": None,
                "service_metadata": f"volume_{vol.row['id']}/{when:%Y%m%d%H%M%S}/az_nova_backup_{backup_id}",
                "service": "cinder.backup.drivers.swift.SwiftBackupDriver", "size": size,
                "object_count": (size * 1024 + 49) // 50, "parent_id": None, "temp_volume_id": None,
                "temp_snapshot_id": None, "num_dependent_backups": 0, "snapshot_id": None,
                "data_timestamp": when, "restore_volume_id": None,
                "encryption_key_id": ctx.rand.uuid() if vol.vtype.encrypted else None,
            },
        )  # fmt: skip
        self.dirty_projects.add(vol.project.id)
        return backup_id
