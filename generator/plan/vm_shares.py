"""Manila shares attached to an instance (`share_mapping`), as Nova's delete treats them per release.

2023.2 and older have no table. 2024.1 and 2024.2 keep the rows when an instance is
deleted. From 2025.1 `_shutdown_instance` unmounts each share on the host, denies its
Manila access rule (`deny_share`) and removes the row (`share_mapping.delete()`, a hard
delete); a soft-delete that left them would leave rows pointing at a deleted instance, and
their foreign key to `instances.uuid` then stops `nova-manage db archive_deleted_rows` and a
later purge of the instance row. The database side is done here; the host mount and the
Manila access rule are not database rows, so the runbook names them (domain/nova.py).
"""

from __future__ import annotations

from generator.domain import nova
from generator.facts.model import DatabaseFacts
from generator.ops.operations import Operation
from generator.ops.rows import Row
from generator.plan.model import Postcondition
from generator.plan.recipe import Step, live_step, offline_step, on_target
from generator.quoting import shell_arg
from generator.schema.model import SchemaSnapshot

TABLE = "share_mapping"


# One declaration for both evaluators (plan/recipe.py), from 2025.1 when Nova's delete removes them.
DELETED = Step(
    "nova",
    TABLE,
    on_target("instance_uuid"),
    "share mappings of instance {target}",
    "delete the share mappings as Nova's delete does since Epoxy "
    "(_shutdown_instance -> deny_share -> share_mapping.delete())",
    postcondition="no share_mapping row of the instance remains",
)


def leftovers(rows: list[Row], host: str | None) -> list[str]:
    """What stays outside the database for each share: the mount on the host, the Manila access rule."""
    out = []
    for r in rows:
        share = shell_arg(str(r["share_id"]))
        proto = str(r["share_proto"] or "").upper()
        access = nova.SHARE_ACCESS.get(proto)
        rule = (
            f"its Manila access rule (access_type {access[0]}, access_to {access[1]}) unless another "
            "instance on that host still uses the share — see `openstack share access list "
            f"{share}`, remove it with `openstack share access delete {share} <access id>`"
            if access
            else f"its Manila access rule (protocol {r['share_proto']!r}: Nova grants none it knows)"
        )
        mount = nova.share_mount_path(str(r["export_location"] or ""))
        out.append(
            f"share {r['share_id']} (tag {r['tag']!r}, {r['share_proto']}, export {r['export_location']!r}): "
            f"Nova's delete would unmount it on host {host or '(none)'} (default mount point {mount}; "
            f"umount it there) and deny {rule}"
        )
    return out


def release_shares(
    cell: DatabaseFacts, u: str, host: str | None
) -> tuple[list[Operation], list[Postcondition], list[str], list[str]]:
    """Live soft-delete: (operations, postconditions, findings, warnings) for the share mappings."""
    behaviour = nova.share_mappings_on_delete(cell.release)
    if behaviour == "absent" or not cell.schema.has_table(TABLE):
        return [], [], [], []
    rows = list(cell.rows(TABLE))
    if not rows:
        return [], [], [], []
    if behaviour == "kept":
        return (
            [],
            [],
            [],
            [
                f"{len(rows)} share mapping(s) remain, as Nova {cell.release} keeps them on delete "
                f"(from {nova.SHARE_MAPPING_DELETED_FROM} its delete removes them); detach the shares with "
                f"`openstack server remove share {u} <share>` while the instance exists, else: "
                + "; ".join(leftovers(rows, host))
            ],
        )
    done = live_step(DELETED, cell, [u])
    return (
        list(done.operations),
        list(done.postconditions),
        [f"{TABLE}: {len(rows)} row(s) to delete"],
        leftovers(rows, host),
    )


def offline_shares(
    schema: SchemaSnapshot, release: str, u: str
) -> tuple[list[Operation], list[Postcondition], list[str]]:
    """Offline soft-delete: the same per release, the rows found at run time."""
    behaviour = nova.share_mappings_on_delete(release)
    if behaviour == "absent" or not schema.has_table(TABLE):
        return [], [], []
    if behaviour == "kept":
        return (
            [],
            [],
            [f"share mappings of the instance (if any) remain, as Nova {release} keeps them on delete"],
        )
    done = offline_step(DELETED, schema, [u])
    return (
        list(done.operations),
        list(done.postconditions),
        [
            "offline: the share mappings are deleted at run time (the precheck counts them); for each, "
            "Nova's delete would also unmount the share on the host "
            f"({nova.SHARE_MOUNT_BASE}/<md5 of its export location>) and deny its Manila access rule "
            "(NFS: access_type ip to the host's my_shared_fs_storage_ip; CephFS: cephx 'nova'): list them "
            f"with `SELECT share_id, share_proto, export_location FROM {TABLE} WHERE instance_uuid = "
            f"'{u}'` and check `openstack share access list SHARE` before the apply"
        ],
    )
