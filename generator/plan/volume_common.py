"""What every volume repair shares: options, refusals, the Nova BDM side, host cleanup
(the quota recount's correction is in plan/volume_quota.py).

The refusals are the operator's safety net: a volume a service may still be
working on, an instance that may still use the disk, snapshots a delete would
orphan. Each says why and names the option that overrides it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from generator.domain import cinder, nova
from generator.domain.staleness import DEFAULT_STALE_AFTER, format_duration, judge
from generator.errors import TargetProblem
from generator.facts.volume import NovaCell, VolumeFacts
from generator.hostside.connection_info import parse_connection_info
from generator.ops.operations import Operation
from generator.ops.rows import Row
from generator.plan import cinder_recipes as recipes
from generator.plan.model import ComputeCleanup, DatabaseTarget, Postcondition
from generator.plan.overrides import Overrides
from generator.plan.recipe import live_step
from generator.plan.vm_soft_delete import database_target

VOLUME_OPS = ("reset-detached", "detach-from-nova", "soft-delete", "purge")
# Nova vm_states in which the hypervisor may run the guest with the disk attached.
ACTIVE_VM_STATES = ("active", "building", "paused", "suspended", "rescued", "resized")
HOST_SIDE_DRIVERS = ("iscsi", "fibre_channel")  # what leaves sessions/disks on the compute node


@dataclass(frozen=True)
class VolumeOptions:
    op: str
    allow: Overrides = field(default_factory=Overrides)  # the protections lifted by --allow-… flags
    stale_after: dt.timedelta = DEFAULT_STALE_AFTER  # --stale-after: when a transitional status is stuck
    cascade: bool = False  # soft-delete/purge: also remove live snapshots (purge: and live backups)
    instances: tuple[str, ...] = ()  # reset-detached/detach-from-nova: only these instances' records
    detach_nova: bool = False  # reset-detached: the instances no longer use it: soft-delete their BDMs
    no_snapshot_gb_quota: bool = False  # CONF.no_snapshot_gb_quota of the deployment
    instance_name_template: str = nova.DEFAULT_INSTANCE_NAME_TEMPLATE


def refuse_unless_repairable(facts: VolumeFacts, options: VolumeOptions) -> list[str]:
    """Raise TargetProblem for a refusal; return warnings (what an --allow-… flag let through)."""
    vol = facts.volume
    op, u = options.op, facts.volume_id
    if vol is None:
        raise TargetProblem(f"volume {u} not found in the Cinder database ({facts.cinder.database})")
    warnings: list[str] = []
    subject = f"volume {u}"
    if vol["deleted"] and op in ("reset-detached", "soft-delete"):
        options.allow.refuse(
            "deleted-volume", subject, f"already deleted (deleted_at {vol['deleted_at']})", op, warnings,
            hint="--op purge removes its rows",
        )  # fmt: skip
    status = vol["status"]
    if status in cinder.TRANSITIONAL_STATUSES and not vol["deleted"]:
        state = judge(status, vol["updated_at"], facts.read_at, options.stale_after)
        if state.stale:
            warnings.append(
                f"status {status!r} ({state.since()}) is older than --stale-after "
                f"{format_duration(options.stale_after)}: taken as stuck, no service is working on it"
            )
        else:
            options.allow.refuse(
                "recent-transition",
                subject,
                f"status {status!r} ({state.since()}): {cinder.TRANSITIONAL_STATUSES[status]}",
                op,
                warnings,
                when=state.accepted_without("--allow-recent-transition"),
            )
    migration = vol["migration_status"] or ""
    if migration in cinder.TRANSITIONAL_MIGRATION:
        reason = f"migration_status {migration!r}: a migration is moving its data"
        options.allow.refuse("migrating", subject, reason, op, warnings)
    elif migration.startswith("target:"):
        options.allow.refuse(
            "migrating",
            subject,
            f"it is the destination of a migration ({migration!r}); the source volume owns it",
            op,
            warnings,
        )
    return warnings


def describe_volume(facts: VolumeFacts) -> list[str]:
    """The runbook's first findings: the volume and its attachments as read."""
    vol = facts.volume
    if vol is None:
        return [f"volume {facts.volume_id}: not in the Cinder database"]
    vtype = facts.type_names.get(vol["volume_type_id"], vol["volume_type_id"])
    out = [
        f"volume {facts.volume_id} ({vol['display_name']!r}, {vol['size']} GB, type {vtype}, project "
        f"{vol['project_id']}): status={vol['status']}, attach_status={vol['attach_status']}, "
        f"migration_status={vol['migration_status']}, deleted={vol['deleted']}, host={vol['host']}"
    ]
    for att in facts.live("volume_attachment"):
        out.append(
            f"live attachment {att['id']}: instance {att['instance_uuid']}, attach_status "
            f"{att['attach_status']}, host {att['attached_host']}, mountpoint {att['mountpoint']}"
        )
    for cell, bdm in live_bdms(facts):
        inst = instance_row(cell, bdm["instance_uuid"])
        state = f"{inst['vm_state']}, host {inst['host']}" if inst is not None else "instance row not found"
        out.append(f"{cell.label}: live BDM {bdm['id']} of instance {bdm['instance_uuid']} ({state})")
    return out


