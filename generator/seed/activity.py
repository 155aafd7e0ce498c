"""History rows of an instance in its cell DB: faults, actions with events, migrations.

These are the rows an operator reads to find out what went wrong (and what repair
tooling has to keep, archive or purge): nova writes an instance_actions row per API
action with one instance_actions_events row per step (named `<service>_<method>`, e.g.
`compute__do_build_and_run_instance`), an instance_faults row per recorded error, and a
migrations row per move operation.
"""

from __future__ import annotations

import datetime as dt

from generator.seed.context import SeedContext
from generator.seed.model import HostState, InstanceState

Row = dict

# action -> its events as (event name, runs on compute?)
ACTION_EVENTS: dict[str, tuple[tuple[str, bool], ...]] = {
    "create": (("compute__do_build_and_run_instance", True),),
    "create-cell0": (("conductor_schedule_and_build_instances", False),),
    "reboot": (("compute_reboot_instance", True),),
    "stop": (("compute_stop_instance", True),),
    "start": (("compute_start_instance", True),),
    "resize": (
        ("conductor_migrate_server", False),
        ("compute_prep_resize", True),
        ("compute_resize_instance", True),
        ("compute_finish_resize", True),
    ),
    "migrate": (
        ("conductor_migrate_server", False),
        ("compute_prep_resize", True),
        ("compute_resize_instance", True),
        ("compute_finish_resize", True),
    ),
    "live-migration": (
        ("conductor_live_migrate_instance", False),
        ("compute_check_can_live_migrate_destination", True),
        ("compute_live_migration", True),
        ("compute_post_live_migration_at_destination", True),
    ),
    "shelve": (("compute_shelve_instance", True),),
    "shelveOffload": (("compute_shelve_offload_instance", True),),
    "delete": (("compute_terminate_instance", True),),
}
FILLERS = ("reboot", "stop", "start")
MIGRATION_ACTION = {"resize": "resize", "migration": "migrate", "live-migration": "live-migration"}

# What nova records for the three failure kinds seeded (fault message + traceback text).
TRACEBACKS = {
    "build": (
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 2615, '
        "in _build_and_run_instance\n    self.driver.spawn(context, instance, image_meta,\n"
        '  File "/usr/lib/python3/dist-packages/nova/virt/libvirt/driver.py", line 4736, in spawn\n'
        "    self._create_guest_with_network(\n"
        '  File "/usr/lib/python3/dist-packages/nova/virt/libvirt/driver.py", line 8063, '
        "in _create_guest_with_network\n    raise exception.VirtualInterfaceCreateException()\n"
        "nova.exception.VirtualInterfaceCreateException: Virtual Interface creation failed\n"
    ),
    "schedule": (
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3/dist-packages/nova/conductor/manager.py", line 1654, '
        "in schedule_and_build_instances\n    host_lists = self._schedule_instances(context, "
        "request_specs[0],\n"
        '  File "/usr/lib/python3/dist-packages/nova/scheduler/client/query.py", line 41, '
        "in select_destinations\n    return self.scheduler_rpcapi.select_destinations(context, spec_obj,\n"
        "nova.exception.NoValidHost: No valid host was found. There are not enough hosts available.\n"
    ),
    "migrate": (
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 5973, '
        "in _resize_instance\n    disk_info = self.driver.migrate_disk_and_power_off(\n"
        '  File "/usr/lib/python3/dist-packages/nova/virt/libvirt/driver.py", line 11472, '
        "in migrate_disk_and_power_off\n    raise exception.InstanceFaultRollback(\n"
        "nova.exception.ResizeError: Resize error: Unable to resize disk down.\n"
    ),
}

FAULT_MESSAGES = {
    "build": "Virtual Interface creation failed",
    "schedule": "No valid host was found. There are not enough hosts available.",
    "migrate": "Resize error: Unable to resize disk down.",
}


def faults(ctx: SeedContext, inst: InstanceState, role: str, count: int, kind: str) -> list[tuple[str, Row]]:
    out = []
    host = inst.host.public.host if inst.host else None
    for _ in range(count):
        when = inst.created_at + dt.timedelta(seconds=ctx.rand.randint(30, 3600))
        row = {
            "created_at": when,
            "updated_at": None,
            "deleted_at": None,
            "id": ctx.buf.next_id(role, "instance_faults"),
            "instance_uuid": inst.uuid,
            "code": 500,
            "message": FAULT_MESSAGES[kind],
            "details": TRACEBACKS[kind],
            "host": host,
            "deleted": 0,
        }
        out.append(("instance_faults", ctx.buf.add(role, "instance_faults", row)))
    return out


