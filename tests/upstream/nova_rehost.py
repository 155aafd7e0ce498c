"""Twin A of tests/db/plan/test_differential_rehost.py: how Nova itself ends a move, on its databases.

usage: <nova venv>/bin/python nova_rehost.py NOVA_CONF live-completed INSTANCE_UUID MIGRATION_ID DEST_HOST
       <nova venv>/bin/python nova_rehost.py NOVA_CONF evacuated INSTANCE_UUID MIGRATION_ID DEST_HOST
       <nova venv>/bin/python nova_rehost.py NOVA_CONF resize-completed INSTANCE_UUID MIGRATION_ID
       <nova venv>/bin/python nova_rehost.py NOVA_CONF reverted INSTANCE_UUID MIGRATION_ID

Runs the database writes Nova 34.0.0 (2026.2) makes when a move ends, with Nova's own objects
and DB API, leaving out RPC, notifications, Neutron/Cinder calls and hypervisor work. Placement
is not Nova's code: the test mirrors the report client's calls in SQL (see there).

live-completed — a live migration that really finished on DEST_HOST:
- dest `compute/manager.py _do_post_live_migration_at_destination` (its `finally` block):
  `instance.apply_migration_context()`, `instance.drop_migration_context()`, host = DEST_HOST,
  task_state None, node / compute_id from `_get_compute_info` (ComputeNode
  `get_first_node_by_host_for_old_compat`), progress 0, `instance.save(expected_task_state=
  MIGRATING)`. power_state is the driver's reading of the running guest: unchanged (running).
- source `_post_live_migration`, after that RPC returns: `_clean_instance_console_tokens`
  (`[vnc] enabled` defaults to True) and `migrate_data.migration.status = 'completed'`, saved;
  then `_delete_allocation_after_move` (placement, mirrored by the test).
  Skipped: `update_available_resource` (the resource tracker's periodic recount of
  compute_nodes), the PCI tracker calls (the instance has no PCI devices), port binding
  activation and volume connection moves (the runbook's `openstack port set --host` and
  `nova-manage volume_attachment refresh`), the instance action event the decorator records.

resize-completed — a resize whose guest runs on the destination, Nova never having saved it:
- conductor: availability_zone = `get_host_availability_zone(dest)`.
- source `_resize_instance` after the disk transfer: migration 'post-migrating' saved;
  host / node / compute_id of the migration's dest node, old_flavor = flavor, task_state
  RESIZE_MIGRATED, saved.
- dest `_finish_resize`: old_flavor = flavor, `_set_instance_info(new_flavor)`,
  `apply_migration_context()`, task_state RESIZE_FINISH saved; after the driver's
  finish_migration migration 'finished' saved; vm_state RESIZED, task_state None, launched_at
  now, saved. Then it waits for confirm/revert (the migration consumer keeps the source
  allocations: no placement call). Skipped: disk transfer and guest spawn, network and volume
  attachment moves, notifications, instance action events.

evacuated — an evacuation whose rebuild spawned the guest on DEST_HOST, the compute service
failing before it saved (task_state REBUILD_SPAWNING, migration 'pre-migrating'):
- conductor `rebuild_instance`: availability_zone = `get_host_availability_zone(DEST_HOST)` (the
  compute's saves write it).
- dest `_do_rebuild_instance` after the driver's rebuild: `_update_instance_after_spawn`
  (power_state the driver's reading of the running guest, RUNNING; vm_state ACTIVE; task_state
  None; launched_at now; `configdrive.update_instance` changes nothing with the default
  force_config_drive and no image config-drive property), saved (expected REBUILD_SPAWNING); when
  orig_vm_state was STOPPED: vm_state ACTIVE, task_state POWERING_OFF, progress 0, saved, then
  `stop_instance`: power_state SHUTDOWN, vm_state STOPPED, task_state None, saved.
- `rt.finish_evacuation`: `apply_migration_context()`, host, node, compute_id, saved;
  `drop_migration_context()`; migration 'done', saved.
  Skipped: the guest spawn, network setup and the volume attachments the rebuild re-creates
  (the runbook's `openstack port set --host` / `nova-manage volume_attachment refresh`),
  notifications, the instance action events; placement is the test's (see there).

reverted — a cold migration or resize undone, the guest on the source:
- API `compute/api.py revert_resize`: availability_zone = `get_host_availability_zone(source)`;
  the RequestSpec pointed back at old_flavor (and its NUMA constraints) when its flavor differs,
  saved; task_state RESIZE_REVERTING saved; migration 'reverting' saved.
- dest `revert_resize` -> `rt.drop_move_claim_at_dest`: migration 'reverted' saved,
  `instance.revert_migration_context()`, saved (the in-memory claim drop is host-side).
- source `finish_revert_resize` -> `_finish_revert_resize`: `_revert_instance_flavor_host_node`
  (`_set_instance_info(old_flavor)`: instance_type_id, memory_mb, vcpus, root_gb, ephemeral_gb,
  flavor; host/node/compute_id of the migration's source node; saved), then (placement's
  `_revert_allocation`, mirrored by the test) `drop_migration_context()`, launched_at now, saved;
  vm_state from system_metadata old_vm_state (default active): ACTIVE, task_state None, saved;
  or, when it says 'stopped', task_state POWERING_OFF saved and `stop_instance`'s
  `do_stop_instance`: power_state the driver's reading after power_off (SHUTDOWN), vm_state
  STOPPED, task_state None, saved (expected_task_state POWERING_OFF);
  finally `_delete_stashed_flavor_info`: old_flavor / new_flavor None, old_vm_state popped, saved.
  Skipped: the guest destroy/spawn, network and volume attachment moves (BDM/Cinder: the
  runbook's `nova-manage volume_attachment refresh`), share cleanup (no shares), notifications,
  the instance action and its events.
  Nova refuses `revert_resize` unless the migration is 'finished' and the instance RESIZED;
  here the migration failed ('error'), so the script loads the migration by id and performs the
  writes of the revert path regardless: what Nova's revert leaves is the reference.

Older releases (FIXPACK_DIFF_RELEASE, tests/differential.py) run this same script with their own
Nova. nova 27.5.1 (2023.1) differs only in: no `instances.compute_id` (from 2023.2), so neither
`post_live_migration_at_destination` (there, not yet split into `_do_...`) nor
`_revert_instance_flavor_host_node` (there `instance.node = migration.source_node`, the same
name), `_resize_instance` nor `finish_evacuation` sets it — set below only where the Instance
object has the field; the revert's BDM read (34.0.0: `_update_bdm_for_swap_to_finish_resize`,
skipped here anyway) and share cleanup (no shares) differ too, and 27.5.1's rebuild has no
`target_state` (the evacuate API's microversion 2.95, from 2023.2: not used here, the original
vm_state decides). The other calls mirrored here are the same text in both releases.
"""

