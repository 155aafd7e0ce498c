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

from generator.domain import nova
from generator.facts.instance import InstanceFacts
from generator.facts.model import DatabaseFacts
from generator.ops.operations import ApplyTime, Operation, SetValue
from generator.plan import builders as b
from generator.plan.model import DatabaseTarget, Plan, Postcondition
from generator.plan.overrides import override_record
from generator.plan.vm_cinder import plan_cinder_side
from generator.plan.vm_common import (
    VmOptions,
    api_first,
    compute_cleanup,
    controller_actions,
    instance_deleted_changes,
    instance_deleted_postcondition,
    refuse_unless_repairable,
)
from generator.plan.vm_pci import release_pci
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


def placement_release_ops(facts: InstanceFacts, consumers: list[str], purpose: str) -> list[Operation]:
    """Delete the consumers' allocations, then the consumers (placement `delete_all`)."""
    p = facts.placement
    if p is None:
        return []
    ops: list[Operation] = []
    allocs = [a for a in p.rows("allocations") if a["consumer_id"] in consumers]
    scope = b.scope_where(
        f"allocations of consumer(s) {', '.join(consumers)}",
        b.isin("consumer_id", consumers),
    )
    op = b.delete(p, "allocations", allocs, scope=scope, purpose=purpose)
    if op:
        ops.append(op)
    gone = [c for c in p.rows("consumers") if c["uuid"] in consumers]
    cscope = b.scope_where(
        "placement consumers of the instance",
        b.isin("uuid", consumers),
    )
    op = b.delete(
        p, "consumers", gone, scope=cscope, purpose="remove the consumer records left with no allocations"
    )
    if op:
        ops.append(op)
    return ops


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

    for table, column in nova.SOFT_DELETED_WITH_INSTANCE:
        if not cell.schema.has_table(table):
            continue
        live = [r for r in cell.rows(table) if r["deleted"] == 0]
        scope = b.scope_where(
            f"{table}.{column} = '{u}' and not deleted", b.eq(column, u), b.eq("deleted", 0)
        )
        op: Operation | None = b.update(
            cell,
            table,
            live,
            b.soft_delete_assignments(cell, table),
            scope=scope,
            purpose="soft-delete as instance_destroy does (deleted = id)",
        )
        if op:
            cell_ops.append(op)
            findings.append(f"{table}: {len(live)} live row(s) to soft-delete")
        posts.append(
            Postcondition(
                "nova",
                f"no live {table} rows of the instance remain",
                b.count_is(table, 0, b.eq(column, u), b.eq("deleted", 0)),
            )
        )

    for table, column in nova.HARD_DELETED_WITH_INSTANCE:
        if not cell.schema.has_table(table):
            continue
        rows = cell.rows(table)
        op = b.delete(
            cell,
            table,
            rows,
            scope=b.scope_where(f"{table}.{column} = '{u}'", b.eq(column, u)),
            purpose="hard-delete as instance_destroy does (table has no deleted column)",
        )
        if op:
            cell_ops.append(op)
            findings.append(f"{table}: {len(rows)} row(s) to delete")
        posts.append(
            Postcondition(
                "nova", f"no {table} rows of the instance remain", b.count_is(table, 0, b.eq(column, u))
            )
        )

    pci_ops, pci_notes = release_pci(cell, u)
    cell_ops += pci_ops
    findings += pci_notes

    instance_changes = instance_deleted_changes()
    op = b.update(
        cell,
        "instances",
        [inst],
        instance_changes,
        scope=b.scope_where(f"instances.uuid = '{u}'", b.eq("uuid", u)),
        stays_in_scope=True,
        purpose="vm_state deleted, task_state NULL, power_state NOSTATE, terminated_at, deleted = id",
    )
    assert op is not None
    cell_ops.append(op)
    posts.append(instance_deleted_postcondition(u))

    share_ops, share_posts, share_notes, share_warnings = release_shares(cell, u, inst["host"])
    cell_ops += share_ops
    posts += share_posts
    findings += share_notes
    warnings += share_warnings

    api_ops: list[Operation] = []
    if facts.api is not None:
        api = facts.api
        mapping = [m for m in api.rows("instance_mappings") if not m["queued_for_delete"]]
        op = b.update(
            api,
            "instance_mappings",
            mapping,
            {"queued_for_delete": SetValue(True), "updated_at": ApplyTime()},
            scope=b.scope_where(f"instance_mappings of {u}", b.eq("instance_uuid", u)),
            stays_in_scope=True,
            purpose="queued_for_delete = 1, as the API marks a deleted server",
        )
        if op:
            api_ops.append(op)
        op = b.delete(
            api,
            "build_requests",
            api.rows("build_requests"),
            scope=b.scope_where(f"build_requests of {u}", b.eq("instance_uuid", u)),
            purpose="a leftover build request would resurrect the server in listings",
        )
        if op:
            api_ops.append(op)
        if api.rows("instance_mappings"):
            posts.append(
                Postcondition(
                    "nova_api",
                    "the instance mapping is queued for delete",
                    b.count_is(
                        "instance_mappings", 1, b.eq("instance_uuid", u), b.eq("queued_for_delete", 1)
                    ),
                )
            )

    consumers = [u] + [m["uuid"] for m in cell.rows("migrations") if m["uuid"]]
    placement_ops = placement_release_ops(
        facts, consumers, "free what the instance held, as delete_allocation_for_instance does (force)"
    )
    if facts.placement is not None:
        posts.append(
            Postcondition(
                "placement",
                "the instance holds no allocations",
                b.count_is("allocations", 0, b.eq("consumer_id", u)),
            )
        )
        held = [a for a in facts.placement.rows("allocations")]
        if held:
            findings.append(f"placement: {len(held)} allocation row(s) to free")

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
