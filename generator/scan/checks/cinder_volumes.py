"""Cinder volumes against Nova: attachments of deleted instances, BDMs of deleted volumes,
and volumes, snapshots and backups stuck in a transitional status."""

from __future__ import annotations

import datetime as dt

from generator.domain import cinder
from generator.scan import suggest
from generator.scan.context import ScanContext
from generator.scan.model import CheckResult, Finding
from generator.scan.registry import check

# The list of transitional volume statuses (#12), and Cinder's own (domain/cinder.py).
VOLUME_STUCK = tuple(
    sorted(
        {
            "creating", "attaching", "detaching", "deleting", "error_deleting", "reserved", "extending",
            "retyping", "backing-up", "restoring-backup", "downloading", "uploading", "maintenance",
        }
        | set(cinder.TRANSITIONAL_STATUSES)
    )
)  # fmt: skip
# Where the data may be incomplete the safe reset is `error`; otherwise back to what the attachments say.
_RESET_TO_ERROR = {
    "creating", "deleting", "error_deleting", "error_managing_deleting", "extending", "retyping",
    "restoring-backup", "downloading", "managing", "unmanaging",
}  # fmt: skip
SNAPSHOT_STUCK = ("creating", "deleting", "error_deleting", "restoring", "backing-up", "unmanaging")
BACKUP_STUCK = ("creating", "deleting", "restoring")


@check(
    "volume-attached-to-deleted-instance",
    "cinder",
    ("cinder", "nova_api", "nova"),
    "a live Cinder attachment (or an in-use volume) whose instance Nova has deleted or does not know",
)
def attached_to_deleted(ctx: ScanContext) -> CheckResult:
    ctx.require("cinder")
    ctx.require("nova_api")
    index = ctx.instance_index()
    attachments = ctx.attachments()
    volumes = ctx.volumes()
    live = index.live
    live_bdm_volumes = {v for i, v, _c in ctx.volume_bdms() if i in live}
    findings = []
    attached: set[str] = set()
    for att_id, volume_id, instance_uuid, status in attachments:
        attached.add(volume_id)
        if instance_uuid is None:  # Glance's cinder store, a manage-only host: no Nova instance
            continue
        if instance_uuid in live:
            continue
        findings.append(
            Finding(
                "volume-attached-to-deleted-instance",
                att_id,
                "cinder",
                {
                    "volume_id": volume_id,
                    "instance_uuid": instance_uuid,
                    "attach_status": status,
                    "instance": "deleted" if instance_uuid in index.known else "unknown to Nova",
                },
                suggest.delete_attachment(att_id),
            )
        )
    for volume_id, (status, attach_status, deleted) in volumes.items():
        if deleted or status != "in-use" or volume_id in attached or volume_id in live_bdm_volumes:
            continue
        findings.append(
            Finding(
                "volume-attached-to-deleted-instance",
                volume_id,
                "cinder",
                {"status": status, "attach_status": attach_status, "attachments": 0,
                 "instance": "none: no live attachment and no live Nova BDM"},
                suggest.reset_volume(volume_id, "available", detach=True),
            )
        )  # fmt: skip
    return CheckResult(tuple(findings), len(attachments) + len(volumes))


@check(
    "bdm-without-volume",
    "nova",
    ("nova", "cinder"),
    "a live Nova volume BDM whose volume Cinder has deleted or does not know",
)
def bdm_without_volume(ctx: ScanContext) -> CheckResult:
    ctx.require("nova")
    volumes = ctx.volumes()
    live = ctx.instance_index().live
    bdms = ctx.volume_bdms()
    candidates = []
    for instance_uuid, volume_id, cell in bdms:
        if instance_uuid not in live:  # a deleted instance's leftovers
            continue
        row = volumes.get(volume_id)
        if row is not None and not row[2]:
            continue
        candidates.append((instance_uuid, volume_id, cell, row))
    # the instance's vm_state only for what is about to be reported
    states = ctx.live_rows({c[0] for c in candidates}) if candidates else {}
    findings = []
    for instance_uuid, volume_id, cell, row in candidates:
        if states.get(instance_uuid, {}).get("vm_state") == "building":  # a build in flight
            continue
        findings.append(
            Finding(
                "bdm-without-volume",
                volume_id,
                "nova",
                {"instance_uuid": instance_uuid, "cell": cell,
                 "volume": "deleted in Cinder" if row is not None else "unknown to Cinder"},
                suggest.detach_from_nova(volume_id, instance_uuid),
            )
        )  # fmt: skip
    return CheckResult(tuple(findings), len(bdms))


@check(
    "volume-stuck",
    "cinder",
    ("cinder",),
    "a volume, snapshot or backup in a transitional status longer than --older-than",
)
def volume_stuck(ctx: ScanContext) -> CheckResult:
    session = ctx.session("cinder")
    live_attached = {v for _a, v, _i, s in ctx.attachments() if s == "attached"}
    # A shelved_offloaded instance keeps its volumes `reserved` by a live attachment (no connector)
    # for as long as it stays shelved: healthy. A `reserved` volume with no live attachment is stuck.
    reserved_by = {v for _a, v, _i, _s in ctx.attachments()}
    marks = lambda values: ", ".join(f"'{v}'" for v in values)  # noqa: E731 - fixed status names only
    vols, snaps, backups = session.query_many(
        [
            ("SELECT id, status, attach_status, updated_at FROM volumes "
             f"WHERE deleted = 0 AND status IN ({marks(VOLUME_STUCK)})", None),
            ("SELECT id, status, updated_at FROM snapshots "
             f"WHERE deleted = 0 AND status IN ({marks(SNAPSHOT_STUCK)})", None),
            ("SELECT id, status, updated_at FROM backups "
             f"WHERE deleted = 0 AND status IN ({marks(BACKUP_STUCK)})", None),
        ]
    )  # fmt: skip
    findings = []
    for r in vols:
        volume_id, status = r["id"], r["status"]
        if not ctx.stale(r["updated_at"], "cinder") or (status == "reserved" and volume_id in reserved_by):
            continue
        target = (
            "error"
            if status in _RESET_TO_ERROR
            else ("in-use" if volume_id in live_attached else "available")
        )
        findings.append(
            Finding(
                "volume-stuck",
                volume_id,
                "cinder",
                {"kind": "volume", "status": status, "attach_status": r["attach_status"],
                 "updated_at": _iso(r["updated_at"])},
                suggest.reset_volume(volume_id, target),
            )
        )  # fmt: skip
    for kind, rows, reset in (
        ("snapshot", snaps, suggest.reset_snapshot),
        ("backup", backups, suggest.reset_backup),
    ):
        for r in rows:
            if ctx.stale(r["updated_at"], "cinder"):
                findings.append(
                    Finding(
                        "volume-stuck",
                        r["id"],
                        "cinder",
                        {"kind": kind, "status": r["status"], "updated_at": _iso(r["updated_at"])},
                        reset(r["id"], "error"),
                    )
                )
    return CheckResult(tuple(findings), len(vols) + len(snaps) + len(backups))


def _iso(value: object) -> str | None:
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else None