import sys

from nova import availability_zones, config, context, objects
from nova.compute import power_state, task_states, vm_states
from nova.virt import hardware
from oslo_utils import timeutils

INSTANCE_ATTRS = ["flavor", "system_metadata", "migration_context", "numa_topology", "pci_requests",
                  "pci_devices", "resources", "info_cache"]  # fmt: skip


def live_completed(ctxt, uuid: str, migration_id: int, dest: str) -> None:
    instance = objects.Instance.get_by_uuid(ctxt, uuid, expected_attrs=INSTANCE_ATTRS)
    compute_node = objects.ComputeNode.get_first_node_by_host_for_old_compat(ctxt, dest)
    instance.apply_migration_context()
    instance.drop_migration_context()
    instance.host = dest
    instance.task_state = None
    instance.node = compute_node.hypervisor_hostname
    if "compute_id" in instance.fields:
        instance.compute_id = compute_node.id
    instance.progress = 0
    instance.save(expected_task_state=task_states.MIGRATING)
    objects.ConsoleAuthToken.clean_console_auths_for_instance(ctxt, uuid)
    migration = objects.Migration.get_by_id(ctxt, migration_id)
    migration.status = "completed"
    migration.save()


def evacuated(ctxt, uuid: str, migration_id: int, dest: str) -> None:
    instance = objects.Instance.get_by_uuid(ctxt, uuid, expected_attrs=INSTANCE_ATTRS)
    migration = objects.Migration.get_by_id(ctxt, migration_id)
    compute_node = objects.ComputeNode.get_first_node_by_host_for_old_compat(ctxt, dest)
    # conductor rebuild_instance: the destination's AZ, saved with the instance by the compute
    instance.availability_zone = availability_zones.get_host_availability_zone(ctxt, dest)
    # _do_rebuild_instance after the driver's rebuild: _update_instance_after_spawn
    orig_vm_state = instance.vm_state
    instance.power_state = power_state.RUNNING
    instance.vm_state = vm_states.ACTIVE
    instance.task_state = None
    instance.launched_at = timeutils.utcnow()
    instance.save(expected_task_state=[task_states.REBUILD_SPAWNING])
    if orig_vm_state == vm_states.STOPPED:
        instance.vm_state = vm_states.ACTIVE
        instance.task_state = task_states.POWERING_OFF
        instance.progress = 0
        instance.save()
        instance.power_state = power_state.SHUTDOWN  # stop_instance(clean_shutdown=False)
        instance.vm_state = vm_states.STOPPED
        instance.task_state = None
        instance.save(expected_task_state=[task_states.POWERING_OFF])
    # rebuild_instance's else: rt.finish_evacuation
    instance.apply_migration_context()
    instance.host = dest
    instance.node = compute_node.hypervisor_hostname
    if "compute_id" in instance.fields:
        instance.compute_id = compute_node.id
    instance.save()
    instance.drop_migration_context()
    migration.status = "done"
    migration.save()


