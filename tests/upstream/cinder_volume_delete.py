"""Twin A of tests/db/plan/test_differential_volume.py: Cinder's own delete of a volume, on its database.

usage: <cinder venv>/bin/python cinder_volume_delete.py CINDER_CONF VOLUME_ID

An admin's `DELETE /v3/volumes/{id}?cascade=True&force=True` (microversion 3.23) for a
volume stuck in error_deleting, in Cinder 29.0.0 (2026.2). Runs the database-touching
calls of that path, in order, with Cinder's own objects, DB API and quota engine, leaving
out only RPC, notifications, the key manager and the backend driver:

`volume/api.py API.delete(force=True, cascade=True)`:
- `volume.conditional_update({'status': 'deleting', 'terminated_at': now}, expected,
  [~volume_has_snapshots_in_a_cgsnapshot_filter()])` with the API's `expected`,
- each snapshot `conditional_update({'status': 'deleting'}, {cgsnapshot_id: None,
  group_snapshot_id: None}, filters)`,
- the image-cache entry evicted (`ImageVolumeCache.evict` -> `image_volume_cache_delete`;
  its notification not sent),
- the encryption key deleted from the key manager — not Cinder's database, not run.

`volume/manager.py delete_volume(cascade=True)`, RPC'd to cinder-volume:
- `@objects.Volume.set_workers`: `volume.set_worker()` claims the cleanup `workers` row,
- `volume.refresh()`, the driver's remove_export — not run,
- per snapshot `delete_snapshot`: `snapshot.save()`, QUOTAS.reserve(snapshots -1,
  gigabytes -volume_size, + the per-type keys `add_volume_type_opts` adds),
  `volume_glance_metadata_delete_by_snapshot`, `snapshot.destroy()`, QUOTAS.commit,
- QUOTAS.reserve(volumes -1, gigabytes -size, + per-type keys), `volume.destroy()`
  (db `volume_destroy`), QUOTAS.commit,
- the decorator's `unset_worker()` (the status changed, so the worker row is removed).

Older releases (FIXPACK_DIFF_RELEASE, tests/differential.py) run it with their own Cinder;
where their code differs from 29.0.0 the script follows the release:
- cinder 22.3.0 (2023.1) keeps `Not` in `cinder.db.api` (no `cinder.db.utils`);
- its `delete_volume` decides the quota step as `do_quota = not (use_quota is False or
  migrating or admin_metadata temporary)` rather than `volume.use_quota` (`quota_for` below).
API.delete, delete_snapshot, set_worker/unset_worker are the same text in both releases.
"""

import inspect
import sys

from cinder import objects

objects.register_all()  # before the modules below: their annotations name objects.Volume

from cinder import context  # noqa: E402
from cinder import quota as cinder_quota  # noqa: E402
from cinder.db import api as db  # noqa: E402
from cinder.objects import fields  # noqa: E402
from cinder.volume import api as volume_api  # noqa: E402
from cinder.volume import manager as volume_manager  # noqa: E402
from oslo_config import cfg  # noqa: E402
from oslo_utils import timeutils  # noqa: E402

try:
    from cinder.db.utils import Not
except ImportError:  # cinder < 2023.2
    Not = db.Not

QUOTAS = cinder_quota.QUOTAS


def quota_for(volume) -> bool:
    """Whether the manager's delete_volume reserves quota for the volume, as this release decides."""
    if "do_quota" not in inspect.getsource(volume_manager.VolumeManager.delete_volume):
        return bool(volume.use_quota)
    is_migrating = volume.migration_status not in (None, "error", "success")
    with volume.obj_as_admin():
        return not (
            volume.use_quota is False or is_migrating or volume.admin_metadata.get("temporary") == "True"
        )


def reserve_and(ctxt, project_id, deltas, volume_type_id, destroy) -> None:
    """QUOTAS.reserve with the type keys, the destroy, then QUOTAS.commit (the manager's order)."""
    QUOTAS.add_volume_type_opts(ctxt, deltas, volume_type_id)
    reservations = QUOTAS.reserve(ctxt, project_id=project_id, **deltas)
    destroy()
    QUOTAS.commit(ctxt, reservations, project_id=project_id)


def main(conf: str, volume_id: str) -> None:
    cfg.CONF(["--config-file", conf], project="cinder", default_config_files=None)
    ctxt = context.get_admin_context()
    volume = objects.Volume.get_by_id(ctxt, volume_id)

    # the API
    filters = [~db.volume_has_snapshots_in_a_cgsnapshot_filter()]
    expected = {
        "attach_status": Not(fields.VolumeAttachStatus.ATTACHED),
        "migration_status": volume_api.API.AVAILABLE_MIGRATION_STATUS,
        "consistencygroup_id": None,
        "group_id": None,
    }
    values = {"status": "deleting", "terminated_at": timeutils.utcnow()}
    assert volume.conditional_update(values, expected, filters), "the API refuses the delete"
    for snapshot in objects.SnapshotList.get_all_for_volume(ctxt, volume.id):
        assert snapshot.conditional_update(
            {"status": "deleting"}, {"cgsnapshot_id": None, "group_snapshot_id": None}, filters
        ), f"the API refuses snapshot {snapshot.id}"
    # ImageVolumeCache.get_by_image_volume and .evict, without the eviction notification
    # (constructing the cache object needs the notifier's options)
    entry = db.image_volume_cache_get_by_volume_id(ctxt, volume.id)
    if entry:
        db.image_volume_cache_delete(ctxt, entry["volume_id"])

    # the manager
    volume.set_worker()
    volume.refresh()
    project_id = volume.project_id
    for snapshot in objects.SnapshotList.get_all_for_volume(ctxt, volume.id):
        assert snapshot.status == fields.SnapshotStatus.DELETING, snapshot.status
        snapshot.save()
        if snapshot.use_quota:
            volume_ref = db.volume_get(ctxt, snapshot.volume_id)

            def destroy_snapshot(s=snapshot) -> None:
                db.volume_glance_metadata_delete_by_snapshot(ctxt, s.id)
                s.destroy()

            deltas = {"snapshots": -1, "gigabytes": -snapshot.volume_size}
            reserve_and(ctxt, snapshot.project_id, deltas, volume_ref.get("volume_type_id"), destroy_snapshot)
        else:
            db.volume_glance_metadata_delete_by_snapshot(ctxt, snapshot.id)
            snapshot.destroy()
    if quota_for(volume):
        deltas = {"volumes": -1, "gigabytes": -volume.size}
        reserve_and(ctxt, project_id, deltas, volume.volume_type_id, volume.destroy)
    else:
        volume.destroy()
    if volume.worker and volume.status != volume.worker.status:
        volume.unset_worker()
    print(f"cinder: deleted volume {volume_id}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
