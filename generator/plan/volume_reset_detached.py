"""Volume reset-detached: close the volume's attachments the way Cinder's own detach does.

Cinder (every catalog release, `volume_detached` via `cinder attachment-delete` or
`cinder reset-state --attach-status detached`; see domain/cinder.py):
- each attachment closed: attach_status 'detached', deleted = 1, deleted_at and
  detach_time = now, and updated_at = now (the ORM's onupdate, see domain/cinder.py); its
  leftover attachment_specs first migrated into its connector and soft-deleted (the online
  data migration that loading the attachment runs, vm_cinder.connector_from_specs; the steps
  are declared once in plan/cinder_recipes.py);
- the volume's status/attach_status recomputed from the attachments that remain
  (`_get_statuses_from_attachments`): none left -> available/detached, another
  live 'attached' one (multi-attach) -> in-use/attached; updated_at = now (reset-state).
  With --instance (attachment-delete of those attachments) a volume left with none that is
  being uploaded or migrated keeps its status, as volume_detached does
  (`detached_volume_statuses`); without it the bundle is reset-state's, which sets the status
  to available before volume_detached runs, so available it is;
- the `attached_mode` admin metadata soft-deleted (`finish_detach`).

With --instance only those instances' attachments are closed (multi-attach: the
other attachments stay and keep the volume in-use). With --detach-nova the
operator says the instance(s) no longer use the volume: their
block_device_mapping rows are soft-deleted as Nova's `bdm.destroy()` does
(deleted = id), and an iSCSI/FC connection gets a compute script that logs
out of the target without touching the running domain.

Refused (unless --allow-active-user) while Nova still has a live BDM for the volume on an
instance that may be running with it: the guest would lose a disk in use.
"""

from __future__ import annotations

from dataclasses import replace

from generator.domain import cinder
from generator.facts.volume import VolumeFacts
from generator.ops.operations import Operation, UpdateRows
from generator.plan.cinder_recipes import close_of_volume
from generator.plan.model import ApiCommand, ComputeCleanup, Plan, Postcondition
from generator.plan.overrides import override_record
from generator.plan.recipe import Evaluated
from generator.plan.vm_cinder import live_detach, live_volume_status
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
from generator.sqlgen.evaluate import matches


