"""The `cinder ...` commands of a scan's controller.sh, run as Cinder's API (and, for a backup,
cinder-backup) runs them, with Cinder's own objects and DB API against the twin's database
(no API service, no RPC, no notifications).

usage: <cinder venv>/bin/python cinder_api.py CINDER_CONF ARGS...

ARGS, exactly as scan/suggest.py writes them (anything else: exit 9), and what Cinder 29.0.0
(2026.2) runs for each:

`reset-state --state S [--attach-status detached] VOLUME` — `POST /volumes/{id}/action
{"os-reset_status": {"status": S[, "attach_status": "detached"]}}`: `api/contrib/
admin_actions.py VolumeAdminController._reset_status`: the schema (S in `VolumeStatus.ALL`),
`objects.Volume.get_by_id`, S `deleting` refused, S `in-use` refused without attachments,
`db.volume_update(ctxt, id, update)`, `db.worker_destroy(resource_type='VOLUME')`; with
attach_status detached `_clean_volume_attachment`: `db.volume_detached` for each attachment of
the volume, `db.volume_admin_metadata_delete(..., 'attached_mode')`.

`snapshot-reset-state --state S SNAPSHOT` — `SnapshotAdminController._reset_status`:
`objects.Snapshot.get_by_id`, `snapshot.update({'status': S})`, `snapshot.save()`,
`db.worker_destroy(resource_type='SNAPSHOT')`.

`backup-reset-state --state S BACKUP` — `BackupAdminController._reset_status` -> `backup/api.py
API.reset_status`: `self.get` (`objects.Backup.get_by_id`), `backup.host =
_get_available_backup_service_host(...)` (a cinder-backup service that is up: the test's
cinder.conf sets a long `service_down_time`, the seeded service row standing for the live one),
`backup.save()`; then the RPC's other end, `backup/manager.py BackupManager.reset_status`:
`_is_our_backup` (the configured `backup_driver` is the backup's service), `backup.status = S`,
`backup.save()`, `_cleanup_temp_volumes_snapshots_for_one_backup` (nothing to clean: a backup
with a temporary volume or snapshot is refused here, not mirrored). (S available also asks the
backup driver to verify the backup: scan/suggest.py only suggests error.)

`--os-volume-api-version 3.27 attachment-delete ATTACHMENT` — `api/v3/attachments.py delete`:
`objects.VolumeAttachment.get_by_id`, `volume/api.py API.attachment_delete`:
`attachment_deletion_allowed` (a user's call: allowed when the attachment has no instance or no
connection_info, or Nova answers `GET /servers/{id}/os-volume_attachments/{volume}` with 404 or
another attachment id; else ConflictNovaUsingAttachment. Nova's answer is read here from the
twin's Nova databases as Nova's handler reads it: the instance mapping, the live instance in its
cell, its live BDM of the volume — `[fixpack_standin]` in the conf names them); the RPC to
cinder-volume (no database write) not run; `volume.volume_attachment` (lazy load),
`volume.finish_detach(attachment.id)` (tests/upstream/cinder_detach.py, the differential
mirror, says more).
"""

import sys

from cinder import context, exception, objects, rpc
from cinder.backup import api as backup_api
from cinder.db import api as db
from cinder.objects import fields
from cinder.volume import group_types  # noqa: F401  (registers options before parsing)
from oslo_config import cfg


def _unsupported(argv: list[str]) -> int:
    print(f"cinder stand-in: unsupported: cinder {' '.join(argv)}", file=sys.stderr)
    return 9


def reset_volume(ctxt, volume_id: str, status: str, detach: bool) -> None:
    update = {"status": status, **({"attach_status": "detached"} if detach else {})}
    objects.Volume.get_by_id(ctxt, volume_id)
    if status in ("deleting", "error_deletingdetaching"):  # (sic: the tuple admin_actions.py has)
        raise exception.InvalidInput(reason=f"Cannot reset-state to {status}")
    if status == "in-use" and not db.volume_attachment_get_all_by_volume_id(ctxt, volume_id):
        raise exception.InvalidInput(reason="Cannot reset-state to in-use: no attachments")
    db.volume_update(ctxt, volume_id, update)
    db.worker_destroy(ctxt, resource_type="VOLUME", resource_id=volume_id)
    if detach:
        for attachment in db.volume_attachment_get_all_by_volume_id(ctxt, volume_id):
            db.volume_detached(ctxt.elevated(), volume_id, attachment.id)
        db.volume_admin_metadata_delete(ctxt.elevated(), volume_id, "attached_mode")


