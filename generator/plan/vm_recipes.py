"""The VM soft-delete and purge, declared once: what Nova's delete does to each table, for any instance.

vm_soft_delete.py evaluates these steps on live facts, vm_offline.py as run-time scopes
(plan/recipe.py). PCI devices (plan/vm_pci.py) and share mappings (plan/vm_shares.py) are
their own recipes: what they release depends on the device tree and the release.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from generator.domain import nova
from generator.domain.references import NOVA_IMPLICIT_INSTANCE_REFS, references_to
from generator.domain.toposort import topological_order
from generator.ops.operations import ApplyTime, SetValue
from generator.plan import builders as b
from generator.plan.recipe import Step, on_target, soft_delete_step, target
from generator.plan.vm_common import instance_deleted_changes
from generator.schema.model import SchemaSnapshot

SOFT_DELETE_API = (
    Step(
        "nova_api",
        "instance_mappings",
        on_target("instance_uuid"),
        "instance mapping of {target} not yet queued for delete",
        "queued_for_delete = 1, as the API marks a deleted server",
        assignments=(("queued_for_delete", SetValue(True)), ("updated_at", ApplyTime())),
        pending=exp.or_(b.eq("queued_for_delete", 0), b.is_null("queued_for_delete")),
        postcondition="the instance mapping is queued for delete",
    ),
    Step(
        "nova_api",
        "build_requests",
        on_target("instance_uuid"),
        "build request of {target}",
        "a leftover build request would resurrect the server in listings",
        postcondition="no build request of the instance remains",
    ),
)

SOFT_DELETE_CELL_RELATED = (
    *(
        soft_delete_step("nova", table, column, "soft-delete as instance_destroy does (deleted = id)")
        for table, column in nova.SOFT_DELETED_WITH_INSTANCE
    ),
    *(
        Step(
            "nova",
            table,
            on_target(column),
            f"{table}.{column} = '{{target}}'",
            "hard-delete as instance_destroy does (table has no deleted column)",
            postcondition=f"no {table} rows of the instance remain",
        )
        for table, column in nova.HARD_DELETED_WITH_INSTANCE
    ),
)

# After the PCI release (vm_pci): the instance row last, as instance_destroy saves it.
SOFT_DELETE_INSTANCE = Step(
    "nova",
    "instances",
    on_target("uuid"),
    "instance {target}, not yet deleted",
    "vm_state deleted, task_state NULL, power_state NOSTATE, terminated_at, deleted = id",
    assignments=tuple(instance_deleted_changes().items()),
    pending=b.eq("deleted", 0),
)

# Placement `delete_allocation_for_instance` (force): the allocations, then the consumer left
# with none. Live binds the instance and its migrations' consumers; offline only the instance.
RELEASE_ALLOCATIONS = (
    Step(
        "placement",
        "allocations",
        on_target("consumer_id"),
        "allocations of consumer(s) {target}",
        "free what the instance held, as delete_allocation_for_instance does (force)",
        postcondition="the instance holds no allocations",
    ),
    Step(
        "placement",
        "consumers",
        on_target("uuid"),
        "placement consumer(s) {target}",
        "remove the consumer records left with no allocations",
    ),
)


# -- purge: the instance and every row that references it (plan/vm_purge.py live, vm_offline.py) --
RELEASED_NOT_DELETED = frozenset({"pci_devices", "shadow_pci_devices"})  # released (vm_pci), never deleted
PURGE_API_TABLES = ("instance_group_member", "build_requests", "request_specs", "instance_mappings")


def purge_delete_order(schema: SchemaSnapshot, tables: set[str]) -> list[str]:
    """Children before parents, by the FK graph (shadow tables follow their base table)."""
    depends: dict[str, set[str]] = {t: set() for t in tables}
    for table in tables:
        base = table.removeprefix("shadow_")
        if not schema.has_table(base):
            continue
        for fk in schema.table(base).foreign_keys:
            parent = ("shadow_" if table.startswith("shadow_") else "") + fk.ref_table
            if parent in depends and parent != table:
                depends[parent].add(table)  # the parent waits for its children
    # The instance row goes last even after tables with no FK to it (volume_usage_cache, the
    # shadow tables): a re-run after a stop between chunks still finds its target or a purge done.
    for instance in ("shadow_instances", "instances"):
        if instance in depends:
            depends[instance] |= {t for t in tables if t != instance and t != "instances"}
    return topological_order(tables, depends)


def purge_cell_steps(
    schema: SchemaSnapshot, *, include_shadow: bool, only: Callable[[str], bool] = lambda table: True
) -> tuple[Step, ...]:
    """Every table referencing the instance (FKs of the schema plus Nova's references without one),
    deleted or not, in delete order; `only` narrows the tables (live: the ones holding rows)."""
    refs = list(references_to(schema, "instances", "uuid", target(), NOVA_IMPLICIT_INSTANCE_REFS))
    if include_shadow:
        refs += references_to(
            schema, "instances", "uuid", target(), NOVA_IMPLICIT_INSTANCE_REFS, prefix="shadow_"
        )
    scopes = {r.table: r.scope for r in refs if only(r.table)}
    instances = {"instances"} | (
        {"shadow_instances"} if include_shadow and only("shadow_instances") else set()
    )
    instances &= set(schema.table_names)
    steps = []
    for table in purge_delete_order(schema, (set(scopes) | instances) - RELEASED_NOT_DELETED):
        if table in instances:
            scope, describe, purpose = (
                on_target("uuid"),
                f"{table}.uuid = '{{target}}'",
                "the instance row itself, last",
            )
        else:
            scope, describe = scopes[table].condition, scopes[table].description
            purpose = f"every row referencing the instance ({describe}), deleted or not"
        steps.append(
            Step(
                "nova",
                table,
                scope,
                describe,
                purpose,
                postcondition=f"no {table} rows of the instance remain",
            )
        )
    return tuple(steps)


PURGE_API = tuple(
    Step(
        "nova_api",
        table,
        on_target("instance_uuid"),
        f"{table}.instance_uuid = '{{target}}'",
        "the API records of the instance (archive_deleted_rows removes these)",
        postcondition=f"no {table} rows of the instance remain",
    )
    for table in PURGE_API_TABLES
)
