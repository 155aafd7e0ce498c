"""Twin A of tests/db/plan/test_differential_vm_*.py: Nova's own delete of an instance, on its databases.

usage: <nova venv>/bin/python nova_delete.py NOVA_CONF INSTANCE_UUID

Runs the database calls Nova 34.0.0 (2026.2) makes when it deletes an instance, with Nova's
own objects and DB API, leaving out only what is RPC, notification or hypervisor work:

- API `compute/api.py _delete` -> `_update_queued_for_deletion`: InstanceMapping
  queued_for_delete = True, saved (nova_api); a leftover BuildRequest destroyed.
- compute `manager.py _shutdown_instance`: per share mapping (2025.1+), `share.deactivate()`
  (status inactive, saved) then `share_management.deny_share` -> `share_mapping.delete()`
  (the Manila access-rule removal and the unmount are not database work); its Cinder calls
  are tests/upstream/cinder_detach.py's.
- compute `manager.py _delete_instance`, after `_shutdown_instance` and `_cleanup_volumes`
  (the volume delete, left to Cinder's API): vm_state DELETED, task_state None,
  power_state NOSTATE, terminated_at now, `instance.save()`.
- `_complete_deletion` -> `_update_resource_tracker` -> `update_usage` of the instance's
  node: the node's `PciDevTracker` `free_instance` (`PciDevice.free()` on each allocated or
  claimed device of the instance, which also sets its SR-IOV relatives available) and
  `PciDevTracker.save` (every device it changed); then `_clean_instance_console_tokens`:
  `ConsoleAuthToken.clean_console_auths_for_instance`.
- `instance.destroy()` -> db `instance_destroy` (soft-deletes the instance and its rows,
  BDMs included; hard-deletes tags and console tokens).

Not run: the instance action/event records the API and the wrapped compute method add
(bookkeeping fixpack does not fabricate), and placement's DELETE /allocations, which is
placement's code, not Nova's (the test mirrors it in SQL, see there).

Older releases (FIXPACK_DIFF_RELEASE, tests/differential.py) run this same script with their own
Nova; where their code differs from 34.0.0 the script follows the release:
- share mappings: before 2025.1 `_shutdown_instance` has no share handling (nova 27.5.1, 2023.1,
  has neither the table nor ShareMappingList), so the removal runs only where the release's
  `_shutdown_instance` calls its share manager.
"""

import contextlib
import inspect
import sys

from nova import config, context, exception, objects
from nova.compute import manager, power_state, vm_states
from nova.pci import manager as pci_manager
from oslo_utils import timeutils


def main(conf: str, uuid: str) -> None:
    # init_rpc registers transport_url, which CellMapping reads; the transport is lazy: nothing connects
    config.parse_args(["nova-differential", "--config-file", conf])
    objects.register_all()
    ctxt = context.get_admin_context()

    mapping = objects.InstanceMapping.get_by_instance_uuid(ctxt, uuid)
    mapping.queued_for_delete = True
    mapping.save()
    with contextlib.suppress(exception.BuildRequestNotFound):
        objects.BuildRequest.get_by_instance_uuid(ctxt, uuid).destroy()

    instance = objects.Instance.get_by_uuid(ctxt, uuid)
    if "share_manager" in inspect.getsource(manager.ComputeManager._shutdown_instance):
        for share in objects.ShareMappingList.get_by_instance_uuid(ctxt, uuid):
            share.deactivate()
            share.delete()
    instance.vm_state = vm_states.DELETED
    instance.task_state = None
    instance.power_state = power_state.NOSTATE
    instance.terminated_at = timeutils.utcnow()
    instance.save()
    if instance.host and instance.node:
        node = objects.ComputeNode.get_by_host_and_nodename(ctxt, instance.host, instance.node)
        tracker = pci_manager.PciDevTracker(ctxt, node)
        tracker.free_instance(ctxt, instance)
        tracker.save(ctxt)
    objects.ConsoleAuthToken.clean_console_auths_for_instance(ctxt, uuid)
    instance.destroy()
    print(f"nova: deleted instance {uuid}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