def refuse_delete_blockers(facts: VolumeFacts, options: VolumeOptions) -> list[str]:
    """What Cinder's delete refuses: live snapshots (without --cascade), an attached volume, a group."""
    vol = facts.volume
    assert vol is not None
    u, op = facts.volume_id, options.op
    warnings: list[str] = []
    snaps = facts.live("snapshots")
    if snaps and not options.cascade:
        raise TargetProblem(
            f"volume {u} has {len(snaps)} live snapshot(s) ({', '.join(s['id'] for s in snaps)}); "
            "delete them "
            f"first or pass --cascade to {op} them with the volume"
        )
    if options.cascade:
        warnings += refuse_cascade_snapshots(u, snaps, options)
    attached = [a for a in facts.live("volume_attachment") if a["attach_status"] == cinder.ATTACHED]
    if not vol["deleted"] and (vol["attach_status"] == cinder.ATTACHED or attached):
        options.allow.refuse(
            "attached",
            f"volume {u}",
            f"it is attached ({len(attached)} live attachment(s))",
            op,
            warnings,
            hint="detach it first (--op reset-detached)",
        )
    for column in ("group_id", "consistencygroup_id"):
        if vol[column] and not vol["deleted"]:
            reason = (
                f"it belongs to a {column.removesuffix('_id')} ({vol[column]}), which Cinder's delete refuses"
            )
            options.allow.refuse("group-member", f"volume {u}", reason, op, warnings)
    for cell, bdm in live_bdms(facts):
        warnings.append(
            f"{cell.label}: Nova still has live block_device_mapping {bdm['id']} of instance "
            f"{bdm['instance_uuid']} for the volume: run --op detach-from-nova for it"
        )
    if vol["encryption_key_id"] and not vol["deleted"]:
        warnings.append(
            "the volume is encrypted: Cinder's own delete also removes its key "
            f"{vol['encryption_key_id']} from "
            "the key manager; this bundle does not. Once nothing needs the data, delete the secret "
            f"(openstack secret delete <key-manager-url>/v1/secrets/{vol['encryption_key_id']})"
        )
    if facts.usage is not None:
        others = sorted({s["project_id"] for s in snaps if s["project_id"] != vol["project_id"]})
        if others:
            warnings.append(
                f"snapshots of project(s) {', '.join(others)} go too: correct their usage with "
                "`fixpack quota sync --project P` afterwards"
            )
    return warnings


def refuse_cascade_snapshots(u: str, snaps: Sequence[Row], options: VolumeOptions) -> list[str]:
    """What Cinder's delete(cascade=True) refuses of the live snapshots it would take.

    A snapshot in a cgsnapshot or a group snapshot belongs to that group's delete: Cinder refuses
    it even with force, so no flag lifts it. A snapshot not `available` or `error` (creating,
    deleting, error_deleting, backing-up, ...) fails the non-force delete; Cinder's force delete
    takes it, and so does --allow-snapshot-status.
    """
    warnings: list[str] = []
    for column, what in cinder.SNAPSHOT_GROUP_COLUMNS:
        grouped = [s for s in snaps if s.get(column)]
        if grouped:
            listed = ", ".join(f"{s['id']} ({what} {s[column]})" for s in grouped)
            command = "cgsnapshot-delete" if column == "cgsnapshot_id" else "group-snapshot-delete"
            raise TargetProblem(
                f"volume {u}: --cascade would take snapshot(s) that belong to a {what}: {listed}, which "
                f"Cinder's delete refuses (even forced); refusing to {options.op} it: delete the {what} "
                f"first (cinder {command} ID)"
            )
    stuck = [s for s in snaps if s["status"] not in cinder.CASCADE_DELETABLE_SNAPSHOT]
    if stuck:
        listed = ", ".join(f"{s['id']} ({s['status']})" for s in stuck)
        options.allow.refuse(
            "snapshot-status",
            f"volume {u}",
            f"--cascade would take snapshot(s) in a status Cinder's delete refuses (not available or error): "
            f"{listed}",
            options.op,
            warnings,
            hint="Cinder itself takes them only with a force delete",
        )
    return warnings


def nothing_to_do(facts: VolumeFacts, op: str, why: str) -> TargetProblem:
    return TargetProblem(f"volume {facts.volume_id}: nothing to {op}: {why}")


def instance_row(cell: NovaCell, uuid: str) -> Row | None:
    return next((r for r in cell.facts.rows("instances") if r["uuid"] == uuid), None)


