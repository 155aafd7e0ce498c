"""nova_api rows: host_mappings, key_pairs, instance_mappings, request_specs, build_requests.

These are what the API and conductor write around every instance: the mapping that
tells the API which cell holds it (queued_for_delete flips on delete), the request spec
the scheduler used, and — for an instance buried in cell0 whose build request was never
cleaned up — a leftover build_requests row. host_mappings is what
`nova-manage cell_v2 discover_hosts` writes for each compute host.
"""

from __future__ import annotations

import datetime as dt

from generator.seed import shapes
from generator.seed.context import SeedContext
from generator.seed.model import InstanceState, User
from generator.seed.values import iso

ROLE = "nova_api"


def host_mapping(ctx: SeedContext, host: str, cell: str, when: dt.datetime) -> None:
    ctx.buf.add(
        ROLE,
        "host_mappings",
        {
            "created_at": when,
            "updated_at": None,
            "id": ctx.buf.next_id(ROLE, "host_mappings"),
            "cell_id": ctx.cell_ids[cell],
            "host": host,
        },
    )


def keypair(ctx: SeedContext, user: User, when: dt.datetime) -> tuple[str, str, str]:
    """One ssh keypair per user (name, fingerprint, public key), created on first use."""
    if user.id not in ctx.keypairs:
        name = f"{user.name}-key"
        public_key, fingerprint = ctx.rand.ssh_public_key(f"{user.name}@workstation")
        ctx.buf.add(
            ROLE,
            "key_pairs",
            {
                "created_at": when,
                "updated_at": None,
                "id": ctx.buf.next_id(ROLE, "key_pairs"),
                "name": name,
                "user_id": user.id,
                "fingerprint": fingerprint,
                "public_key": public_key,
                "type": "ssh",
            },
        )
        ctx.keypairs[user.id] = (name, fingerprint, public_key)
    return ctx.keypairs[user.id]


def instance_mapping(ctx: SeedContext, inst: InstanceState, *, queued_for_delete: bool) -> None:
    ctx.buf.add(
        ROLE,
        "instance_mappings",
        {
            "created_at": inst.created_at,
            "updated_at": inst.created_at,
            "id": ctx.buf.next_id(ROLE, "instance_mappings"),
            "instance_uuid": inst.uuid,
            "cell_id": ctx.cell_ids[inst.cell],
            "project_id": inst.project.id,
            "queued_for_delete": int(queued_for_delete),
            "user_id": inst.user.id,
        },
    )


def request_spec(ctx: SeedContext, inst: InstanceState, spec_json: str) -> None:
    ctx.buf.add(
        ROLE,
        "request_specs",
        {
            "created_at": inst.created_at,
            "updated_at": inst.created_at,
            "id": ctx.buf.next_id(ROLE, "request_specs"),
            "instance_uuid": inst.uuid,
            "spec": spec_json,
        },
    )


def build_request(
    ctx: SeedContext,
    inst: InstanceState,
    *,
    flavor_obj: shapes.Obj,
    image: dict,
    display_name: str,
    tags: tuple[str, ...],
    image_bdm: dict,
) -> None:
    """A build_requests row as the API created it (Instance in building/scheduling state)."""
    fid, _, spec = ctx.flavor(inst.flavor)
    instance_obj = shapes.nova_object(
        "Instance",
        "2.8" if ctx.at_least("2023.2") else "2.7",
        {
            "uuid": inst.uuid,
            "user_id": inst.user.id,
            "project_id": inst.project.id,
            "image_ref": image["id"],
            "hostname": display_name.lower(),
            "display_name": display_name,
            "display_description": None,
            "availability_zone": None,
            "vm_state": "building",
            "task_state": "scheduling",
            "power_state": 0,
            "memory_mb": spec["memory_mb"],
            "vcpus": spec["vcpus"],
            "root_gb": spec["root_gb"],
            "ephemeral_gb": 0,
            "instance_type_id": fid,
            "flavor": flavor_obj,
            "launch_index": 0,
            "config_drive": "",
            "metadata": {},
            "system_metadata": {},
            "locked": False,
            "locked_by": None,
            "created_at": iso(inst.created_at),
            "updated_at": None,
            "deleted_at": None,
            "deleted": False,
        },
    )
    bdm_obj = shapes.nova_object(
        "BlockDeviceMapping",
        "1.21" if ctx.at_least("zed") else "1.20",
        {k: image_bdm[k] for k in ("uuid", "source_type", "destination_type", "boot_index", "image_id")}
        | {"instance_uuid": inst.uuid, "delete_on_termination": True},
    )
    tag_objs = [shapes.nova_object("Tag", "1.1", {"resource_id": inst.uuid, "tag": t}) for t in tags]
    ctx.buf.add(
        ROLE,
        "build_requests",
        {
            "created_at": inst.created_at,
            "updated_at": None,
            "id": ctx.buf.next_id(ROLE, "build_requests"),
            "project_id": inst.project.id,
            "instance_uuid": inst.uuid,
            "instance": shapes.dumps(instance_obj),
            "block_device_mappings": shapes.dumps(
                shapes.nova_object("BlockDeviceMappingList", "1.18", {"objects": [bdm_obj]})
            ),
            "tags": shapes.dumps(shapes.nova_object("TagList", "1.1", {"objects": tag_objs})),
        },
    )