def plan_reset_detached(facts: VolumeFacts, options: VolumeOptions) -> Plan:
    warnings = refuse_unless_repairable(facts, options)
    u = facts.volume_id
    c = facts.cinder
    vol = facts.volume
    assert vol is not None
    findings = describe_volume(facts)
    attachments = facts.live("volume_attachment")
    wanted = set(options.instances)
    close = close_of_volume(options.instances)
    closing = [a for a in attachments if matches(close.where([u]), a)]
    keep = [a for a in attachments if a not in closing]
    remaining = [a["attach_status"] for a in keep]
    status, attach_status = (
        cinder.detached_volume_statuses(vol, remaining)
        if wanted  # attachment-delete per attachment; without --instance, reset-state's available
        else cinder.statuses_from_attachments(remaining)
    )
    for uuid in sorted(wanted - {a["instance_uuid"] for a in closing}):
        findings.append(f"Cinder has no live attachment of the volume to instance {uuid}")
    if keep:
        findings.append(
            f"{len(keep)} other live attachment(s) stay "
            f"({', '.join(a['instance_uuid'] or '-' for a in keep)}): "
            f"the volume stays {status}/{attach_status}"
        )

    # The Nova side: who still holds the volume, and may the guest be using it?
    instances = {a["instance_uuid"] for a in closing if a["instance_uuid"]} | wanted
    bdms = live_bdms(facts, instances)
    for cell, bdm in bdms:
        reason = in_active_use(cell, bdm)
        if reason is None:
            continue
        options.allow.refuse(
            "active-user",
            f"volume {u}",
            reason,
            options.op,
            warnings,
            hint=f"detach it through Nova (openstack server remove volume {bdm['instance_uuid']} {u})",
        )
    if not facts.nova_given:
        warnings.append(
            "no Nova database was given: whether an instance still uses the volume was not checked "
            "(pass --nova-api-url)"
        )
    for skipped in facts.skipped_cells:
        warnings.append(f"Nova cell not read: {skipped}")

    nova_ops: list[Operation] = []
    posts: list[Postcondition] = []
    compute: tuple[ComputeCleanup, ...] = ()
    nova_facts = None
    if bdms and options.detach_nova:
        findings += refuse_root_bdms(bdms, u, f"{options.op} --detach-nova")
        cell = one_cell(bdms)
        nova_facts = cell.facts
        rows = [bdm for _, bdm in bdms]
        nova_ops, nova_posts = bdm_soft_delete(
            cell, u, rows, "the operator says the instance no longer uses it"
        )
        posts += nova_posts
        compute, notes = host_cleanups(cell, rows, options)
        findings += [f"{cell.label}: {len(rows)} live BDM(s) to soft-delete", *notes]
    elif bdms:
        warnings.append(
            f"Nova still has {len(bdms)} live block_device_mapping row(s) for the volume "
            f"(instance(s) {', '.join(sorted({bdm['instance_uuid'] for _, bdm in bdms}))}): "
            "pass --detach-nova "
            "if the instance no longer uses it, or run --op detach-from-nova afterwards"
        )

    detach = live_detach(c, close, u, closing, [u])
    # The status was computed from the attachments that stay (offline: when the apply runs), so the
    # close's guard recounts every live attachment of the volume: a concurrent attach stops the apply.
    every = close_of_volume().scope_for([u])
    recount = [
        replace(o, scope=every, scope_count=len(attachments))
        if isinstance(o, UpdateRows) and o.table == close.table
        else o
        for o in detach.operations
    ]
    detach = Evaluated(tuple(recount), detach.postconditions)
    if closing:
        findings.append(f"volume_attachment: {len(closing)} live attachment(s) to close")
    write = bool(detach.operations) or (vol["status"], vol["attach_status"]) != (status, attach_status)
    done = detach + live_volume_status(c, vol, status, attach_status, "the volume", write=write)
    ops = list(done.operations)
    if not ops and not nova_ops:
        raise nothing_to_do(facts, "reset", "it is detached in Cinder and has no live attachment")
    posts += done.postconditions
    return Plan(
        target_kind="volume",
        op="reset-detached",
        targets=(u,),
        mode="live",
        release=c.release,
        databases=databases(c if ops else None, nova_facts if nova_ops else None),
        operations=tuple(ops + nova_ops),
        postconditions=tuple(posts),
        findings=tuple(findings),
        warnings=tuple(warnings),
        api_first=_api_first(facts, options, closing, bool(keep)),
        compute=compute,
        options={**override_record(options), "detach_nova": options.detach_nova},
    )


def _api_first(
    facts: VolumeFacts, options: VolumeOptions, closing: list, others_stay: bool
) -> tuple[ApiCommand, ...]:
    u = facts.volume_id
    cmds = [ApiCommand(f"openstack volume show {u} -c status -c attachments", "see what Cinder thinks first")]
    if options.detach_nova:
        for uuid in sorted(
            {a["instance_uuid"] for a in closing if a["instance_uuid"]} | set(options.instances)
        ):
            cmds.append(
                ApiCommand(
                    f"openstack server remove volume {shell_arg(uuid)} {u}",
                    "(nova volume-detach) if the instance exists, Nova's detach closes both sides by itself",
                )
            )
    for att in closing:
        cmds.append(
            ApiCommand(
                f"cinder --os-volume-api-version 3.27 attachment-delete {shell_arg(att['id'])}",
                "Cinder's own detach of this attachment (recomputes the volume status)",
            )
        )
    if not others_stay:
        cmds.append(
            ApiCommand(
                f"cinder reset-state --state available --attach-status detached {u}",
                "closes every attachment of the volume and marks it available",
            )
        )
    return tuple(cmds)
