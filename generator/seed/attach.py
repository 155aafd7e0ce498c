"""A volume attached to an instance, written on both sides so Nova and Cinder agree.

The new-style attach flow (nova/virt/block_device.py + cinder attachments API):
attachment_create reserves, attachment_update(connector) connects (the driver's
connection_info is stored flattened on the Cinder attachment, and returned to nova
which stores it nested in the BDM with status 'attaching'), attachment_complete marks
the attachment 'attached' and the volume 'in-use'. The BDM's attachment_id is the
Cinder attachment's id.

Two later states matter to repairs and are reproduced as nova leaves them:
- shelve-offload (compute manager _terminate_volume_connections): a fresh attachment
  without connector is reserved, the old one deleted (attach_status 'deleted',
  deleted=1), the BDM re-pointed at the new id; the volume shows 'reserved'.
- instance delete: the attachment is deleted, the volume is 'available'/'detached', the
  BDM soft-deleted with the instance.
"""

from __future__ import annotations

import datetime as dt

from generator.seed import connection, shapes
from generator.seed.cinder import ROLE, CinderSeeder, VolumeState
from generator.seed.context import SeedContext
from generator.seed.model import InstanceState
from generator.seed.writer import SeedError


def _attachment_row(
    ctx: SeedContext,
    vol: VolumeState,
    inst: InstanceState,
    *,
    when: dt.datetime,
    status: str,
    host: str | None,
    mountpoint: str | None,
    connection_info: dict | None,
    connector: dict | None,
) -> dict:
    return {
        "created_at": when,
        "updated_at": when + dt.timedelta(seconds=3),
        "deleted_at": None,
        "deleted": 0,
        "id": ctx.rand.uuid(),
        "volume_id": vol.row["id"],
        "attached_host": host,
        "instance_uuid": inst.uuid,
        "mountpoint": mountpoint,
        "attach_time": when + dt.timedelta(seconds=2) if status == "attached" else None,
        "detach_time": None,
        "attach_mode": "rw" if status == "attached" else "null",
        "attach_status": status,
        "connection_info": None if connection_info is None else shapes.dumps(connection_info),
        "connector": None if connector is None else shapes.dumps(connector),
    }


def attach(ctx: SeedContext, cinder: CinderSeeder, vol: VolumeState, inst: InstanceState) -> str:
    """Attach `vol` to `inst` in both databases; returns the live Cinder attachment id."""
    if inst.cell == "cell0":
        raise SeedError("an instance buried in cell0 never had volumes attached")
    if vol.instance_uuids and not vol.vtype.multiattach:
        raise SeedError(f"volume {vol.row['id']} is already attached and not multiattach")
    # a shelved instance had its volumes attached while it still ran on launched_on
    running_on = inst.host or inst.launched_on
    if running_on is None:
        raise SeedError("attaching needs the instance to have run on a compute host")
    source_host = running_on.public
    when = max(inst.created_at, vol.row["created_at"]) + dt.timedelta(minutes=ctx.rand.randint(2, 90))
    mountpoint = f"/dev/vd{chr(ord('a') + inst.next_disk)}"
    inst.next_disk += 1
    backend = vol.vtype.backend
    driver = connection.driver_connection(
        backend,
        volume_id=vol.row["id"],
        encrypted=vol.vtype.encrypted,
        multipath=vol.multipath,
        chap=vol.chap,
        array_wwns=cinder.array_wwns,
        host=source_host.host,
    )
    connector = connection.connector(source_host.host, source_host.host_ip, multipath=vol.multipath,
                                     mountpoint=mountpoint)  # fmt: skip
    live = _attachment_row(ctx, vol, inst, when=when, status="attached", host=source_host.host,
                           mountpoint=mountpoint, connection_info=None, connector=connector)  # fmt: skip
    flat = connection.cinder_connection_info(ctx.release, driver, live["id"])
    live["connection_info"] = shapes.dumps(flat)
    attached_at = (when + dt.timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S.000000")
    nova_info = connection.nova_connection_info(
        flat,
        backend=backend,
        status="attaching",
        instance_uuid=inst.uuid,
        attached_at=attached_at,
        volume_id=vol.row["id"],
        multipath=vol.multipath,
        multiattach=vol.vtype.multiattach,
    )
    ctx.buf.add(ROLE, "volume_attachment", live)
    current: dict | None = live
    row = vol.row
    if inst.deleted:
        _delete_attachment(live, when + dt.timedelta(days=3))
        current = None
    elif inst.shelved:
        _delete_attachment(live, when + dt.timedelta(days=2))
        current = _attachment_row(
            ctx, vol, inst, when=when + dt.timedelta(days=2), status="reserved",
            host=None, mountpoint=None, connection_info=None, connector=None,
        )  # fmt: skip
        ctx.buf.add(ROLE, "volume_attachment", current)
    cinder.admin_metadata(vol, when)
    if current is not None:
        vol.attachments.append(current["id"])
        vol.attach_statuses.append(current["attach_status"])
        vol.instance_uuids.append(inst.uuid)
    _volume_status(vol)
    row["updated_at"] = max(row["updated_at"], when)
    inst.volumes.append(row["id"])
    bdm_attachment = current["id"] if current is not None else live["id"]
    bdm = ctx.buf.add(
        inst.role,
        "block_device_mapping",
        {
            "created_at": when, "updated_at": when + dt.timedelta(seconds=5), "deleted_at": None,
            "id": ctx.buf.next_id(inst.role, "block_device_mapping"), "device_name": mountpoint,
            "delete_on_termination": 0, "snapshot_id": None, "volume_id": row["id"],
            "volume_size": row["size"], "no_device": None, "connection_info": shapes.dumps(nova_info),
            "instance_uuid": inst.uuid,
            "deleted": 0, "source_type": "volume", "destination_type": "volume", "guest_format": None,
            "device_type": "disk", "disk_bus": "virtio", "boot_index": None, "image_id": None, "tag": None,
            "attachment_id": bdm_attachment, "uuid": ctx.rand.uuid(), "volume_type": None, "encrypted": 0,
            "encryption_secret_uuid": None, "encryption_format": None, "encryption_options": None,
        },
    )  # fmt: skip
    inst.children.append(("block_device_mapping", bdm))
    return bdm_attachment


def _delete_attachment(row: dict, when: dt.datetime) -> None:
    """cinder attachment_destroy(): soft delete with attach_status 'deleted'."""
    row.update(attach_status="deleted", deleted=1, deleted_at=when, updated_at=when, detach_time=when)


def _volume_status(vol: VolumeState) -> None:
    """Volume status from its live attachments, as cinder's _get_statuses_from_attachments:
    the alphabetically first attach_status wins (attached > attaching > reserved)."""
    row = vol.row
    if not vol.attach_statuses:
        if row["status"] in ("in-use", "reserved"):
            row["status"], row["attach_status"] = "available", "detached"
        return
    best = min(vol.attach_statuses)
    row["attach_status"] = best
    if row["status"] in ("available", "in-use", "reserved"):
        row["status"] = {"attached": "in-use", "detached": "available"}.get(best, best)
