"""The VM soft-delete, declared once: what Nova's delete does to each table, for any instance.

vm_soft_delete.py evaluates these steps on live facts, vm_offline.py as run-time scopes
(plan/recipe.py). PCI devices (plan/vm_pci.py) and share mappings (plan/vm_shares.py) are
their own recipes: what they release depends on the device tree and the release.
"""

from __future__ import annotations

from sqlglot import exp

from generator.domain import nova
from generator.ops.operations import ApplyTime, SetValue
from generator.plan import builders as b
from generator.plan.recipe import Step, on_target, soft_delete_step
from generator.plan.vm_common import instance_deleted_changes

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
