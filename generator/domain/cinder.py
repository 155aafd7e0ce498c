"""What Cinder itself does to its rows when it detaches, deletes and recounts, release by release.

Read from the cinder wheels of every catalog release, 19.3.0 (Xena) .. 29.0.0
(2026.2); the database API is cinder/db/sqlalchemy/api.py up to 28.0.0 and
cinder/db/api.py in 29.0.0, the models cinder/db/sqlalchemy/models.py resp.
cinder/db/models.py. Where the code is the same in every catalog release it is
stated once; where it differs, the first release with the newer behaviour is
named and `at_least()` decides.

Detach (`volume_detached`, reached from both `cinder attachment-delete`
(volume/api.py `attachment_delete` -> objects/volume.py `finish_detach`) and
`cinder reset-state --attach-status detached` (api/contrib/admin_actions.py
`_clean_volume_attachment`)): the attachment gets `VolumeAttachment.delete_values()`
— deleted = 1, deleted_at = now, attach_status 'detached', detach_time = now; the
model's `delete()` passes updated_at = its old value, but an unchanged value is no
change to the ORM, so the column's `onupdate` fires and updated_at becomes now too —
then the volume's status/attach_status are recomputed from the
attachments left (`_get_statuses_from_attachments`), and the admin metadata key
`attached_mode` is soft-deleted. Leftover `attachment_specs` rows (pre-Queens
connectors) are soft-deleted when Cinder loads the attachment (online data
migration in objects/volume_attachment.py) and by `attachment_destroy`.

Delete (`volume/api.py delete` + volume/manager.py `delete_volume` + db
`volume_destroy`): the API sets terminated_at and evicts the image-cache entry
(hard DELETE of image_volume_cache_entries); with --cascade the manager deletes
each snapshot first (`volume_glance_metadata_delete_by_snapshot`, `snapshot_destroy`:
status 'deleted', deleted, deleted_at and its snapshot_metadata soft-deleted);
`volume_destroy` sets status 'deleted', deleted = 1, deleted_at, migration_status
NULL and soft-deletes the live rows of VOLUME_DEPENDENT_MODELS (see
`volume_destroy_dependents`); the cleanable-operation `workers` row is removed.
Every soft delete keeps updated_at (`'updated_at': entity.updated_at`) — but the API
has already moved the volume and, with --cascade, each snapshot to 'deleting' with a
conditional update whose ORM onupdate sets updated_at = now, so both end with it set
(tests/db/plan/test_differential_volume.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from generator.catalog import get_release, release_names

# -- releases ------------------------------------------------------------------------
SNAPSHOTS_DESTROYED_WITH_VOLUME_FROM = "yoga"  # 20.0.0 adds models.Snapshot to VOLUME_DEPENDENT_MODELS
USE_QUOTA_ONLY_FROM = "2024.1"  # 24.0.0: the recount filters on use_quota alone (NOT NULL, 9ab1b092a404)


def at_least(release: str, first: str) -> bool:
    """Is catalog release `release` the same as or newer than `first`?"""
    names = release_names()
    return names.index(get_release(release).name) >= names.index(get_release(first).name)


def quota_manage_caveat(release: str) -> str:
    """What `cinder-manage quota check|sync --project-id P` of this release cannot do, if anything.

    Read in each catalog release's cinder/cmd/manage.py and run on 22.3.0 (2023.1) by
    tests/db/plan/test_differential_volume.py: zed to 2023.2 query with the module `context` instead of
    the request context (QuotaCommands._get_usages), so both commands stop on any project with
    usage; until 2025.2 (27.0.0) `_check_project_sync` is a reader transaction, so sync prints
    "- fixed" and writes nothing. Xena and yoga (explicit sessions) and 2025.2+ work.
    """
    if not at_least(release, "zed") or at_least(release, "2025.2"):
        return ""
    if not at_least(release, "2024.1"):
        return (
            f"; Cinder {release}'s quota check and sync stop with AttributeError (module 'cinder.context' "
            "has no attribute 'session'): use `fixpack quota sync`"
        )
    return f"; Cinder {release}'s quota sync reports the fix but writes nothing: use `fixpack quota sync`"


def volume_destroy_dependents(release: str) -> tuple[str, ...]:
    """Tables whose live rows (volume_id = the volume) `volume_destroy` soft-deletes.

    Ussuri (16.0.0) added VolumeGlanceMetadata and VolumeAttachment, so every
    catalog release has them; Yoga (20.0.0) added Snapshot. Only deleted and
    deleted_at change (attachments keep their attach_status, snapshots their
    status): the models are updated with the same three values.
    """
    tables: tuple[str, ...] = (
        "volume_metadata",
        "volume_admin_metadata",
        "transfers",
        "volume_glance_metadata",
        "volume_attachment",
    )
    if at_least(release, SNAPSHOTS_DESTROYED_WITH_VOLUME_FROM):
        tables += ("snapshots",)
    return tables


# -- statuses --------------------------------------------------------------------------
DELETED_STATUS = "deleted"
ATTACH_DETACHED = "detached"  # VolumeAttachment.delete_values()['attach_status']
ATTACH_STATUS_MAP = {"attached": "in-use", "detached": "available"}  # db api ATTACH_STATUS_MAP


def statuses_from_attachments(attach_statuses: Iterable[str | None]) -> tuple[str, str]:
    """(status, attach_status) of a volume from its live attachments' attach_status.

    `_get_statuses_from_attachments`: attachments in `error_*` are ignored, the
    alphabetically first status wins (attached > attaching > detaching >
    reserved), none left means 'detached'; ATTACH_STATUS_MAP turns 'attached'
    into 'in-use' and 'detached' into 'available', anything else is kept.
    """
    usable = sorted(s for s in attach_statuses if s is not None and not s.startswith("error_"))
    attach_status = usable[0] if usable else ATTACH_DETACHED
    return ATTACH_STATUS_MAP.get(attach_status, attach_status), attach_status


def detached_volume_statuses(
    volume: Mapping[str, object], remaining: Iterable[str | None]
) -> tuple[str, str]:
    """(status, attach_status) `volume_detached` leaves a volume in, given the live
    attachments' attach_status that remain after the detach.

    The status is `statuses_from_attachments` unless nothing stays attached while a
    migration (migration_status not NULL, 'success' or 'error') or an upload (status
    'uploading') runs: those flows set the status themselves later, so it is kept.
    Same code in every catalog release (db api `volume_detached`).
    """
    status, attach_status = statuses_from_attachments(remaining)
    migration = volume["migration_status"]
    if (
        attach_status != ATTACH_DETACHED
        or (not migration and volume["status"] != "uploading")
        or migration in ("success", "error")
    ):
        return status, attach_status
    return str(volume["status"]), attach_status


# A service is (or may still be) working on a volume in these states (objects/fields.py
# VolumeStatus); a repair now would race it.
TRANSITIONAL_STATUSES: Mapping[str, str] = {
    "creating": "cinder-volume is still creating it",
    "deleting": "cinder-volume may still be deleting it",
    "error_managing_deleting": "cinder-volume may still be deleting it",
    "unmanaging": "cinder-volume may still be unmanaging it",
    "managing": "cinder-volume is still managing it",
    "attaching": "Nova and Cinder are attaching it",
    "detaching": "Nova and Cinder are detaching it",
    "maintenance": "it is in maintenance (a migration or retype is moving its data)",
    "backing-up": "cinder-backup is backing it up",
    "restoring-backup": "cinder-backup is restoring a backup into it",
    "downloading": "cinder-volume is writing an image into it",
    "uploading": "cinder-volume is uploading it to Glance",
    "retyping": "cinder-volume is retyping it",
    "extending": "cinder-volume is extending it",
}
# delete(cascade=True) without force (cinder/volume/api.py, db `volume_has_undeletable_snapshots_filter`
# and the per-snapshot conditional_update): every live snapshot must be in one of these...
CASCADE_DELETABLE_SNAPSHOT = ("available", "error")
# ...and, force or not, in no cgsnapshot and no group snapshot (they are deleted with their group).
SNAPSHOT_GROUP_COLUMNS = (("cgsnapshot_id", "cgsnapshot"), ("group_snapshot_id", "group snapshot"))
TRANSITIONAL_MIGRATION = ("starting", "migrating", "completing")  # VolumeMigrationStatus in progress

# Whether one of these is stuck (stale) or someone's work in progress is decided by the one
# staleness rule of domain/staleness.py, the same for every status and every repair.

# Cinder's API refuses to delete a volume with this attach_status (volume/api.py delete).
ATTACHED = "attached"

# cinder/objects/base.py: a Worker row's resource_type is the object's name.
WORKER_RESOURCE_TYPES = ("Volume", "Snapshot")
