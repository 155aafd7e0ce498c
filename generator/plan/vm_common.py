"""What every VM repair shares: options, refusals, API-first commands, host-side facts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from generator.domain import nova
from generator.domain.staleness import DEFAULT_STALE_AFTER, ago, format_duration, judge
from generator.errors import TargetProblem
from generator.facts.instance import InstanceFacts
from generator.hostside.connection_info import parse_connection_info
from generator.hostside.network_info import parse_network_info
from generator.plan.model import ApiCommand, ComputeCleanup, ControllerActions, Postcondition
from generator.plan.overrides import Overrides
from generator.quoting import shell_arg


@dataclass(frozen=True)
class VmOptions:
    op: str
    allow: Overrides = field(default_factory=Overrides)  # the protections lifted by --allow-… flags
    stale_after: dt.timedelta = DEFAULT_STALE_AFTER  # --stale-after: when a task_state is stuck
    to_host: str | None = None
    to_node: str | None = None
    availability_zone: str | None = None  # rehost --availability-zone: the target's AZ, as the operator says
    include_shadow: bool = False
    instance_name_template: str = nova.DEFAULT_INSTANCE_NAME_TEMPLATE
    instances_path: str = "/var/lib/nova/instances"
    skip_cinder: bool = False  # live, no Cinder database: leave the volumes to the API (runbook lists them)
    with_cinder: bool = False  # offline: add the db:cinder step group, its rows resolved at run time
    cinder_release: str | None = None  # offline --with-cinder: Cinder's release (default: --release)
    placement_release: str | None = (
        None  # offline soft-delete/purge: Placement's release (default: --release)
    )


def instance_deleted_changes() -> dict:
    """The instance row as the compute manager and instance_destroy leave it."""
    from generator.ops.operations import ApplyTime, CopyColumn, SetValue

    return {
        "vm_state": SetValue(nova.DELETED), "task_state": SetValue(None),
        "power_state": SetValue(nova.NOSTATE), "terminated_at": ApplyTime(), "updated_at": ApplyTime(),
        "deleted": CopyColumn("id"), "deleted_at": ApplyTime(),
    }  # fmt: skip


def instance_deleted_postcondition(uuid: str) -> Postcondition:
    from generator.plan import builders as b

    return Postcondition("nova", "the instance is soft-deleted the way Nova leaves it", b.count_is(
        "instances", 1, b.eq("uuid", uuid), b.eq("vm_state", nova.DELETED), b.same("deleted", "id"),
        b.not_(b.is_null("deleted_at"))))  # fmt: skip


def refuse_unless_repairable(facts: InstanceFacts, options: VmOptions) -> list[str]:
    """Raise TargetProblem for a refusal; return warnings for what only needs saying."""
    inst = facts.instance
    warnings: list[str] = []
    if inst["deleted"] not in (0, None) and options.op != "purge":
        raise TargetProblem(
            f"instance {facts.uuid} is already deleted (deleted={inst['deleted']}, deleted_at="
            f"{inst['deleted_at']}); nothing to {options.op} — use --op purge to remove its rows"
        )
    age = facts.read_at - inst["updated_at"] if inst["updated_at"] else None
    service = next((r for r in facts.cell.rows("services") if r["host"] == inst["host"]), None)
    heartbeat = facts.read_at - service["updated_at"] if service and service["updated_at"] else None
    healthy = (
        inst["vm_state"] == "active"
        and inst["power_state"] == nova.RUNNING
        and inst["task_state"] is None
        and inst["deleted"] == 0
    )
    subject = f"instance {facts.uuid}"
    if healthy:
        evidence = f"instance updated {ago(age)} ago" if age is not None else "instance never updated"
        if service is not None:
            evidence += (
                f"; nova-compute on {inst['host']} "
                + (f"last reported {ago(heartbeat)} ago" if heartbeat is not None else "never reported")
                + (", service disabled" if service["disabled"] else "")
            )
        options.allow.refuse(
            "healthy-instance",
            subject,
            f"it looks healthy (vm_state active, power running, no task; {evidence})",
            options.op,
            warnings,
        )
        warnings[-1] += (
            ". If it really runs, this repair leaves a live VM that Nova no longer manages: its disks and "
            "ports stay in use, quota and placement stop counting it, and the host may be oversubscribed."
        )
    if inst["task_state"] is not None and inst["deleted"] == 0:
        task = judge(inst["task_state"], inst["updated_at"], facts.read_at, options.stale_after)
        if task.stale:
            warnings.append(
                f"task_state {inst['task_state']!r} ({task.since()}) is older than --stale-after "
                f"{format_duration(options.stale_after)}: taken as stuck, no service is working on it"
            )
        else:
            options.allow.refuse(
                "recent-transition",
                subject,
                f"task_state {inst['task_state']!r} ({task.since()}): Nova may still be working on it",
                options.op,
                warnings,
                when=task.accepted_without("--allow-recent-transition"),
            )
    # soft-delete and purge end the Cinder attachments themselves (plan/vm_cinder.py)
    return warnings


def instance_attachments(facts: InstanceFacts) -> list:
    """The live Cinder attachments of the instance (facts also hold other instances' attachments
    of the same volumes, which decide the status a volume is left in)."""
    if facts.cinder is None:
        return []
    return [a for a in facts.cinder.rows("volume_attachment") if a["instance_uuid"] == facts.uuid]


def api_first(facts: InstanceFacts, options: VmOptions) -> tuple[ApiCommand, ...]:
    u = facts.uuid
    inst = facts.instance
    cmds = [
        ApiCommand(
            f"openstack server show {u} -c status -c OS-EXT-STS:task_state -c OS-EXT-SRV-ATTR:host",
            "see what Nova thinks first",
        )
    ]
    if facts.cinder is not None:
        for att in instance_attachments(facts):
            cmds.append(
                ApiCommand(
                    f"openstack server remove volume {u} {shell_arg(att['volume_id'])}",
                    "detach each volume Cinder still shows attached",
                )
            )
            cmds.append(
                ApiCommand(
                    f"cinder attachment-delete {shell_arg(att['id'])}",
                    "if the detach fails: delete the Cinder attachment record",
                )
            )
    if options.op in ("soft-delete", "purge"):
        if inst["host"]:
            cmds.append(
                ApiCommand(
                    f"openstack compute service list --host {shell_arg(inst['host'])} --service nova-compute",
                    "if the host is down, Nova's API deletes the instance locally by itself",
                )
            )
        cmds += [
            ApiCommand(
                f"openstack server set --state error {u}",
                "(nova reset-state) clears a stuck task_state such as 'deleting'",
            ),
            ApiCommand(f"openstack server delete {u}", "then let Nova delete it"),
            ApiCommand(
                f"openstack server delete --force {u}",
                "for a SOFT_DELETED instance (deferred delete), delete it now",
            ),
        ]
        if options.op == "purge":
            cmds.append(
                ApiCommand(
                    "nova-manage db archive_deleted_rows --until-complete --all-cells "
                    "&& nova-manage db purge --before <date> --all-cells",
                    "for a soft-deleted instance, Nova's own archive+purge removes its rows",
                )
            )
    elif options.op == "rehost":
        cmds += [
            ApiCommand(f"openstack server migration list --server {u}", "see the failed migration"),
            ApiCommand(
                f"openstack server resize revert {u}",
                "a resize in VERIFY_RESIZE can be reverted (or confirmed) by Nova itself",
            ),
            ApiCommand(
                f"openstack server set --state active {u}",
                "after a failed migration, reset the state and retry the move through the API",
            ),
        ]
    return tuple(cmds)


def compute_cleanup(facts: InstanceFacts, options: VmOptions) -> tuple[ComputeCleanup, ...]:
    """The host-side cleanup for the instance's host (none for a cell0 failed build)."""
    inst = facts.instance
    if facts.in_cell0 or not inst["host"]:
        return ()
    caches = [r for r in facts.cell.rows("instance_info_caches") if r["deleted"] == 0] or list(
        facts.cell.rows("instance_info_caches")
    )
    vifs = parse_network_info(caches[0]["network_info"] if caches else None, facts.uuid)
    volumes = []
    for bdm in facts.cell.rows("block_device_mapping"):
        if bdm["deleted"] == 0 and bdm["volume_id"] and bdm["connection_info"]:
            volumes.append(parse_connection_info(bdm["volume_id"], bdm["connection_info"]))
    return (
        ComputeCleanup(
            host=inst["host"],
            instance_uuid=facts.uuid,
            domain_name=nova.domain_name(inst, options.instance_name_template),
            vifs=vifs,
            volumes=tuple(volumes),
            instances_path=options.instances_path,
        ),
    )