def reset_snapshot(ctxt, snapshot_id: str, status: str) -> None:
    snapshot = objects.Snapshot.get_by_id(ctxt, snapshot_id)
    snapshot.update({"status": status})
    snapshot.save()
    db.worker_destroy(ctxt, resource_type="SNAPSHOT", resource_id=snapshot_id)


def reset_backup(ctxt, backup_id: str, status: str) -> None:
    backup = objects.Backup.get_by_id(ctxt, backup_id)
    backup.host = backup_api.API()._get_available_backup_service_host(backup.host, backup.availability_zone)
    backup.save()
    # the RPC's other end: backup/manager.py reset_status (its _is_our_backup, in short)
    if backup.service and not cfg.CONF.backup_driver.startswith(backup.service):
        raise exception.InvalidBackup(reason=f"backup service {backup.service} is not the configured one")
    if backup.temp_volume_id or backup.temp_snapshot_id:
        raise exception.InvalidBackup(reason="temporary volume or snapshot cleanup is not mirrored")
    if backup.service is not None:
        backup.status = status
        backup.save()


def _nova_attachment_id(instance_uuid: str, volume_id: str) -> str | None:
    """Nova's answer to GET /servers/{instance}/os-volume_attachments/{volume}: the BDM's
    attachment_id, None for its 404 (no mapping, no live instance in the cell, no live BDM)."""
    import sqlalchemy as sa

    opts = cfg.CONF.fixpack_standin
    with sa.create_engine(opts.nova_api_connection).connect() as api:
        cell = api.execute(
            sa.text(
                "SELECT c.database_connection FROM instance_mappings m JOIN cell_mappings c "
                "ON c.id = m.cell_id WHERE m.instance_uuid = :u"
            ),
            {"u": instance_uuid},
        ).scalar()
    if cell is None:
        return None
    with sa.create_engine(cell).connect() as nova:
        row = nova.execute(
            sa.text(
                "SELECT b.attachment_id FROM instances i JOIN block_device_mapping b "
                "ON b.instance_uuid = i.uuid AND b.deleted = 0 AND b.volume_id = :v "
                "WHERE i.uuid = :u AND i.deleted = 0"
            ),
            {"u": instance_uuid, "v": volume_id},
        ).first()
    return None if row is None else (row[0] or "")  # fmt: skip


def delete_attachment(ctxt, attachment_id: str) -> None:
    attachment = objects.VolumeAttachment.get_by_id(ctxt, attachment_id)
    server = attachment.instance_uuid
    # attachment_deletion_allowed, a user's call
    if (
        server
        and attachment.connection_info
        and _nova_attachment_id(server, attachment.volume_id) == attachment.id
    ):
        raise exception.ConflictNovaUsingAttachment(instance_id=server)
    volume = attachment.volume
    volume.volume_attachment  # noqa: B018  (the lazy load attachment_delete triggers)
    volume.finish_detach(attachment.id)


def main(conf: str, argv: list[str]) -> int:
    n = len(argv)
    if n == 4 and argv[:2] == ["--os-volume-api-version", "3.27"] and argv[2] == "attachment-delete":
        action, args = delete_attachment, (argv[3],)
    elif n == 4 and argv[0] == "reset-state" and argv[1] == "--state" and argv[2] in fields.VolumeStatus.ALL:
        action, args = reset_volume, (argv[3], argv[2], False)
    elif (
        n == 6
        and argv[:2] == ["reset-state", "--state"]
        and argv[2] in fields.VolumeStatus.ALL
        and argv[3:5] == ["--attach-status", "detached"]
    ):
        action, args = reset_volume, (argv[5], argv[2], True)
    elif n == 4 and argv[:2] == ["snapshot-reset-state", "--state"] and argv[2] == "error":
        action, args = reset_snapshot, (argv[3], argv[2])
    elif n == 4 and argv[:2] == ["backup-reset-state", "--state"] and argv[2] == "error":
        action, args = reset_backup, (argv[3], argv[2])
    else:
        return _unsupported(argv)
    cfg.CONF.register_opts([cfg.StrOpt("nova_api_connection")], group="fixpack_standin")
    objects.register_all()
    from cinder.backup import manager  # noqa: F401  (registers backup_driver; needs the objects)

    cfg.CONF(["--config-file", conf], project="cinder", default_config_files=None)
    rpc.init(cfg.CONF)  # transport_url fake:// in the conf: the backup API's RPC client, never used
    try:
        action(context.get_admin_context(), *args)
    except (exception.NotFound, exception.Invalid, exception.ConflictNovaUsingAttachment) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
