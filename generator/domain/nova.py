"""What Nova itself does when it deletes, moves and archives an instance.

Read from nova (db/main/api.py `instance_destroy`, compute/manager.py
`_delete_instance`/`_complete_deletion`, compute/api.py
`_update_queued_for_deletion`), the same logic from Train through 2026.2;
see shared/domain/openstack-schema-facts.md §3.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from generator.catalog import get_release, release_names

# instance_destroy soft-deletes (deleted = id, deleted_at = now, updated_at kept)
# the non-deleted rows of these models, filtered by the given column.
SOFT_DELETED_WITH_INSTANCE = (
    ("security_group_instance_association", "instance_uuid"),
    ("instance_info_caches", "instance_uuid"),
    ("instance_metadata", "instance_uuid"),
    ("instance_faults", "instance_uuid"),
    ("instance_extra", "instance_uuid"),
    ("instance_system_metadata", "instance_uuid"),
    ("block_device_mapping", "instance_uuid"),
    ("migrations", "instance_uuid"),
    ("virtual_interfaces", "instance_uuid"),
    ("instance_id_mappings", "uuid"),
)

# ...and hard-deletes these (no `deleted` column, no shadow table).
HARD_DELETED_WITH_INSTANCE = (
    ("tags", "resource_id"),
    ("console_auth_tokens", "instance_uuid"),
)

# Kept on purpose (operators read them after deletion; archive special-cases them).
KEPT_WITH_INSTANCE = ("instance_actions", "instance_actions_events")

# The compute manager, around instance.destroy(): vm_states.DELETED, task_state
# None, power_state.NOSTATE, terminated_at = now, then instance.save().
NOSTATE = 0
RUNNING = 1
SHUTDOWN = 4  # power_state after the driver powers the guest off (stop_instance)
STOPPED = "stopped"  # vm_states.STOPPED
DELETED = "deleted"

# nova.objects.migration: a migration in one of these is still being worked on ('finished'
# is a resize waiting for confirm/revert); 'error', 'done', 'confirmed', ... are closed.
MIGRATION_IN_PROGRESS = (
    "queued",
    "preparing",
    "accepted",
    "pre-migrating",
    "migrating",
    "post-migrating",
    "running",
    "finished",
    "confirming",
    "reverting",
)
MIGRATION_CLOSED_STATUS = "error"  # what nova sets when it gives up on a migration
# A migration in none of these statuses is still moving its instance (and its uuid, a Placement
# consumer since Queens, still holds the source allocations): `fixpack scan` and allocation delete.
MIGRATION_DONE = frozenset({"confirmed", "reverted", "error", "failed", "completed", "cancelled", "done"})
NOVA_CONSUMER_TYPES = frozenset({"INSTANCE", "MIGRATION"})  # placement consumer_types Nova writes

# A live migration's end on either host (compute/manager.py post_live_migration_at_destination,
# _rollback_live_migration): `instance.save(expected_task_state=MIGRATING)` with task_state None
# and progress 0, the host/node being the one the guest runs on.
LIVE_MIGRATING = "migrating"
LIVE_MIGRATION_END = {"task_state": None, "progress": 0}

DEFAULT_INSTANCE_NAME_TEMPLATE = "instance-%08x"

# share_mapping (Manila shares attached to an instance): the table exists from 2024.1 (29.0.0);
# from 2025.1 (31.0.0) the instance delete (`_shutdown_instance`) unmounts each share, denies its
# Manila access (`deny_share`, unless another instance of the host still uses it) and removes the
# row (`share_mapping.delete()`, a hard delete: the table has no `deleted` column). Before, the
# delete left the rows.
SHARE_MAPPING_FROM = "2024.1"
SHARE_MAPPING_DELETED_FROM = "2025.1"  # Epoxy (texts say "since Epoxy": a release-neutral SQL text)
# [libvirt] nfs_mount_point_base / ceph_mount_point_base default ($state_path/mnt); the mount is
# <base>/<md5 of the export location> (virt/libvirt/volume/fs.py `_get_mount_path`).
SHARE_MOUNT_BASE = "/var/lib/nova/mnt"
# objects/share_mapping.py `set_access_according_to_protocol`: the Manila access rule Nova grants.
SHARE_ACCESS = {
    "NFS": ("ip", "the compute host's [DEFAULT] my_shared_fs_storage_ip (default its my_ip)"),
    "CEPHFS": ("cephx", "nova"),
}


def at_least(release: str, first: str) -> bool:
    """Is catalog release `release` the same as or newer than `first`?"""
    names = release_names()
    return names.index(get_release(release).name) >= names.index(get_release(first).name)


def share_mappings_on_delete(release: str) -> str:
    """What Nova's instance delete does to share_mapping rows in `release`: absent, kept or deleted."""
    if not at_least(release, SHARE_MAPPING_FROM):
        return "absent"
    return "deleted" if at_least(release, SHARE_MAPPING_DELETED_FROM) else "kept"


def share_mount_path(export_location: str) -> str:
    """Where nova-compute mounted the share on the host (default mount point base)."""
    digest = hashlib.md5(export_location.encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{SHARE_MOUNT_BASE}/{digest}"


def domain_name(instance: Mapping[str, object], template: str = DEFAULT_INSTANCE_NAME_TEMPLATE) -> str:
    """libvirt domain name, as nova/objects/instance.py `Instance.name` computes it.

    `CONF.instance_name_template % id`; a template with named fields (`uuid-%(uuid)s`) is
    filled from the instance row, and one naming a field the row lacks gives the uuid, as
    Nova does. A template Nova itself cannot apply is refused by `check_name_template`.
    """
    try:
        return template % instance["id"]
    except TypeError:
        try:
            return template % dict(instance)
        except KeyError:
            return str(instance["uuid"])


def check_name_template(template: str) -> str:
    """The template if Nova could build a name from it, else a ValueError saying why."""
    sample = {"id": 1, "uuid": "00000000-0000-0000-0000-000000000001"}
    try:
        name = domain_name(sample, template)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"instance_name_template {template!r} cannot be applied ({exc})") from None
    if not name:
        raise ValueError(f"instance_name_template {template!r} gives an empty name")
    return template


# What Nova leaves in `migrations.status` when a move ends (compute/manager.py): a resize or
# cold migration that reached the destination waits in 'finished' (finish_resize) for
# confirm/revert; revert_resize sets 'reverted'; post_live_migration 'completed',
# _rollback_live_migration 'failed'; an evacuation rebuilt on the destination 'done',
# one that failed 'failed'.
MOVE_END_STATUS = {
    ("resize", "completed"): "finished",
    ("migration", "completed"): "finished",
    ("resize", "reverted"): "reverted",
    ("migration", "reverted"): "reverted",
    ("live-migration", "completed"): "completed",
    ("live-migration", "reverted"): "failed",
    ("evacuation", "completed"): "done",
    ("evacuation", "reverted"): "failed",
}
# _set_instance_info: the instance columns a flavor sets.
FLAVOR_COLUMNS = {
    "instance_type_id": "id",
    "memory_mb": "memory_mb",
    "vcpus": "vcpus",
    "root_gb": "root_gb",
    "ephemeral_gb": "ephemeral_gb",
}
# [DEFAULT] default_availability_zone: a host in no AZ aggregate is in it (availability_zones.py).
DEFAULT_AVAILABILITY_ZONE = "nova"
RESIZED = "resized"  # vm_states.RESIZED: finish_resize's end, waiting for confirm/revert
