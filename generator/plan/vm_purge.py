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
from generator.plan.overrides import override_record
from generator.plan.recipe import evaluate_live
from generator.plan.vm_cinder import plan_cinder_side
from generator.plan.vm_common import (
    VmOptions,
    api_first,
    compute_cleanup,
    controller_actions,
    refuse_unless_repairable,
)
from generator.plan.vm_pci import release_pci
from generator.plan.vm_recipes import PURGE_API, RELEASED_NOT_DELETED, purge_cell_steps
from generator.plan.vm_soft_delete import database_target, placement_release_ops


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

    consumers = [u] + [m["uuid"] for m in cell.rows("migrations") if m["uuid"]]
    placement = placement_release_ops(facts, consumers)
    placement_ops = list(placement.operations)
    posts += placement.postconditions
    if placement_ops and placement_ops[0].table == "allocations":
        findings.append(f"placement: {placement_ops[0].row_count} allocation row(s) to free")
    if facts.placement is None:
        warnings.append("no placement database was given: the instance's allocations are not freed")

    # Nova's own order when it archives: the cell rows first, then the API records.
    dbs = (
        [database_target(cell)]
        + ([database_target(facts.api)] if facts.api else [])
        + ([database_target(facts.placement)] if facts.placement else [])
    )
    cinder_side = plan_cinder_side(facts, skip_cinder=options.skip_cinder)
    if cinder_side.database is not None:
        dbs.append(database_target(cinder_side.database))
    return Plan(
        target_kind="vm",
        op="purge",
        targets=(u,),
        mode="live",
        release=cell.release,
        databases=tuple(dbs),
        operations=(*ops, *api_ops, *placement_ops, *cinder_side.operations),
        postconditions=(*posts, *cinder_side.postconditions),
        findings=(*findings, *cinder_side.findings),
        warnings=(*warnings, *cinder_side.warnings),
        api_first=(*api_first(facts, options), *cinder_side.api_commands),
        compute=compute_cleanup(facts, options) if inst["deleted"] == 0 else (),
        controller=controller_actions(facts, cinder_side.volumes_to_delete),
        options={**override_record(options), "include_shadow": options.include_shadow},
    )