def resize_completed(ctxt, uuid: str, migration_id: int) -> None:
    instance = objects.Instance.get_by_uuid(ctxt, uuid, expected_attrs=INSTANCE_ATTRS)
    migration = objects.Migration.get_by_id(ctxt, migration_id)
    # conductor: the destination's AZ (saved with the instance by the compute hosts)
    instance.availability_zone = availability_zones.get_host_availability_zone(ctxt, migration.dest_compute)
    # source _resize_instance after the disk transfer
    migration.status = "post-migrating"
    migration.save()
    node = objects.ComputeNode.get_by_host_and_nodename(ctxt, migration.dest_compute, migration.dest_node)
    instance.host = migration.dest_compute
    instance.node = node.hypervisor_hostname
    if "compute_id" in instance.fields:
        instance.compute_id = node.id
    instance.old_flavor = instance.flavor
    instance.task_state = task_states.RESIZE_MIGRATED
    instance.save()
    # dest _finish_resize
    instance.old_flavor = instance.flavor
    flavor = instance.new_flavor
    instance.instance_type_id = flavor.id
    instance.memory_mb = flavor.memory_mb
    instance.vcpus = flavor.vcpus
    instance.root_gb = flavor.root_gb
    instance.ephemeral_gb = flavor.ephemeral_gb
    instance.flavor = flavor
    instance.apply_migration_context()
    instance.task_state = task_states.RESIZE_FINISH
    instance.save(expected_task_state=task_states.RESIZE_MIGRATED)
    migration.status = "finished"
    migration.save()
    instance.vm_state = vm_states.RESIZED
    instance.task_state = None
    instance.launched_at = timeutils.utcnow()
    instance.save(expected_task_state=task_states.RESIZE_FINISH)


def reverted(ctxt, uuid: str, migration_id: int) -> None:
    instance = objects.Instance.get_by_uuid(ctxt, uuid, expected_attrs=INSTANCE_ATTRS)
    migration = objects.Migration.get_by_id(ctxt, migration_id)
    # API revert_resize
    reqspec = objects.RequestSpec.get_by_instance_uuid(ctxt, uuid)
    instance.availability_zone = availability_zones.get_host_availability_zone(ctxt, migration.source_compute)
    if reqspec.flavor["id"] != instance.old_flavor["id"]:
        reqspec.flavor = instance.old_flavor
        reqspec.numa_topology = hardware.numa_get_constraints(instance.old_flavor, instance.image_meta)
        reqspec.save()
    instance.task_state = task_states.RESIZE_REVERTING
    instance.save(expected_task_state=[None])
    migration.status = "reverting"
    migration.save()
    # dest revert_resize -> rt.drop_move_claim_at_dest
    migration.status = "reverted"
    migration.save()
    instance.revert_migration_context()
    instance.save(expected_task_state=[task_states.RESIZE_REVERTING])
    # source finish_revert_resize -> _finish_revert_resize
    old_vm_state = instance.system_metadata.get("old_vm_state", vm_states.ACTIVE)
    flavor = instance.old_flavor
    instance.instance_type_id = flavor.id
    instance.memory_mb = flavor.memory_mb
    instance.vcpus = flavor.vcpus
    instance.root_gb = flavor.root_gb
    instance.ephemeral_gb = flavor.ephemeral_gb
    instance.flavor = flavor
    instance.host = migration.source_compute
    node = objects.ComputeNode.get_by_host_and_nodename(ctxt, migration.source_compute, migration.source_node)
    instance.node = node.hypervisor_hostname
    if "compute_id" in instance.fields:
        instance.compute_id = node.id
    instance.save(expected_task_state=[task_states.RESIZE_REVERTING])
    instance.drop_migration_context()
    instance.launched_at = timeutils.utcnow()
    instance.save(expected_task_state=task_states.RESIZE_REVERTING)
    if old_vm_state != vm_states.STOPPED:
        instance.vm_state = vm_states.ACTIVE
        instance.task_state = None
        instance.save()
    else:  # stop_instance: the driver's power_off, then its reading of the guest (SHUTDOWN)
        instance.task_state = task_states.POWERING_OFF
        instance.save()
        instance.power_state = power_state.SHUTDOWN
        instance.vm_state = vm_states.STOPPED
        instance.task_state = None
        instance.save(expected_task_state=[task_states.POWERING_OFF])
    # finally: _delete_stashed_flavor_info
    instance.old_flavor = None
    instance.new_flavor = None
    instance.system_metadata.pop("old_vm_state", None)
    instance.save()


def main(conf: str, mode: str, *args: str) -> None:
    config.parse_args(["nova-differential", "--config-file", conf])
    objects.register_all()
    ctxt = context.get_admin_context()
    if mode == "live-completed":
        live_completed(ctxt, args[0], int(args[1]), args[2])
    elif mode == "resize-completed":
        resize_completed(ctxt, args[0], int(args[1]))
    elif mode == "evacuated":
        evacuated(ctxt, args[0], int(args[1]), args[2])
    elif mode == "reverted":
        reverted(ctxt, args[0], int(args[1]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(f"nova: {mode} for instance {args[0]}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *sys.argv[3:])
