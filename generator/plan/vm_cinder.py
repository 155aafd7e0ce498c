"""The Cinder side of a VM delete: what Nova's delete makes Cinder do for each volume BDM.

Nova ends every volume attachment of the instance it deletes — the compute manager's
`_shutdown_instance`, or the API's `_local_cleanup_bdm_volumes` when the host is
down — with Cinder's `attachment_delete` (volume/api.py; old-style BDMs without an
attachment_id: `terminate_connection` + `detach`, same rows). On the Cinder database
that is `Volume.finish_detach` (objects/volume.py), in every catalog release:

- db `volume_detached`: the attachment closed by `VolumeAttachment.delete()` —
  attach_status 'detached', deleted = 1, deleted_at = detach_time = now, and
  updated_at = now (the ORM's onupdate fires, see domain/cinder.py) — then the
  volume's status/attach_status recomputed from the attachments that remain
  (`domain.cinder.detached_volume_statuses`); the volume row is written, with
  updated_at = now, only when they change;
- db `volume_admin_metadata_delete(volume, 'attached_mode')`: soft-delete, updated_at kept;
- leftover pre-Queens `attachment_specs` of the attachment: soft-deleted, updated_at
  kept (`attachment_specs_delete`, when the attachment object is loaded).

Then `_cleanup_volumes` calls Cinder's API delete for every `delete_on_termination`
volume: that also removes the backend volume (LVM, RBD, array exports), so it stays an
API call — `controller.sh` runs `openstack volume delete` once the SQL has ended the
attachment, exactly as Nova would. Quota usage is untouched by a detach; the volume
delete corrects it itself.

The Cinder database may run another release than Nova: its facts carry their own
detected release and the plan's database target says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from generator.domain import cinder
from generator.errors import TargetProblem
from generator.facts.instance import InstanceFacts
from generator.facts.model import DatabaseFacts
from generator.ops.operations import Operation, SetValue
from generator.ops.rows import Row
from generator.plan import builders as b
from generator.plan.cinder_recipes import ATTACHED_MODE, CLOSE_OF_INSTANCE, SPECS, volume_status
from generator.plan.model import ApiCommand, Postcondition
from generator.plan.recipe import Evaluated, Step, live_step
from generator.quoting import shell_arg
from generator.sqlgen.evaluate import matches


@dataclass(frozen=True)
class CinderSide:
    """What a VM delete adds for Cinder: one `db:cinder` step group and the API follow-ups."""

    database: DatabaseFacts | None = None  # the Cinder database the bundle writes (None: none)
    operations: tuple[Operation, ...] = ()
    postconditions: tuple[Postcondition, ...] = ()
    findings: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    volumes_to_delete: tuple[str, ...] = ()  # delete_on_termination: controller.sh deletes them
    api_commands: tuple[ApiCommand, ...] = ()  # --skip-cinder: what the operator finishes by hand


def volume_bdms(facts: InstanceFacts) -> list[Row]:
    """The instance's volume BDMs whose attachment Nova's delete ends.

    The live ones; for an instance already deleted (a purge) also the deleted ones whose
    volume Cinder still shows attached to it: the attachment Nova's delete left behind.
    """
    attached = set()
    if facts.cinder is not None:
        attached = {
            a["volume_id"] for a in facts.cinder.rows("volume_attachment") if a["instance_uuid"] == facts.uuid
        }
    rows = [r for r in facts.cell.rows("block_device_mapping") if r["volume_id"]]
    return [r for r in rows if r["deleted"] == 0 or r["volume_id"] in attached]


def plan_cinder_side(facts: InstanceFacts, *, skip_cinder: bool) -> CinderSide:
    """The Cinder step group of a VM soft-delete or purge (refuses without Cinder, see below)."""
    bdms = volume_bdms(facts)
    c = facts.cinder
    if c is None:
        return _without_cinder(facts, bdms, skip_cinder)
    u = facts.uuid
    volumes = {v["id"]: v for v in c.rows("volumes")}
    closing = [a for a in c.rows("volume_attachment") if matches(CLOSE_OF_INSTANCE.where([u]), a)]
    volume_ids = sorted({a["volume_id"] for a in closing})
    closing_ids = {a["id"] for a in closing}
    done = live_detach(c, CLOSE_OF_INSTANCE, u, closing, volume_ids)
    findings = [f"Cinder ({c.label}, release {c.release}): {len(closing)} live attachment(s) of the instance"]
    for vid in volume_ids:
        vol = volumes.get(vid)
        if vol is None:
            findings.append(f"volume {vid}: attached per Cinder but its volumes row is missing")
            continue
        others = [
            a for a in c.rows("volume_attachment") if a["volume_id"] == vid and a["id"] not in closing_ids
        ]
        remaining = [a["attach_status"] for a in others]
        status, attach_status = cinder.detached_volume_statuses(vol, remaining)
        findings.append(
            f"volume {vid}: {vol['status']}/{vol['attach_status']} -> {status}/{attach_status}"
            + (f" ({len(remaining)} other live attachment(s) stay)" if remaining else "")
        )
        changes = (vol["status"], vol["attach_status"]) != (status, attach_status)
        done += live_volume_status(c, vol, status, attach_status, f"volume {vid}", write=changes)
    doomed, notes = _to_delete(bdms, volumes)
    return CinderSide(
        database=c if done.operations else None,
        operations=done.operations,
        postconditions=done.postconditions,
        findings=tuple(findings + notes),
        volumes_to_delete=doomed,
    )


def connector_from_specs(specs: list[Row]) -> dict[object, dict[str, object]]:
    """Loading an attachment that still has pre-Queens specs migrates them (objects/volume_attachment.py
    `_from_db_object`): connector = the specs as a JSON object (`attachment_specs_get`: key -> value, in
    the rows' primary-key order, as InnoDB returns them), saved before the specs are soft-deleted.
    Both ways of ending an attachment load it first (the VM repairs' Cinder group, volume
    reset-detached). Returned per attachment id as the extra value its close writes (`b.update`'s
    `per_row`): one change of each attachment row, so every guard sees its rows change once."""
    by_attachment: dict[str, dict[str, object]] = {}
    for spec in sorted(specs, key=lambda r: r["id"]):
        by_attachment.setdefault(spec["attachment_id"], {})[spec["key"]] = spec["value"]
    return {aid: {"connector": json.dumps(values)} for aid, values in by_attachment.items()}


def _to_delete(bdms: list[Row], volumes: dict[str, Row]) -> tuple[tuple[str, ...], list[str]]:
    """The delete_on_termination volumes Nova's `_cleanup_volumes` deletes through Cinder's API."""
    out: list[str] = []
    notes = []
    for bdm in bdms:
        if not bdm["delete_on_termination"]:
            continue
        vid = bdm["volume_id"]
        vol = volumes.get(vid)
        if vol is None or vol["deleted"]:
            notes.append(f"volume {vid} (delete_on_termination) is already gone from Cinder")
        elif vid not in out:
            out.append(vid)
            notes.append(
                f"volume {vid} is delete_on_termination: shell/controller.sh deletes it through Cinder's API "
                "after the SQL apply (that also removes the backend volume)"
            )
    return tuple(out), notes


def _without_cinder(facts: InstanceFacts, bdms: list[Row], skip_cinder: bool) -> CinderSide:
    """No Cinder database: refuse unless --skip-cinder; then list what to finish through the API."""
    if not bdms:
        return CinderSide()
    vols = sorted({r["volume_id"] for r in bdms})
    if not skip_cinder:
        raise TargetProblem(
            f"instance {facts.uuid} has {len(bdms)} volume BDM(s) (volume(s) {', '.join(vols)}) "
            "and no Cinder "
            "database was given: pass --cinder-url or --cinder-conf so the bundle ends the attachments "
            "as Nova's delete does, or --skip-cinder to finish them through the API (the runbook lists them)"
        )
    cmds = []
    for bdm in bdms:
        vid = shell_arg(bdm["volume_id"])
        if bdm["attachment_id"]:
            att = shell_arg(bdm["attachment_id"])
            cmds.append(
                ApiCommand(
                    f"cinder --os-volume-api-version 3.27 attachment-delete {att}",
                    f"--skip-cinder: end the Cinder attachment of volume {vid}, as Nova's delete does",
                )
            )
        else:
            cmds.append(
                ApiCommand(
                    f"cinder reset-state --state available --attach-status detached {vid}",
                    f"--skip-cinder: old-style attachment (no attachment_id): detach volume {vid} in Cinder",
                )
            )
        if bdm["delete_on_termination"]:
            cmds.append(
                ApiCommand(
                    f"openstack volume delete {vid}",
                    "--skip-cinder: then delete it (delete_on_termination), as Nova's delete does",
                )
            )
    warning = (
        f"--skip-cinder: no Cinder database was given: the Cinder side of volume(s) {', '.join(vols)} "
        "is not in this bundle; after the apply, finish it with the API commands listed under "
        "--skip-cinder in section 2"
    )
    return CinderSide(warnings=(warning,), api_commands=tuple(cmds))


def live_detach(
    c: DatabaseFacts, close: Step, target: str, closing: list[Row], volumes: list[str]
) -> Evaluated:
    """cinder_recipes' specs, close and attached_mode on the rows read: the specs of the
    `closing` attachments (the close's rows), then the close, which writes the connector
    loading the attachment migrates them into (`connector_from_specs`, computed here in Python
    where offline computes it in SQL), then the `attached_mode` of `volumes`."""
    ids = [a["id"] for a in closing]
    done = Evaluated()
    if ids:
        specs = live_step(SPECS, c, ids)
        spec_rows = [ch.before for op in specs.operations for ch in getattr(op, "changes", None) or ()]
        done = specs + live_step(close, c, [target], per_row=connector_from_specs(spec_rows))
    return done + live_step(ATTACHED_MODE, c, volumes) if volumes else done


def live_volume_status(
    c: DatabaseFacts, vol: Row, status: str, attach_status: str, what: str, *, write: bool
) -> Evaluated:
    """The volume's status/attach_status as the caller computed them from the attachments that stay
    (domain.cinder; offline computes them in SQL): written when `write`, checked afterwards."""
    vid = vol["id"]
    step = volume_status(SetValue(status), SetValue(attach_status))
    post = Postcondition(
        "cinder",
        f"{what} is {status}/{attach_status}",
        b.count_is(
            "volumes", 1, b.eq("id", vid), b.eq("status", status), b.eq("attach_status", attach_status)
        ),
    )
    done = live_step(step, c, [vid]) if write else Evaluated()
    return done + Evaluated(postconditions=(post,))
