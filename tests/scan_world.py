"""A seeded cloud for `fixpack scan`: one planted case of each check, one of each healthy
look-alike, amid a few hundred healthy rows (the seeding library's bulk path).

`build_scan_world(dep)` returns the set of (check, uuid) the scan must report — exactly
these and nothing else. Planting is done the way the inconsistency arises (a row the
service forgot to delete, a host renamed, a count drifting), with SQL on the seeded rows.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib
from dataclasses import dataclass, field

from generator.scratch.deployment import Deployment
from generator.seed import Seeder
from generator.sqlgen.literals import quote_identifier

OLD = dt.datetime(2021, 6, 1, 12, 0, 0)
HOSTILE_HOST = "cmp-`id`-$(touch /tmp/pwn)\x1b[31m\nred"


@dataclass
class ScanWorld:
    expected: set[tuple[str, str]] = field(default_factory=set)
    lookalikes: dict[str, str] = field(default_factory=dict)  # what -> uuid (never reported)


def new_uuid() -> str:
    return str(uuidlib.uuid4())


def clone_row(dep: Deployment, role: str, table: str, where: str, params: tuple, changes: dict) -> None:
    """Insert a copy of one row with `changes` applied (auto-increment ids left to the server)."""
    row = dep.query(role, f"SELECT * FROM {quote_identifier(table)} WHERE {where} LIMIT 1", params)[0]
    if isinstance(row.get("id"), int) and "id" not in changes:
        changes = {**changes, "id": None}
    row.update(changes)
    cols = ", ".join(quote_identifier(c) for c in row)
    marks = ", ".join(["%s"] * len(row))
    dep.execute(role, f"INSERT INTO {quote_identifier(table)} ({cols}) VALUES ({marks})", tuple(row.values()))


def build_scan_world(dep: Deployment, *, healthy: int = 120) -> ScanWorld:
    world = ScanWorld()
    add = world.expected.add
    s = Seeder(dep, seed=23)
    hosts = [s.compute_host(f"cmp-{i:02d}") for i in range(1, 5)]
    s.bulk_instances(healthy, hosts=hosts, projects=3, chunk=1000)
    for i in range(8):  # healthy instances with volumes, snapshots and backups
        inst = s.instance(host=hosts[i % 4], volumes=1 + i % 2)
        if i % 3 == 0:
            s.volume(project_id=inst.project_id, snapshots=1, backups=1)
    # -- planted, part 1 (rows the seeder makes) --------------------------------------
    gone = s.instance(host=hosts[0], volumes=1)  # volume-attached-to-deleted-instance
    holder = s.instance(host=hosts[1], volumes=1)  # bdm-without-volume
    stuck_vol = s.volume(snapshots=1, backups=1)  # volume-stuck (volume, its snapshot, its backup)
    busy = s.instance(host=hosts[2])  # instance-stuck
    moved = s.instance(host=hosts[0], migration="resize", migration_status="error")  # allocation-orphaned
    unmapped = s.instance(host=hosts[1])  # instance-without-mapping
    renamed = s.instance(host=hosts[2])  # instance-on-missing-host
    drifting = s.instance(host=hosts[3], volumes=1)  # cinder-quota-drift (its project)
    # -- look-alikes ----------------------------------------------------------------------
    failed_build = s.instance(cell="cell0")  # its build request stays; the instance is in cell0
    soft = s.instance(host=hosts[3], volumes=1)  # soft_deleted, waiting for reclaim
    shelved = s.instance(shelved=True, volumes=1)  # shelved_offloaded: no host
    moving = s.instance(host=hosts[1], migration="live-migration", migration_status="running")
    ironic_node = new_uuid()
    ironic_host = s.compute_host("ironic-1", hypervisor_hostname=ironic_node)
    ironic = s.instance(host=ironic_host)
    glance_vol = s.volume()
    fresh_vol = s.volume()
    fresh_task = s.instance(host=hosts[0])
    removed = s.compute_host("cmp-removed")  # provider-without-compute-node (last: no instance lands there)
    s.flush()

    # volume-attached-to-deleted-instance: Nova deleted the instance, Cinder kept the attachment
    dep.execute(
        "nova",
        "UPDATE instances SET deleted = id, deleted_at = %s, vm_state = 'deleted', task_state = NULL "
        "WHERE uuid = %s",
        (OLD, gone.uuid),
    )
    dep.execute("placement", "DELETE FROM allocations WHERE consumer_id = %s", (gone.uuid,))
    dep.execute("placement", "DELETE FROM consumers WHERE uuid = %s", (gone.uuid,))
    att = dep.query("cinder", "SELECT id FROM volume_attachment WHERE instance_uuid = %s", (gone.uuid,))
    add(("volume-attached-to-deleted-instance", att[0]["id"]))

    # bdm-without-volume: Cinder deleted the volume, Nova's BDM still names it
    vol = holder.volumes[0]
    dep.execute("cinder", "UPDATE volumes SET deleted = 1, deleted_at = %s, status = 'deleted', "
                "attach_status = 'detached' WHERE id = %s", (OLD, vol))  # fmt: skip
    dep.execute("cinder", "UPDATE volume_attachment SET deleted = 1, deleted_at = %s, "
                "attach_status = 'detached' WHERE volume_id = %s", (OLD, vol))  # fmt: skip
    add(("bdm-without-volume", vol))

    # volume-stuck: a volume, a snapshot and a backup left in transitional states long ago
    dep.execute("cinder", "UPDATE volumes SET status = 'extending', updated_at = %s WHERE id = %s",
                (OLD, stuck_vol.id))  # fmt: skip
    dep.execute("cinder", "UPDATE snapshots SET status = 'creating', updated_at = %s WHERE id = %s",
                (OLD, stuck_vol.snapshots[0]))  # fmt: skip
    dep.execute("cinder", "UPDATE backups SET status = 'creating', updated_at = %s WHERE id = %s",
                (OLD, stuck_vol.backups[0]))  # fmt: skip
    add(("volume-stuck", stuck_vol.id))
    add(("volume-stuck", stuck_vol.snapshots[0]))
    add(("volume-stuck", stuck_vol.backups[0]))

    # instance-stuck: a reboot nobody finished
    dep.execute("nova", "UPDATE instances SET task_state = 'rebooting', updated_at = %s WHERE uuid = %s",
                (OLD, busy.uuid))  # fmt: skip
    add(("instance-stuck", busy.uuid))

    # allocation-orphaned: the failed resize's migration consumer still holds the source allocations
    add(("allocation-orphaned", moved.migration))

    # instance-without-mapping
    dep.execute("nova_api", "DELETE FROM instance_mappings WHERE instance_uuid = %s", (unmapped.uuid,))
    add(("instance-without-mapping", unmapped.uuid))

    # mapping-without-instance: a mapping into cell1 for an instance cell1 never had
    ghost = new_uuid()
    clone_row(dep, "nova_api", "instance_mappings", "instance_uuid = %s", (busy.uuid,),
              {"instance_uuid": ghost})  # fmt: skip
    add(("mapping-without-instance", ghost))

    # instance-on-missing-host: the host was renamed; the instance still names the old one (with
    # a hostile name: it must come out escaped, never break a command)
    dep.execute("nova", "UPDATE instances SET host = %s WHERE uuid = %s", (HOSTILE_HOST, renamed.uuid))
    add(("instance-on-missing-host", renamed.uuid))

    # provider-without-compute-node: the host was removed from Nova, its provider stayed
    dep.execute(
        "nova", "UPDATE services SET deleted = id, deleted_at = %s WHERE host = 'cmp-removed'", (OLD,)
    )
    dep.execute("nova", "UPDATE compute_nodes SET deleted = id, deleted_at = %s WHERE host = 'cmp-removed'",
                (OLD,))  # fmt: skip
    add(("provider-without-compute-node", removed.provider_uuid))

    # build-request-stale: a build request of an instance no cell has
    stale_build = new_uuid()
    clone_row(dep, "nova_api", "build_requests", "instance_uuid = %s", (failed_build.uuid,),
              {"instance_uuid": stale_build, "created_at": OLD})  # fmt: skip
    add(("build-request-stale", stale_build))

    # -- look-alikes, part 2 ------------------------------------------------------------
    # soft_deleted: deleted = 0, vm_state soft-delete, keeps allocations and volumes until reclaimed
    dep.execute("nova", "UPDATE instances SET vm_state = 'soft-delete', deleted_at = NULL WHERE uuid = %s",
                (soft.uuid,))  # fmt: skip
    # a build in flight: build request, mapping without a cell, allocations, no instance row yet
    inflight = new_uuid()
    clone_row(dep, "nova_api", "build_requests", "instance_uuid = %s", (failed_build.uuid,),
              {"instance_uuid": inflight, "created_at": dt.datetime.utcnow()})  # fmt: skip
    clone_row(dep, "nova_api", "instance_mappings", "instance_uuid = %s", (busy.uuid,),
              {"instance_uuid": inflight, "cell_id": None, "created_at": dt.datetime.utcnow()})  # fmt: skip
    _copy_consumer(dep, busy.uuid, inflight)
    # another service's consumers (Zun: untyped, unknown to Nova; Blazar: typed)
    zun = new_uuid()
    _copy_consumer(dep, busy.uuid, zun)
    blazar = new_uuid()
    _copy_consumer(dep, busy.uuid, blazar, consumer_type="RESERVATION")
    # Ironic: the nova-compute service named in instance.host was rebalanced away
    dep.execute("nova", "UPDATE compute_nodes SET hypervisor_type = 'ironic' WHERE host = 'ironic-1'")
    dep.execute("nova", "UPDATE instances SET host = 'ironic-gone', node = %s WHERE uuid = %s",
                (ironic_node, ironic.uuid))  # fmt: skip
    # Glance's cinder store: an attachment without an instance on an in-use volume
    some = dep.query("cinder", "SELECT id FROM volume_attachment WHERE deleted = 0 LIMIT 1")[0]["id"]
    clone_row(dep, "cinder", "volume_attachment", "id = %s", (some,),
              {"id": new_uuid(), "volume_id": glance_vol.id, "instance_uuid": None})  # fmt: skip
    dep.execute("cinder", "UPDATE volumes SET status = 'in-use', attach_status = 'attached' WHERE id = %s",
                (glance_vol.id,))  # fmt: skip
    # fresh transitional states (in flight, younger than --older-than)
    dep.execute("cinder", "UPDATE volumes SET status = 'creating', updated_at = UTC_TIMESTAMP() "
                "WHERE id = %s", (fresh_vol.id,))  # fmt: skip
    dep.execute("nova", "UPDATE instances SET task_state = 'rebooting', updated_at = UTC_TIMESTAMP() "
                "WHERE uuid = %s", (fresh_task.uuid,))  # fmt: skip

    # cinder-quota-drift: every project recounted, then one count drifts
    s.sync_cinder_quota_usages()
    s.close()
    dep.execute("cinder", "UPDATE quota_usages SET in_use = in_use + 7 WHERE project_id = %s "
                "AND resource = 'gigabytes'", (drifting.project_id,))  # fmt: skip
    add(("cinder-quota-drift", drifting.project_id))
    world.lookalikes = {
        "failed build in cell0": failed_build.uuid, "soft_deleted": soft.uuid, "shelved": shelved.uuid,
        "moving": moving.uuid, "migration in progress": moving.migration or "", "ironic": ironic.uuid,
        "glance volume": glance_vol.id, "fresh volume": fresh_vol.id, "fresh task": fresh_task.uuid,
        "build in flight": inflight, "zun": zun, "blazar": blazar,
    }  # fmt: skip
    return world


def _copy_consumer(dep: Deployment, source: str, consumer: str, *, consumer_type: str | None = None) -> None:
    """Placement rows for a new consumer: a copy of `source`'s consumer and allocations."""
    type_id = None
    if consumer_type is not None:
        dep.execute("placement", "INSERT IGNORE INTO consumer_types (created_at, name) VALUES (%s, %s)",
                    (OLD, consumer_type))  # fmt: skip
        type_id = dep.query("placement", "SELECT id FROM consumer_types WHERE name = %s", (consumer_type,))[
            0
        ]["id"]
    clone_row(dep, "placement", "consumers", "uuid = %s", (source,),
              {"uuid": consumer, "consumer_type_id": type_id})  # fmt: skip
    for row in dep.query("placement", "SELECT id FROM allocations WHERE consumer_id = %s", (source,)):
        clone_row(dep, "placement", "allocations", "id = %s", (row["id"],), {"consumer_id": consumer})