def live_bdms(facts: VolumeFacts, instances: Iterable[str] | None = None) -> list[tuple[NovaCell, Row]]:
    """(cell, BDM) of every live BDM of the volume, optionally only of `instances`."""
    wanted = None if instances is None else set(instances)
    out = []
    for cell in facts.nova_cells:
        for bdm in cell.facts.rows("block_device_mapping"):
            if wanted is None or bdm["instance_uuid"] in wanted:
                out.append((cell, bdm))
    return out


def in_active_use(cell: NovaCell, bdm: Row) -> str | None:
    """Why Nova may still be using the volume through this BDM (None: it is not)."""
    inst = instance_row(cell, bdm["instance_uuid"])
    if inst is None or inst["deleted"] or inst["vm_state"] not in ACTIVE_VM_STATES:
        return None
    return (
        f"instance {inst['uuid']} is {inst['vm_state']} (host {inst['host']}) and Nova still has "
        f"block_device_mapping {bdm['id']} for the volume: the guest may be using the disk"
    )


def refuse_root_bdms(pairs: Sequence[tuple[NovaCell, Row]], volume_id: str, op: str) -> list[str]:
    """Refuse to drop the root BDM (boot_index 0) of a live instance; return findings for the rest.

    Nova's detach API refuses it ("Cannot detach a root device volume",
    api/openstack/compute/volume_attachments.py, `bdm.is_root`): the instance boots from
    that volume, and without the row Nova would rebuild, reboot or migrate it with no
    root disk. No flag lifts this: nothing Nova does leaves a live instance without its
    root BDM. An instance that is deleted (or has no row) is not refused: Nova's own
    instance delete soft-deletes every BDM, the root one included.
    """
    notes = []
    for cell, bdm in pairs:
        if bdm["boot_index"] != 0:
            continue
        inst = instance_row(cell, bdm["instance_uuid"])
        if inst is not None and not inst["deleted"]:
            raise TargetProblem(
                f"volume {volume_id}: it is the root device (block_device_mapping {bdm['id']}, boot_index 0) "
                f'of instance {bdm["instance_uuid"]}, which Nova refuses to detach ("Cannot detach a root '
                f'device volume"); refusing to {op} it: delete or rebuild the instance through Nova instead'
            )
        notes.append(
            f"{cell.label}: BDM {bdm['id']} is the root device of instance {bdm['instance_uuid']}, which is "
            "deleted: Nova's own delete soft-deletes it too"
        )
    return notes


def one_cell(pairs: Sequence[tuple[NovaCell, Row]]) -> NovaCell:
    """The cell all the BDMs to change live in (a bundle has one Nova cell database)."""
    cells = {id(c): c for c, _ in pairs}
    if len(cells) > 1:
        names = ", ".join(sorted(c.label for c in cells.values()))
        raise TargetProblem(
            f"the block_device_mapping rows to change are in several cells ({names}); generate one bundle "
            "per cell with --instance UUID"
        )
    return pairs[0][0]


def bdm_soft_delete(
    cell: NovaCell, volume_id: str, bdms: Sequence[Row], why: str
) -> tuple[list[Operation], list[Postcondition]]:
    """Soft-delete the volume's live BDMs of the instances of `bdms` (cinder_recipes.bdm_soft_delete)."""
    step = recipes.bdm_soft_delete(sorted({r["instance_uuid"] for r in bdms}), why)
    done = live_step(step, cell.facts, [volume_id])
    return list(done.operations), list(done.postconditions)


def host_cleanups(
    cell: NovaCell, bdms: Sequence[Row], options: VolumeOptions
) -> tuple[tuple[ComputeCleanup, ...], list[str]]:
    """Volume-only compute scripts: log out of the iSCSI/FC targets of the BDMs dropped.

    One script per host (the bundle names scripts by host); the instance's
    libvirt domain is checked, never stopped or undefined.
    """
    out: dict[str, ComputeCleanup] = {}
    notes: list[str] = []
    for bdm in bdms:
        inst = instance_row(cell, bdm["instance_uuid"])
        conn = parse_connection_info(bdm["volume_id"], bdm["connection_info"])
        if conn.driver not in HOST_SIDE_DRIVERS:
            notes.append(
                f"BDM {bdm['id']}: {conn.driver} connection: nothing to clean up on the compute node"
            )
            continue
        if inst is None or not inst["host"]:
            notes.append(f"BDM {bdm['id']}: the instance has no host: no compute-node script")
            continue
        host = inst["host"]
        if host in out:
            notes.append(
                f"BDM {bdm['id']}: another cleanup on {host} is already in this bundle; disconnect "
                f"{conn.driver} for instance {inst['uuid']} by hand or with a second bundle (--instance)"
            )
            continue
        out[host] = ComputeCleanup(
            host=host,
            instance_uuid=inst["uuid"],
            domain_name=nova.domain_name(inst, options.instance_name_template),
            volumes=(conn,),
            volumes_only=True,
        )
    return tuple(out.values()), notes


def databases(*facts_list) -> tuple[DatabaseTarget, ...]:
    return tuple(database_target(f) for f in facts_list if f is not None)