def controller_actions(
    facts: InstanceFacts, volumes_to_delete: tuple[str, ...] | None = None
) -> ControllerActions:
    """`volumes_to_delete` None: the bundle leaves Cinder alone (rehost), so the script
    prints detach hints for the attached volumes; given: the SQL ends the attachments and the
    script deletes these delete_on_termination volumes through the API."""
    inst = facts.instance
    sysmeta = {r["key"]: r["value"] for r in facts.cell.rows("instance_system_metadata") if r["deleted"] == 0}
    shelved_image = (
        sysmeta.get("shelved_image_id") if inst["vm_state"] in ("shelved", "shelved_offloaded") else None
    )
    caches = [r for r in facts.cell.rows("instance_info_caches") if r["deleted"] == 0]
    vifs = parse_network_info(caches[0]["network_info"] if caches else None, facts.uuid)
    # Ports the user created in Neutron (preserve_on_delete) are unbound by Nova, never deleted.
    ports = [v.port_id for v in vifs if not v.preserve_on_delete]
    preserved = tuple(v.port_id for v in vifs if v.preserve_on_delete)
    attached = tuple(sorted({a["volume_id"] for a in instance_attachments(facts)}))
    if volumes_to_delete is not None:
        attached = ()
    return ControllerActions(
        memcached_tokens=False,
        neutron_ports=tuple(ports),
        shelved_image=shelved_image,
        volumes_to_detach=attached,
        volumes_to_delete=volumes_to_delete or (),
        instance_uuid=facts.uuid,
        preserved_ports=preserved,
    )
