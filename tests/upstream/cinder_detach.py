"""Twin A of tests/db/plan/test_differential_vm_*.py and _volume.py: Cinder's own attachment delete.

usage: <cinder venv>/bin/python cinder_detach.py CINDER_CONF ATTACHMENT_ID...

Nova's `_shutdown_instance` calls Cinder's attachment delete API for each volume BDM
(`volume_api.attachment_delete(context, bdm.attachment_id)`). In Cinder 29.0.0 (2026.2)
that is `api/v3/attachments.py delete` -> `volume/api.py API.attachment_delete`:

- `objects.VolumeAttachment.get_by_id` (the controller's lookup; loading the object also
  runs the attachment_specs online data migration),
- `attachment_deletion_allowed` (a read-only check of who may delete it) — not run here,
- the RPC to cinder-volume's `attachment_delete` (driver terminate_connection and
  remove_export only: no database write in 29.0.0) — not run here,
- `volume.volume_attachment` (lazy load) and `volume.finish_detach(attachment.id)`:
  db `volume_detached` and `volume_admin_metadata_delete(..., 'attached_mode')`,
- notifications — not run.

This script runs exactly those database-touching calls, in that order.
"""

import sys

from cinder import context, objects
from cinder.volume import group_types  # noqa: F401  (registers options before parsing)
from oslo_config import cfg


def main(conf: str, attachment_ids: list[str]) -> None:
    cfg.CONF(["--config-file", conf], project="cinder", default_config_files=None)
    objects.register_all()
    ctxt = context.get_admin_context()
    for attachment_id in attachment_ids:
        attachment = objects.VolumeAttachment.get_by_id(ctxt, attachment_id)
        volume = attachment.volume
        volume.volume_attachment  # noqa: B018  (the lazy load attachment_delete triggers)
        volume.finish_detach(attachment.id)
        print(f"cinder: attachment {attachment_id} of volume {volume.id} deleted")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
