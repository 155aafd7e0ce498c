"""The Cinder side of an offline VM soft-delete or purge (`--with-cinder`), resolved at run time.

What the live `plan/vm_cinder.py` does with the rows it read — Cinder's `attachment_delete`
for every live attachment of the instance (`Volume.finish_detach`: the attachment closed,
its legacy `attachment_specs` migrated into the connector and soft-deleted, the volume's
`attached_mode` admin metadata soft-deleted, the volume's status/attach_status recomputed
from the attachments that remain) — here as scopes selecting the rows that still need it
when the files run. The building blocks are the offline reset-detached ones
(`plan/volume_offline_detach.py`, `plan/volume_offline_connector.py`), scoped by the
instance instead of by one volume.

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

from generator import catalog
from generator.ops.operations import ApplyTime, Operation
from generator.plan import builders as b
from generator.plan import volume_offline_connector as connector
from generator.plan import volume_offline_detach as vo
from generator.plan.builders import offline_update
from generator.plan.model import DatabaseTarget, Postcondition

LABEL = "Cinder database"

WITH_CINDER_WARNING = (
    "--with-cinder: the db:cinder files end the instance's live Cinder attachments as Nova's delete "
    "makes Cinder do (attachment_delete); run them after the Nova cell apply. Then shell/controller.sh "
    "deletes the delete_on_termination volumes through Cinder's API, as Nova's delete does (that also "
    "removes the backend volume, which SQL cannot): it reads them from the Nova cell capture (the BDMs "
    "the Nova cell precheck lists with delete_on_termination = 1), so run it where the captured/ files are"
)


def cinder_target(release: str, nova_release: str) -> DatabaseTarget:
    """The Cinder database at `release` (`--cinder-release`; Nova and Cinder often differ)."""
    snap = catalog.catalog_snapshot(release, "cinder")
    how = (
        f"--cinder-release {release} (offline: catalog schema)"
        if release != nova_release
        else f"--release {release} (offline: catalog schema)"
    )
    return DatabaseTarget("cinder", LABEL, release, snap, None, snap.fingerprint(), how)


def _live_attachment_volumes(u: str) -> exp.Select:
    return (
        exp.select("volume_id")
        .from_("volume_attachment")
        .where(exp.and_(b.eq("instance_uuid", u), b.eq("deleted", 0)))
    )


def offline_cinder_side(
    target: DatabaseTarget, u: str
) -> tuple[list[Operation], list[Postcondition], list[Postcondition]]:
    """(operations, postconditions, preconditions) of the instance's Cinder step group."""
    schema = target.schema
    status, wanted = vo.status_from_staying("volumes.id", (u,), keep_busy=True)
    volumes = offline_update(
        "cinder",
        schema,
        "volumes",
        {**status, "updated_at": ApplyTime()},
        b.scope_where(
            f"volumes instance {u} holds a live attachment to, unless their status already follows from "
            "the attachments of other instances",
            b.eq("deleted", 0),
            exp.column("id").isin(query=_live_attachment_volumes(u)),
            vo.status_differs(wanted),
        ),
        "status and attach_status from the attachments that stay, as volume_detached recomputes them",
    )
    closing = [b.eq("instance_uuid", u), b.eq("deleted", 0)]
    ops: list[Operation] = [
        volumes,
        vo.drop_attached_mode(
            schema,
            exp.column("volume_id").isin(query=_live_attachment_volumes(u)),
            f"live attached_mode admin metadata of the volumes instance {u} holds a live attachment to",
        ),
        vo.close_attachments(schema, closing, f"live Cinder attachments of instance {u}"),
        vo.soft_delete_specs(schema, [b.eq("instance_uuid", u)]),
    ]
    posts = [
        Postcondition(
            "cinder",
            "the instance has no live Cinder attachment",
            b.count_is("volume_attachment", 0, *(c.copy() for c in closing)),
        )
    ]
    return ops, posts, connector.connector_preconditions(closing)
