"""Seeded deployments for the volume tests: one scenario per operation, amid other projects' rows.

reset-detached — a multi-attach volume on two instances; the one in error no longer
uses it (its attachment carries legacy attachment_specs), the active one does.
detach-from-nova — a Fibre Channel volume whose Cinder attachment is already closed
while Nova's BDM of the stopped instance still holds it.
soft-delete — an encrypted, bootable volume stuck in error_deleting with snapshots,
a backup, metadata, a pending transfer, an image-cache entry and a cleanup worker;
its project's gigabytes usage has drifted, and it has a use_quota = false volume.
purge — a volume once attached (closed attachment, soft-deleted BDM) with snapshots
and backups, one of them already deleted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from generator.seed import SeededVolume, Seeder

WHEN = dt.datetime(2021, 6, 1, 12, 0, 0)


@dataclass
class Scenario:
    volume: SeededVolume
    options: dict = field(default_factory=dict)
    instance: str | None = None  # the instance the repair is about
    other_instance: str | None = None  # multi-attach: the one that keeps the volume
    project_id: str = ""


def close_cinder_attachment(dep, volume_id: str) -> None:
    """What a half-finished detach leaves: Cinder detached, Nova's BDM untouched."""
    dep.execute(
        "cinder",
        "UPDATE volume_attachment SET attach_status = 'detached', deleted = 1, deleted_at = %s, "
        "detach_time = %s "
        "WHERE volume_id = %s",
        (WHEN, WHEN, volume_id),
    )
    dep.execute(
        "cinder",
        "UPDATE volumes SET status = 'available', attach_status = 'detached' WHERE id = %s",
        (volume_id,),
    )


def add_leftovers(dep, volume_id: str, *, transfer: bool = True) -> None:
    """Rows the seeder does not make: image-cache entry, cleanup worker, pending transfer."""
    service = dep.query("cinder", "SELECT id FROM services WHERE `binary` = 'cinder-volume' LIMIT 1")[0]["id"]
    dep.execute(
        "cinder",
        "INSERT INTO image_volume_cache_entries "
        "(image_updated_at, host, image_id, volume_id, size, last_used) "
        "VALUES (%s, 'cinder-vol@lvm#lvm', '5f0b1b5e-7a2c-4c1b-9a53-1a0f2b0c9d11', %s, 10, %s)",
        (WHEN, volume_id, WHEN),
    )
    dep.execute(
        "cinder",
        "INSERT INTO workers (created_at, updated_at, deleted, resource_type, resource_id, status, "
        "service_id, "
        "race_preventer) VALUES (%s, %s, 0, 'Volume', %s, 'deleting', %s, 0)",
        (WHEN, WHEN, volume_id, service),
    )
    if transfer:
        dep.execute(
            "cinder",
            "INSERT INTO transfers (created_at, updated_at, deleted, id, volume_id, display_name, salt, "
            "crypt_hash) VALUES (%s, %s, 0, '6c2f7d3e-0b8a-4f55-9e21-3d4c5b6a7f80', %s, 'to-finance', "
            "'c2FsdA', 'aGFzaA')",
            (WHEN, WHEN, volume_id),
        )


def seed_world(dep, op: str) -> Scenario:
    s = Seeder(dep, seed=17)
    h1, h2 = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    for i in range(6):
        s.instance(host=h1 if i % 2 else h2, volumes=i % 3, volume_protocol=("iscsi", "rbd")[i % 2])
    s.volume(snapshots=1, backups=1, protocol="nfs")  # another project's unattached volume
    if op == "reset-detached":
        gone = s.instance(host=h1, vm_state="error", power_state=4)
        user = s.instance(host=h2, project_id=gone.project_id)
        vol = s.volume(attach_to=gone, also_attach_to=[user], multiattach=True, protocol="iscsi")
        s.flush()
        dep.execute(
            "cinder",
            "INSERT INTO attachment_specs (created_at, deleted, attachment_id, `key`, value) "
            "VALUES (%s, 0, %s, 'host', 'cmp-01'), (%s, 0, %s, 'initiator', 'iqn.1994-05.com.redhat:cmp-01')",
            (WHEN, vol.attachments[0], WHEN, vol.attachments[0]),
        )
        dep.execute("cinder", "UPDATE volumes SET status = 'detaching' WHERE id = %s", (vol.id,))
        return Scenario(
            vol, {"instances": (gone.uuid,), "detach_nova": True}, gone.uuid, user.uuid, gone.project_id
        )
    if op == "detach-from-nova":
        stopped = s.instance(host=h1, vm_state="stopped", power_state=4)
        vol = s.volume(attach_to=stopped, protocol="fibre_channel", multipath=True)
        s.flush()
        close_cinder_attachment(dep, vol.id)
        return Scenario(vol, {}, stopped.uuid, None, stopped.project_id)
    if op == "soft-delete":
        owner = s.instance(host=h1, volumes=1)
        vol = s.volume(
            project_id=owner.project_id, encrypted=True, bootable=True, snapshots=2, backups=1,
            status="error_deleting", metadata={"purpose": "db 'primary'\n"}, size=30,
        )  # fmt: skip
        s.volume(project_id=owner.project_id, use_quota=False, size=40)
        s.flush()
        add_leftovers(dep, vol.id)
        dep.execute(
            "cinder",
            "UPDATE quota_usages SET in_use = in_use + 7 WHERE project_id = %s AND resource = 'gigabytes'",
            (owner.project_id,),
        )
        return Scenario(vol, {"cascade": True}, None, None, owner.project_id)
    if op == "purge":
        owner = s.instance(host=h1)
        vol = s.volume(attach_to=owner, snapshots=1, backups=2, protocol="rbd", bootable=True)
        s.flush()
        close_cinder_attachment(dep, vol.id)
        dep.execute(
            "nova",
            "UPDATE block_device_mapping SET deleted = id, deleted_at = %s WHERE volume_id = %s",
            (WHEN, vol.id),
        )
        dep.execute("cinder", "UPDATE backups SET deleted = 1, status = 'deleted', deleted_at = %s "
                    "WHERE id = %s",
                    (WHEN, vol.backups[0]))  # fmt: skip
        add_leftovers(dep, vol.id, transfer=False)
        return Scenario(vol, {"cascade": True}, owner.uuid, None, owner.project_id)
    raise ValueError(op)