def action_plan(count: int, *, cell0: bool, migration: str | None, shelved: bool, deleted: bool) -> list[str]:
    """create first, then routine actions, then the state-defining ones; at most `count`.

    A build buried in cell0 never ran anywhere, so its only action is the failed create."""
    if cell0:
        return ["create-cell0"][:count]
    special = []
    if migration:
        special.append(MIGRATION_ACTION[migration])
    if shelved:
        special += ["shelve", "shelveOffload"]
    if deleted:
        special.append("delete")
    plan = ["create-cell0" if cell0 else "create"]
    fill = max(0, count - 1 - len(special))
    plan += [FILLERS[i % len(FILLERS)] for i in range(fill)]
    plan += special
    return plan[:count]


def actions(
    ctx: SeedContext,
    inst: InstanceState,
    role: str,
    plan: list[str],
    *,
    failed: set[str],
    source: HostState | None,
    dest: HostState | None,
) -> None:
    """instance_actions + events; actions in `failed` end with an Error event + traceback."""
    when = inst.created_at
    for name in plan:
        action_id = ctx.buf.next_id(role, "instance_actions")
        start = when
        events = ACTION_EVENTS[name]
        is_failed = name in failed
        ctx.buf.add(
            role,
            "instance_actions",
            {
                "created_at": start,
                "updated_at": start + dt.timedelta(seconds=len(events) * 7),
                "deleted_at": None,
                "id": action_id,
                "action": "create" if name == "create-cell0" else name,
                "instance_uuid": inst.uuid,
                "request_id": "req-" + ctx.rand.uuid(),
                "user_id": inst.user.id,
                "project_id": inst.project.id,
                "start_time": start,
                "finish_time": None,
                "message": "Error" if is_failed else None,
                "deleted": 0,
            },
        )
        for i, (event, on_compute) in enumerate(events):
            ev_start = start + dt.timedelta(seconds=i * 7)
            last = i == len(events) - 1
            error = is_failed and last
            if on_compute:
                at = dest if (dest and i >= 2) else (source or inst.host)
                host = at.public.host if at else None
            else:
                host = "controller"
            kind = "schedule" if name == "create-cell0" else ("build" if name == "create" else "migrate")
            ctx.buf.add(
                role,
                "instance_actions_events",
                {
                    "created_at": ev_start,
                    "updated_at": ev_start + dt.timedelta(seconds=6),
                    "deleted_at": None,
                    "id": ctx.buf.next_id(role, "instance_actions_events"),
                    "event": event,
                    "action_id": action_id,
                    "start_time": ev_start,
                    "finish_time": ev_start + dt.timedelta(seconds=6),
                    "result": "Error" if error else "Success",
                    "traceback": TRACEBACKS[kind] if error else None,
                    "deleted": 0,
                    "host": host,
                    "details": FAULT_MESSAGES[kind] if error else None,
                },
            )
        when = start + dt.timedelta(hours=ctx.rand.randint(1, 48))


def migration(
    ctx: SeedContext,
    inst: InstanceState,
    role: str,
    *,
    migration_type: str,
    status: str,
    source: HostState,
    dest: HostState,
    old_flavor_id: int,
    new_flavor_id: int,
) -> tuple[int, str, Row]:
    """A migrations row as the conductor/compute write it for a move operation."""
    mig_id = ctx.buf.next_id(role, "migrations")
    mig_uuid = ctx.rand.uuid()
    when = inst.created_at + dt.timedelta(days=1)
    live = migration_type == "live-migration"
    row = ctx.buf.add(
        role,
        "migrations",
        {
            "created_at": when,
            "updated_at": when + dt.timedelta(seconds=95),
            "deleted_at": None,
            "id": mig_id,
            "source_compute": source.public.host,
            "dest_compute": dest.public.host,
            "dest_host": dest.public.host_ip,
            "status": status,
            "instance_uuid": inst.uuid,
            "old_instance_type_id": old_flavor_id,
            "new_instance_type_id": new_flavor_id,
            "source_node": source.public.node,
            "dest_node": dest.public.node,
            "deleted": 0,
            "migration_type": migration_type,
            "hidden": 0,
            "memory_total": 4294967296 if live else None,
            "memory_processed": 1073741824 if live else None,
            "memory_remaining": 3221225472 if live else None,
            "disk_total": 0 if live else None,
            "disk_processed": 0 if live else None,
            "disk_remaining": 0 if live else None,
            "uuid": mig_uuid,
            "cross_cell_move": 0,
            "user_id": inst.user.id,
            "project_id": inst.project.id,
            "dest_compute_id": dest.public.compute_node_id,
        },
    )
    return mig_id, mig_uuid, row
