"""Volume detach-from-nova: Cinder already says detached, Nova's block_device_mapping does not.

The stale BDM rows (live, for the volume, of instances Cinder has no live
attachment to) are soft-deleted in the instance's cell database the way Nova's
`bdm.destroy()` does: oslo.db `Query.soft_delete()`, deleted = id and deleted_at =
now, updated_at kept. The cell is found from nova_api instance_mappings (with
--instance) or by reading every cell. When the BDM's connection_info says iSCSI
or Fibre Channel and the instance has a host, the bundle carries a compute
script that disconnects only that volume (sessions, SCSI disks, multipath map),
checking that no domain on the host — the instance's own included — still uses
the disk; the instance keeps running.

Nothing changes in Cinder. A BDM of an instance Cinder still shows attached is
left alone (that is --op reset-detached), unless named with --instance and --allow-attached.
"""

from __future__ import annotations

from generator.errors import TargetProblem
from generator.facts.volume import VolumeFacts
from generator.plan.model import ApiCommand, Plan
from generator.plan.overrides import override_record
from generator.plan.volume_common import (
    VolumeOptions,
    bdm_soft_delete,
    databases,
    describe_volume,
    host_cleanups,
    in_active_use,
    live_bdms,
    nothing_to_do,
    one_cell,
    refuse_root_bdms,
    refuse_unless_repairable,
)
from generator.quoting import shell_arg


def plan_detach_from_nova(facts: VolumeFacts, options: VolumeOptions) -> Plan:
    u = facts.volume_id
    warnings: list[str] = []
    if facts.volume is None:
        options.allow.refuse(
            "missing-volume",
            f"volume {u}",
            f"not found in the Cinder database ({facts.cinder.database}); purged?",
            options.op,
            warnings,
            hint="if it was purged, that flag soft-deletes Nova's BDMs for it anyway",
        )
    else:
        warnings += refuse_unless_repairable(facts, options)
    if not facts.nova_given:
        raise TargetProblem("detach-from-nova needs the Nova databases: pass --nova-api-url (or --nova-url)")
    for skipped in facts.skipped_cells:
        warnings.append(f"Nova cell not read: {skipped}")
    findings = describe_volume(facts)

    attached = {a["instance_uuid"] for a in facts.live("volume_attachment")}
    candidates = live_bdms(facts, options.instances or None)
    stale = []
    for cell, bdm in candidates:
        inst = bdm["instance_uuid"]
        if inst not in attached:
            stale.append((cell, bdm))
        elif options.instances:
            options.allow.refuse(
                "attached",
                f"volume {u}",
                f"Cinder still has a live attachment of the volume to instance {inst}",
                options.op,
                warnings,
                hint="--op reset-detached closes both sides",
            )
            stale.append((cell, bdm))
        else:
            findings.append(f"BDM {bdm['id']} of instance {inst} kept: Cinder still shows it attached")
    for uuid in sorted(set(options.instances) - {bdm["instance_uuid"] for _, bdm in candidates}):
        findings.append(f"Nova has no live block_device_mapping of the volume for instance {uuid}")
    if not stale:
        raise nothing_to_do(facts, "detach from Nova", "Nova holds no stale block_device_mapping row for it")
    findings += refuse_root_bdms(stale, u, options.op)
    for cell, bdm in stale:
        reason = in_active_use(cell, bdm)
        if reason:
            options.allow.refuse(
                "active-user",
                f"volume {u}",
                reason,
                options.op,
                warnings,
                hint=f"try `openstack server remove volume {bdm['instance_uuid']} {u}` first",
            )
            warnings[-1] += "; the compute script leaves any disk the domain still uses connected"
    cell = one_cell(stale)
    rows = [bdm for _, bdm in stale]
    ops, posts = bdm_soft_delete(cell, u, rows, "Cinder no longer has the volume attached to the instance")
    compute, notes = host_cleanups(cell, rows, options)
    findings += [f"{cell.label}: {len(rows)} stale BDM(s) to soft-delete", *notes]
    cmds = [ApiCommand(f"openstack volume show {u} -c status -c attachments", "confirm Cinder says detached")]
    for uuid in sorted({r["instance_uuid"] for r in rows}):
        cmds.append(
            ApiCommand(
                f"openstack server remove volume {shell_arg(uuid)} {u}",
                "(nova volume-detach) Nova's own detach removes its BDM and tolerates a missing Cinder "
                "attachment",
            )
        )
    return Plan(
        target_kind="volume",
        op="detach-from-nova",
        targets=(u,),
        mode="live",
        release=cell.facts.release,
        databases=databases(cell.facts),
        operations=tuple(ops),
        postconditions=tuple(posts),
        findings=tuple(findings),
        warnings=tuple(warnings),
        api_first=tuple(cmds),
        compute=compute,
        options=override_record(options),
    )
