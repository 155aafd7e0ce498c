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


def placement_release_ops(facts: InstanceFacts) -> Evaluated:
    """The allocations of the instance and of its migrations (Nova's moves hold the source's under
    the migration uuid), then the consumers left with none (placement `delete_all`)."""
    if facts.placement is None:
        return Evaluated()
    consumers = [facts.uuid] + [m["uuid"] for m in facts.cell.rows("migrations") if m["uuid"]]
    return evaluate_live(RELEASE_ALLOCATIONS, {"placement": facts.placement}, consumers)


def allocation_findings(placement: Evaluated) -> list[str]:
    return [f"placement: {op.row_count} allocation row(s) to free" for op in placement.operations[:1]]


def live_vm_plan(
    facts: InstanceFacts,
    options: VmOptions,
    operations: tuple,
    postconditions: tuple,
    findings: list,
    warnings: list,
    *,
    compute: bool = True,
    extra_options: dict | None = None,
) -> Plan:
    """The live VM plan around its Nova and Placement operations: the databases in apply order
    (cell first, then nova_api, placement, Cinder last), the Cinder group, API-first commands and
    the host-side scripts."""
    cell = facts.cell
    dbs = [database_target(db) for db in (cell, facts.api, facts.placement) if db is not None]
    cinder_side = plan_cinder_side(facts, skip_cinder=options.skip_cinder)
    if cinder_side.database is not None:
        dbs.append(database_target(cinder_side.database))
    return Plan(
        target_kind="vm",
        op=options.op,
        targets=(facts.uuid,),
        mode="live",
        release=cell.release,
        databases=tuple(dbs),
        operations=(*operations, *cinder_side.operations),
        postconditions=(*postconditions, *cinder_side.postconditions),
        findings=(*findings, *cinder_side.findings),
        warnings=(*warnings, *cinder_side.warnings),
        api_first=(*api_first(facts, options), *cinder_side.api_commands),
        compute=compute_cleanup(facts, options) if compute else (),
        controller=controller_actions(facts, cinder_side.volumes_to_delete),
        options={**override_record(options), **(extra_options or {})},
    )  # fmt: skip


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

    placement = placement_release_ops(facts)
    posts += placement.postconditions

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
    findings += allocation_findings(placement)
    return live_vm_plan(
        facts, options, (*api_ops, *cell_ops, *placement.operations), tuple(posts), findings, warnings
    )
