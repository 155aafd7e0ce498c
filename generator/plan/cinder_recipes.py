"""Ending Cinder attachments, declared once: what each table gets when Cinder detaches.

Cinder's `volume_detached` + `Volume.finish_detach` (every catalog release; domain/cinder.py),
which two repairs run: volume reset-detached (`attachment-delete`/`reset-state` of one volume's
attachments, optionally only some instances') and the VM repairs' Cinder group (Nova's delete
makes Cinder's `attachment_delete` end every live attachment of the instance):

- the attachment closed by `VolumeAttachment.delete()`: attach_status 'detached', deleted = 1,
  deleted_at = detach_time = now, updated_at = now (the ORM's onupdate fires);
- its leftover pre-Queens `attachment_specs` soft-deleted, updated_at kept (loading the
  attachment first migrates them into its connector);
- the volume's `attached_mode` admin metadata soft-deleted, updated_at kept;
- the volume's status/attach_status recomputed from the attachments that stay, updated_at = now.

plan/vm_cinder.py `live_detach` evaluates these steps on the rows read, plan/volume_offline_detach.py
`offline_detach` as run-time scopes (plan/recipe.py). What only one side can know stays with its
evaluator: which attachments' specs and which volumes (live binds the ids it read, offline a query
selecting them when the files run), the connector a close writes and the volume's status (Python
from the rows read, or SQL computed by the apply), and the order of the steps.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from generator.domain import cinder
from generator.ops.operations import ApplyTime, Assignment, CopyColumn, SetValue
from generator.plan import builders as b
from generator.plan.recipe import Step, on_target

# Cinder's soft delete (admin metadata, attachment specs): deleted = 1, updated_at kept.
SOFT: tuple[tuple[str, Assignment], ...] = (("deleted", SetValue(True)), ("deleted_at", ApplyTime()))


def close_step(attachments: exp.Expr, describe: str, postcondition: str) -> Step:
    """`VolumeAttachment.delete()` (delete_values + the onupdate) of the live attachments selected."""
    return Step(
        "cinder",
        "volume_attachment",
        attachments,
        describe,
        "close the attachment as volume_detached does (VolumeAttachment.delete_values); legacy specs "
        "first become the connector, as loading it does",
        assignments=(
            ("attach_status", SetValue(cinder.ATTACH_DETACHED)),
            *SOFT,
            ("detach_time", ApplyTime()),
            ("updated_at", ApplyTime()),
        ),
        pending=b.eq("deleted", 0),
        postcondition=postcondition,
    )


# The VM repairs' Cinder group: every live attachment of the instance.
CLOSE_OF_INSTANCE = close_step(
    on_target("instance_uuid"),
    "live Cinder attachments of instance {target}",
    "the instance has no live Cinder attachment",
)


def close_of_volume(instances: Sequence[str] = ()) -> Step:
    """Reset-detached: the volume's live attachments (--instance: only those instances')."""
    if not instances:
        return close_step(
            on_target("volume_id"), "live attachments of volume {target}", "the attachments are closed"
        )
    return close_step(
        exp.and_(on_target("volume_id"), b.isin("instance_uuid", instances)),
        f"live attachments of volume {{target}} to instance(s) {', '.join(instances)}",
        "the attachments are closed",
    )


# Bound to the closed attachments' ids.
SPECS = Step(
    "cinder",
    "attachment_specs",
    on_target("attachment_id"),
    "live specs of the attachments {target}",
    "soft-delete the legacy connector specs, as Cinder does when it loads the attachment",
    assignments=SOFT,
    pending=b.eq("deleted", 0),
)

# Bound to the detached volumes' ids.
ATTACHED_MODE = Step(
    "cinder",
    "volume_admin_metadata",
    exp.and_(on_target("volume_id"), b.eq("key", "attached_mode")),
    "live attached_mode admin metadata of volume(s) {target}",
    "forget the attach mode, as finish_detach does",
    assignments=SOFT,
    pending=b.eq("deleted", 0),
)


def volume_status(status: Assignment, attach_status: Assignment, pending: exp.Expr | None = None) -> Step:
    """The volume's status/attach_status as volume_detached leaves them: the values are the
    evaluator's (live: computed from the rows read; offline: by the apply), and so is `pending`
    (offline: unless the status already is that; live writes only a volume it decided to)."""
    return Step(
        "cinder",
        "volumes",
        on_target("id"),
        "volume(s) {target}"
        + (
            ", unless its status already follows from the attachments that stay"
            if pending is not None
            else ""
        ),
        "status and attach_status from the attachments that stay, as volume_detached recomputes them",
        assignments=(("status", status), ("attach_status", attach_status), ("updated_at", ApplyTime())),
        pending=pending,
        postcondition="the volume's status follows from its attachments" if pending is not None else None,
        stays_in_scope=pending is None,
    )


def bdm_soft_delete(instances: Sequence[str], why: str) -> Step:
    """Nova's `bdm.destroy()` (oslo.db soft_delete: deleted = id) of the volume's live BDMs of
    `instances` (none: every instance's), bound to the volume."""
    scope = on_target("volume_id")
    if instances:
        scope = exp.and_(scope, b.isin("instance_uuid", instances))
    return Step(
        "nova",
        "block_device_mapping",
        scope,
        "live BDMs of volume {target}" + (f" for instance(s) {', '.join(instances)}" if instances else ""),
        f"soft-delete (deleted = id) the stale BDM(s): {why}",
        assignments=(("deleted", CopyColumn("id")), ("deleted_at", ApplyTime())),
        pending=b.eq("deleted", 0),
        postcondition="Nova holds no live block_device_mapping of the volume for these instances",
    )
