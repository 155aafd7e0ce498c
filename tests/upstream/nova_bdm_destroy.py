"""Twin A of tests/db/plan/test_differential_volume.py: Nova's side of a volume detach, on its database.

usage: <nova venv>/bin/python nova_bdm_destroy.py NOVA_CONF VOLUME_ID INSTANCE_UUID...

Nova 34.0.0 (2026.2) `compute/manager.py _detach_volume(destroy_bdm=True)`: the driver
BDM's detach (hypervisor work and Cinder's attachment delete, which
tests/upstream/cinder_detach.py runs), then `bdm.destroy()` -> db
`block_device_mapping_destroy` (oslo.db soft delete: deleted = id, deleted_at = now,
updated_at kept). The BDM is found as the API finds it
(`BlockDeviceMapping.get_by_volume_and_instance`). Not run: notifications, the
instance action record, and `_notify_volume_usage_detach` (a no-op with the default
volume_usage_poll_interval = 0).
"""

import sys

from nova import config, context, objects


def main(conf: str, volume_id: str, instance_uuids: list[str]) -> None:
    config.parse_args(["nova-differential", "--config-file", conf])
    objects.register_all()
    ctxt = context.get_admin_context()
    for uuid in instance_uuids:
        objects.BlockDeviceMapping.get_by_volume_and_instance(ctxt, volume_id, uuid).destroy()
        print(f"nova: BDM of volume {volume_id} on instance {uuid} destroyed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
