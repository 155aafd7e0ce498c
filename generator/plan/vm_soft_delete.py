"""VM soft-delete: exactly what Nova does when it deletes an instance.

Cell database (nova/db/main/api.py `instance_destroy` + compute manager
`_delete_instance`): the instance row gets vm_state 'deleted', task_state
NULL, power_state NOSTATE, terminated_at and then deleted = id; the related
tables Nova soft-deletes get deleted = id (non-deleted rows only; updated_at
kept); tags and console tokens are hard-deleted; instance actions are kept.
PCI devices the dead host can no longer free are released as `PciDevice.free()`
would (plan/vm_pci.py: allocated/claimed ones only, PF/VF relatives' status carried).

nova_api: instance_mappings.queued_for_delete = 1 (API `_update_queued_for_deletion`),
a leftover build request removed. Placement: the allocations of the instance
(and of its migrations) and then the consumers left with none
(`delete_consumers_if_no_allocations`). Since Pike Nova counts quota usage
from these rows, so this *is* the quota correction — limits are never touched.

Apply order: the cell database first — it holds the instance, the rows most
likely to have changed since generation, so a drifted bundle stops there
before any other database is touched — then nova_api, then placement.
"""

from __future__ import annotations

from generator.facts.instance import InstanceFacts
from generator.facts.model import DatabaseFacts
from generator.ops.operations import DeleteRows, Operation
from generator.plan.model import DatabaseTarget, Plan, Postcondition
from generator.plan.overrides import override_record
from generator.plan.recipe import Evaluated, evaluate_live
from generator.plan.vm_cinder import plan_cinder_side
from generator.plan.vm_common import (
    VmOptions,
    api_first,
    compute_cleanup,
    controller_actions,
    instance_deleted_postcondition,
    refuse_unless_repairable,
)
from generator.plan.vm_pci import release_pci
from generator.plan.vm_recipes import (
    RELEASE_ALLOCATIONS,
    SOFT_DELETE_API,
    SOFT_DELETE_CELL_RELATED,
    SOFT_DELETE_INSTANCE,
)
from generator.plan.vm_shares import release_shares


def database_target(facts: DatabaseFacts) -> DatabaseTarget:
    return DatabaseTarget(
        facts.role,
        facts.label,
        facts.release,
        facts.schema,
        facts.database,
        facts.schema_fingerprint,
        facts.detection,
        facts.write_set,
        facts.server,
    )


def placement_release_ops(facts: InstanceFacts, consumers: list[str]) -> Evaluated:
    """The consumers' allocations, then the consumers (placement `delete_all`)."""
    if facts.placement is None:
        return Evaluated()
    return evaluate_live(RELEASE_ALLOCATIONS, {"placement": facts.placement}, consumers)


def _to_change(op: Operation) -> str:
    return "row(s) to delete" if isinstance(op, DeleteRows) else "live row(s) to soft-delete"


def plan_soft_delete(facts: InstanceFacts, options: VmOptions) -> Plan:
    warnings = refuse_unless_repairable(facts, options)
    u = facts.uuid
    cell = facts.cell
    inst = facts.instance
    cell_ops: list[Operation] = []
    posts: list[Postcondition] = []
    findings = [
        f"instance {u} ({inst['display_name']!r}) in {cell.label}: vm_state={inst['vm_state']}, "
        f"task_state={inst['task_state']}, power_state={inst['power_state']}, host={inst['host']}"
    ]

    dbs_by_role = {"nova": cell, "nova_api": facts.api}
    related = evaluate_live(SOFT_DELETE_CELL_RELATED, dbs_by_role, [u])
    cell_ops += related.operations
    posts += related.postconditions
    findings += [f"{op.table}: {op.row_count} {_to_change(op)}" for op in related.operations]

    pci_ops, pci_notes = release_pci(cell, u)
    cell_ops += pci_ops
    findings += pci_notes

    instance = evaluate_live([SOFT_DELETE_INSTANCE], dbs_by_role, [u])
    assert instance.operations, "refuse_unless_repairable lets only a live instance through"
    cell_ops += instance.operations
    posts.append(instance_deleted_postcondition(u))

    share_ops, share_posts, share_notes, share_warnings = release_shares(cell, u, inst["host"])
    cell_ops += share_ops
    posts += share_posts
    findings += share_notes
    warnings += share_warnings

    api = evaluate_live(SOFT_DELETE_API, dbs_by_role, [u])
    api_ops = list(api.operations)
    posts += api.postconditions

    consumers = [u] + [m["uuid"] for m in cell.rows("migrations") if m["uuid"]]
    placement = placement_release_ops(facts, consumers)
    placement_ops = list(placement.operations)
    posts += placement.postconditions
    if placement_ops and placement_ops[0].table == "allocations":
        findings.append(f"placement: {placement_ops[0].row_count} allocation row(s) to free")

    dbs = [database_target(cell)]
    if facts.api is not None:
        dbs.append(database_target(facts.api))
    if facts.placement is not None:
        dbs.append(database_target(facts.placement))
    for missing, what in (
        (facts.api, "nova_api (instance_mappings.queued_for_delete)"),
        (facts.placement, "placement (the instance's allocations)"),
    ):
        if missing is None:
            warnings.append(
                f"no {what.split(' ')[0]} database was given: {what} is not handled by this bundle"
            )
    if facts.in_cell0:
        findings.append("the instance is in cell0 (it never booted on a host): no compute-node script")
    cinder_side = plan_cinder_side(facts, skip_cinder=options.skip_cinder)
    if cinder_side.database is not None:
        dbs.append(database_target(cinder_side.database))
    return Plan(
        target_kind="vm",
        op="soft-delete",
        targets=(u,),
        mode="live",
        release=cell.release,
        databases=tuple(dbs),
        operations=(*api_ops, *cell_ops, *placement_ops, *cinder_side.operations),
        postconditions=(*posts, *cinder_side.postconditions),
        findings=(*findings, *cinder_side.findings),
        warnings=(*warnings, *cinder_side.warnings),
        api_first=(*api_first(facts, options), *cinder_side.api_commands),
        compute=compute_cleanup(facts, options),
        controller=controller_actions(facts, cinder_side.volumes_to_delete),
        options=override_record(options),
    )
