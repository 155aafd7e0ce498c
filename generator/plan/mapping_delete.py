"""Mapping delete: remove nova_api's records of an instance no cell holds, as Nova's own code does.

The rows and how Nova removes each (nova/objects): `BuildRequest.destroy` (build_requests by
instance_uuid), `RequestSpec.destroy` (request_specs by instance_uuid), `InstanceMapping.destroy`
(instance_mappings by instance_uuid), and what `nova-manage db archive_deleted_rows` removes for an
archived instance (nova/cmd/manage.py: `InstanceMappingList.destroy_bulk`, `RequestSpec.destroy_bulk`,
`InstanceGroup.destroy_members_bulk`: instance_group_member rows). Deleted in that order: build
request first (conductor's order), the mapping last.

What is deleted depends on what the cells say (read from every cell):
- no instance row in any cell: all four (an abandoned build, a mapping to a cell that never had it);
- an instance row (live or deleted) in the cell the mapping points to: the mapping is right; only a
  leftover build request goes (conductor deletes it once the instance exists). Deleting the mapping
  too is refused without --allow-instance-exists (for a deleted instance, what archive would do);
- an instance in another cell than the mapping says (or a cell-less mapping left behind): the wrong
  mapping and any build request go, the request spec and group membership stay (the instance
  needs them); `nova-manage cell_v2 map_instances` then maps it to its cell.
A build younger than --stale-after with no instance row is refused (--allow-recent-transition).
Live only: the judgement needs every cell's rows, which SQL run on nova_api alone cannot see.
"""

from __future__ import annotations

from generator.errors import TargetProblem
from generator.facts.orphans import API_TABLES, MappingFacts
from generator.ops.operations import Operation
from generator.plan.allocation_delete import OrphanOptions, build_in_flight
from generator.plan.model import ApiCommand, Plan, Postcondition
from generator.plan.overrides import override_record
from generator.plan.recipe import Step, live_step, on_target
from generator.plan.vm_soft_delete import database_target
from generator.quoting import shell_arg

PURPOSES = {
    "build_requests": "delete the build request (BuildRequest.destroy)",
    "request_specs": "delete the request spec (RequestSpec.destroy)",
    "instance_group_member": "remove the server group membership (InstanceGroup.destroy_members_bulk)",
    "instance_mappings": "delete the instance mapping (InstanceMapping.destroy)",
}
STEPS = {
    table: Step(
        "nova_api",
        table,
        on_target("instance_uuid"),
        f"{table} of {{target}}",
        purpose,
        postcondition=f"no {table} row of the instance(s) is left",
    )
    for table, purpose in PURPOSES.items()
}


def _tables_for(
    facts: MappingFacts, uuid: str, options: OrphanOptions, warnings: list[str]
) -> tuple[set[str], str]:
    """Which nova_api tables lose the uuid's rows, and the finding that says why."""
    nova = facts.nova
    mapping = nova.mapping(uuid)
    mapped_cell = mapping["cell_name"] if mapping is not None else None
    instances = nova.of(uuid, "instance")
    build_in_flight(nova, uuid, facts.read_at, options, warnings, "delete the nova_api records of")
    if not instances:
        return set(API_TABLES), f"no instance in any cell ({', '.join(nova.cells_searched)})"
    here = [r for r in instances if mapping is not None and r.cell == mapped_cell]
    if here:
        rec = here[0]
        state = "deleted" if rec.deleted else f"vm_state {rec.state}"
        if nova.build_request(uuid) is not None and "instance-exists" not in options.allow:
            return {
                "build_requests"
            }, f"instance in {rec.cell} ({state}), mapped there: only its leftover build request"
        options.allow.refuse(
            "instance-exists",
            uuid,
            f"the instance exists in {rec.cell} ({state}), the cell its mapping points to",
            "delete the mapping of",
            warnings,
            hint="a deleted instance's records go with nova-manage db archive_deleted_rows",
        )
        return (set(API_TABLES) if rec.deleted else {"build_requests", "instance_mappings"}), (
            f"instance in {rec.cell} ({state}), mapped there"
        )
    rec = instances[0]
    warnings.append(
        f"instance {uuid} is in {rec.cell}: after the apply, nova-manage cell_v2 map_instances maps it there"
    )
    where = f"mapped to {mapped_cell}" if mapping is not None and mapped_cell else "mapped to no cell"
    return {
        "build_requests",
        "instance_mappings",
    }, f"instance in {rec.cell} but {where}: the wrong mapping goes"


def plan_mapping_delete(facts: MappingFacts, options: OrphanOptions) -> Plan:
    """Delete the uuids' nova_api records that no cell backs (one or many uuids: `facts.uuids`)."""
    api = facts.api
    warnings: list[str] = []
    findings: list[str] = []
    chosen: dict[str, list[str]] = {t: [] for t in API_TABLES}
    for uuid in facts.uuids:
        present = [t for t in API_TABLES if any(r["instance_uuid"] == uuid for r in api.rows(t))]
        if not present:
            raise TargetProblem(
                f"instance {uuid}: no mapping, build request, request spec or group membership in nova_api: "
                "nothing to delete"
            )
        tables, why = _tables_for(facts, uuid, options, warnings)
        rows = {t: [r for r in api.rows(t) if r["instance_uuid"] == uuid] for t in API_TABLES if t in tables}
        if not any(rows.values()):
            raise TargetProblem(f"instance {uuid}: {why}; nothing of it to delete")
        findings.append(
            f"instance {uuid}: {why}; "
            + ", ".join(f"{t}: {len(rows.get(t, []))} row(s) to delete" for t in API_TABLES if rows.get(t))
        )
        kept = [t for t in present if t not in tables]
        if kept:
            findings.append(f"instance {uuid}: kept: {', '.join(kept)}")
        for t in tables:
            chosen[t].append(uuid)
    ops: list[Operation] = []
    posts: list[Postcondition] = []
    for table in API_TABLES:
        if chosen[table]:
            done = live_step(STEPS[table], api, chosen[table])
            ops += done.operations
            posts += done.postconditions
    uuids = facts.uuids
    one = uuids[0] if len(uuids) == 1 else "<uuid>"
    return Plan(
        target_kind="mapping",
        op=options.op,
        targets=tuple(uuids),
        mode="live",
        release=api.release,
        databases=(database_target(api),),
        operations=tuple(ops),
        postconditions=tuple(posts),
        findings=tuple(findings),
        warnings=tuple(warnings),
        api_first=(
            ApiCommand(
                f"openstack server show {shell_arg(one)}",
                "confirm the API no longer knows the server (a build request answers here too)",
            ),
            ApiCommand(
                "nova-manage db archive_deleted_rows --before <date> --verbose",
                "for deleted instances: Nova's own cleanup of mappings, request specs and group members",
            ),
        ),
        options={**override_record(options), "cells_checked": list(facts.nova.cells_searched)},
    )
