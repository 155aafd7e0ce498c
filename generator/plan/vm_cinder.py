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
from generator.ops.operations import ApplyTime, Assignment, Operation, SetValue
from generator.ops.rows import Row
from generator.plan import builders as b
from generator.plan.model import ApiCommand, Postcondition
from generator.quoting import shell_arg
from generator.sqlgen.builders import isin as _in

# Cinder's soft delete of admin metadata and attachment specs: updated_at kept.
SOFT: dict[str, Assignment] = {"deleted": SetValue(True), "deleted_at": ApplyTime()}
# VolumeAttachment.delete(): delete_values() plus updated_at (the onupdate).
CLOSE: dict[str, Assignment] = {
    "attach_status": SetValue(cinder.ATTACH_DETACHED),
    "deleted": SetValue(True),
    "deleted_at": ApplyTime(),
    "detach_time": ApplyTime(),
    "updated_at": ApplyTime(),
}


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
    live = list(c.rows("volume_attachment"))
    closing = [a for a in live if a["instance_uuid"] == u]
    closing_ids = [a["id"] for a in closing]
    volume_ids = sorted({a["volume_id"] for a in closing})
    volumes = {v["id"]: v for v in c.rows("volumes")}
    findings = [f"Cinder ({c.label}, release {c.release}): {len(closing)} live attachment(s) of the instance"]
    ops: list[Operation] = []
    specs = [s for s in c.rows("attachment_specs") if s["attachment_id"] in closing_ids]
    ops += b.present(
        b.update(
            c,
            "attachment_specs",
            specs,
            SOFT,
            scope=b.scope_where(
                "live specs of the instance's attachments",
                _in("attachment_id", closing_ids),
                b.eq("deleted", 0),
            ),
            purpose="soft-delete the legacy connector specs (attachment_specs_delete; updated_at kept)",
        )
    )
    ops += b.present(
        b.update(
            c,
            "volume_attachment",
            closing,
            CLOSE,
            per_row=connector_from_specs(specs),
            scope=b.scope_where(
                f"live Cinder attachments of instance {u}", b.eq("instance_uuid", u), b.eq("deleted", 0)
            ),
            purpose="end the attachment as Cinder's attachment_delete does (volume_detached; legacy specs "
            "first become the connector, as loading it does)",
        )
    )
    mode = [r for r in c.rows("volume_admin_metadata") if r["volume_id"] in volume_ids]
    ops += b.present(
        b.update(
            c,
            "volume_admin_metadata",
            mode,
            SOFT,
            scope=b.scope_where(
                "live attached_mode admin metadata of the detached volumes",
                _in("volume_id", volume_ids),
                b.eq("key", "attached_mode"),
                b.eq("deleted", 0),
            ),
            purpose="forget the attach mode, as finish_detach's volume_admin_metadata_delete does",
        )
    )
    posts = []
    if closing_ids:
        posts.append(
            Postcondition(
                "cinder",
                "the instance has no live Cinder attachment",
                b.count_is("volume_attachment", 0, b.eq("instance_uuid", u), b.eq("deleted", 0)),
            )
        )
    for vid in volume_ids:
        vol = volumes.get(vid)
        if vol is None:
            findings.append(f"volume {vid}: attached per Cinder but its volumes row is missing")
            continue
        remaining = [a["attach_status"] for a in live if a["volume_id"] == vid and a["id"] not in closing_ids]
        status, attach_status = cinder.detached_volume_statuses(vol, remaining)
        findings.append(
            f"volume {vid}: {vol['status']}/{vol['attach_status']} -> {status}/{attach_status}"
            + (f" ({len(remaining)} other live attachment(s) stay)" if remaining else "")
        )
        if (vol["status"], vol["attach_status"]) != (status, attach_status):
            ops += volume_status_update(c, vol, status, attach_status, "from the attachments left")
        posts.append(
            Postcondition(
                "cinder",
                f"volume {vid} is {status}/{attach_status}",
                b.count_is(
                    "volumes",
                    1,
                    b.eq("id", vid),
                    b.eq("status", status),
                    b.eq("attach_status", attach_status),
                ),
            )
        )
    doomed, notes = _to_delete(bdms, volumes)
    return CinderSide(
        database=c if ops else None,
        operations=tuple(ops),
        postconditions=tuple(posts),
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


def volume_status_update(
    cinder_db: DatabaseFacts, vol: Row, status: str, attach_status: str, why: str
) -> list[Operation]:
    """The volume's status/attach_status as Cinder's volume_detached leaves them (computed by
    domain.cinder.detached_volume_statuses): one guarded UPDATE, shared by the VM repairs' Cinder
    group and volume reset-detached."""
    vid = vol["id"]
    return b.present(
        b.update(
            cinder_db,
            "volumes",
            [vol],
            {"status": SetValue(status), "attach_status": SetValue(attach_status), "updated_at": ApplyTime()},
            scope=b.scope_where(f"volumes.id = '{vid}'", b.eq("id", vid)),
            stays_in_scope=True,
            purpose=f"status {status}, attach_status {attach_status}, {why}",
        )
    )
