"""The Cinder side of an offline VM soft-delete or purge (`--with-cinder`), resolved at run time.

What the live `plan/vm_cinder.py` does with the rows it read — Cinder's `attachment_delete`
for every live attachment of the instance (`Volume.finish_detach`: the attachment closed,
its legacy `attachment_specs` migrated into the connector and soft-deleted, the volume's
`attached_mode` admin metadata soft-deleted, the volume's status/attach_status recomputed
from the attachments that remain) — here as scopes selecting the rows that still need it
when the files run: the steps plan/cinder_recipes.py declares for both, evaluated as the
offline reset-detached evaluates them (`plan/volume_offline_detach.py`), bound to the
instance instead of one volume.

Offline the volumes are only known through the attachments, and the close makes those
attachments leave every `deleted = 0` scope. So the steps that need to know the volumes
run before the close, and each scope means "still to do" before the apply (the capture),
between the steps and after: (1) the volume's status from the attachments of *other*
instances (what stays), for volumes the instance still holds a live attachment to, unless
it already is that; (2) their live `attached_mode` rows; (3) the close, which writes the
connector from the live specs; (4) the specs, which step 3 leaves behind (the rounds give a
step rows only once every step before it is done). The status keeps 'uploading' and a
running migration's status when nothing stays attached, as `detached_volume_statuses` does.

`delete_on_termination` volumes are still deleted through Cinder's API (it also removes the
backend volume), by `shell/controller.sh` as in a live bundle: offline the bundle does not know
them, so the Nova cell capture lists them (taken before the apply soft-deletes the BDMs that name
them) and the script reads them from the captured file (render/offline_doomed.py).
"""

from __future__ import annotations

from sqlglot import exp

from generator.ops.operations import Operation
from generator.plan import volume_offline_connector as connector
from generator.plan import volume_offline_detach as vo
from generator.plan.cinder_recipes import CLOSE_OF_INSTANCE
from generator.plan.model import DatabaseTarget, Postcondition
from generator.plan.recipe import Selected, conjuncts

WITH_CINDER_WARNING = (
    "--with-cinder: the db:cinder files end the instance's live Cinder attachments as Nova's delete "
    "makes Cinder do (attachment_delete); run them after the Nova cell apply. Then shell/controller.sh "
    "deletes the delete_on_termination volumes through Cinder's API, as Nova's delete does (that also "
    "removes the backend volume, which SQL cannot): it reads them from the Nova cell capture (the BDMs "
    "the Nova cell precheck lists with delete_on_termination = 1), so run it where the captured/ files are"
)


def offline_cinder_side(
    target: DatabaseTarget, u: str
) -> tuple[list[Operation], list[Postcondition], list[Postcondition]]:
    """(operations, postconditions, preconditions) of the instance's Cinder step group: cinder_recipes'
    steps bound to the instance, its volumes selected through its live attachments (the order: above)."""
    held = exp.select("volume_id").from_("volume_attachment").where(CLOSE_OF_INSTANCE.where([u]))
    volumes = Selected(held, f"instance {u} holds a live attachment to")
    status = vo.status_from_staying("volumes.id", (u,), keep_busy=True)
    steps = vo.offline_detach(target.schema, CLOSE_OF_INSTANCE, u, volumes, status)
    ops = [
        op
        for t in ("volumes", "volume_admin_metadata", "volume_attachment", "attachment_specs")
        for op in steps[t].operations
    ]
    closing = conjuncts(CLOSE_OF_INSTANCE.where([u]))
    return ops, list(steps["volume_attachment"].postconditions), connector.connector_preconditions(closing)
