"""VM purge: hard-delete the instance and every row that references it.

Cell database: every table that references the instance — found from the live
schema's foreign keys (children, then their children such as
instance_actions_events) plus the references Nova keeps without a foreign key
(tags, console_auth_tokens, instance_id_mappings, volume_usage_cache, ...) —
soft-deleted rows included, in an order given by a topological sort of the
FK graph (children before parents), the instance row last. PCI devices are
released, never deleted. With --include-shadow the archived `shadow_` rows go
too. nova_api: instance_mappings, request_specs, build_requests,
instance_group_member. Placement: allocations and consumers.

This is what Nova's delete plus `nova-manage db archive_deleted_rows --purge` leave
(tests/db/plan/test_differential_vm_purge.py compares the two against nova 34.0.0), and more:
Nova never removes volume_usage_cache and bw_usage_cache rows (no foreign key, never
soft-deleted), nor the allocations of a migration that failed (its delete frees migration
allocations only by confirming a finished resize: compute/api.py
`_confirm_resize_on_deleting`); fixpack does, so that no trace of the instance is left.
"""

from __future__ import annotations

from generator.facts.instance import InstanceFacts
from generator.ops.operations import Operation
from generator.plan.model import Plan, Postcondition
from generator.plan.recipe import evaluate_live
from generator.plan.vm_common import (
    VmOptions,
    refuse_unless_repairable,
)
from generator.plan.vm_pci import release_pci
from generator.plan.vm_recipes import PURGE_API, RELEASED_NOT_DELETED, purge_cell_steps
from generator.plan.vm_soft_delete import allocation_findings, live_vm_plan, placement_release_ops


def plan_purge(facts: InstanceFacts, options: VmOptions) -> Plan:
    warnings = refuse_unless_repairable(facts, options)
    u = facts.uuid
    cell = facts.cell
    inst = facts.instance
    findings = [
        f"instance {u} ({inst['display_name']!r}) in {cell.label}: vm_state={inst['vm_state']}, "
        f"deleted={inst['deleted']}, host={inst['host']}"
    ]
    with_rows = {t for t in cell.schema.table_names if cell.rows(t)}
    ops: list[Operation] = []
    posts: list[Postcondition] = []
    for table in sorted(with_rows & RELEASED_NOT_DELETED):
        pci_ops, pci_notes = release_pci(cell, u, table)
        ops += pci_ops
        findings += pci_notes
    steps = purge_cell_steps(
        cell.schema, include_shadow=options.include_shadow, only=lambda t: t in with_rows or t == "instances"
    )
    deleted = evaluate_live(steps, {"nova": cell}, [u])
    ops += deleted.operations
    posts += deleted.postconditions
    findings += [f"{op.table}: {op.row_count} row(s) to delete" for op in deleted.operations]
    skipped_shadow = [t for t in cell.schema.table_names if t.startswith("shadow_")]
    if not options.include_shadow and skipped_shadow:
        findings.append(
            "shadow (archive) tables were not searched; --include-shadow removes archived rows too"
        )

    api_side = evaluate_live(PURGE_API, {"nova_api": facts.api}, [u])
    api_ops = list(api_side.operations)
    posts += api_side.postconditions
    findings += [f"nova_api {op.table}: {op.row_count} row(s) to delete" for op in api_ops]
    if facts.api is None:
        warnings.append(
            "no nova_api database was given: instance_mappings, request_specs and build_requests "
            "of the instance are not removed by this bundle"
        )

    placement = placement_release_ops(facts)
    posts += placement.postconditions
    findings += allocation_findings(placement)
    if facts.placement is None:
        warnings.append("no placement database was given: the instance's allocations are not freed")

    # Nova's own order when it archives: the cell rows first, then the API records.
    return live_vm_plan(
        facts,
        options,
        (*ops, *api_ops, *placement.operations),
        tuple(posts),
        findings,
        warnings,
        compute=inst["deleted"] == 0,
        extra_options={"include_shadow": options.include_shadow},
    )
