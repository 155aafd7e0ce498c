"""VM rehost planned offline: the Nova records only, the target looked up at run time.

The target's compute node id comes from `compute_nodes` when the file runs (a
scalar subquery), and preconditions require an enabled nova-compute service
and the named compute node on the target host. Placement lives in another
database an offline bundle cannot join, so its allocations are left to the
API (the runbook says how). A task_state 'migrating' is cleared with progress 0,
as Nova ends a live migration on either host.
"""

from __future__ import annotations

from sqlglot import exp

from generator.domain import nova
from generator.ops.operations import ApplyTime, FromQuery, Operation, SetValue
from generator.plan import builders as b
from generator.plan.builders import offline_update as _update
from generator.plan.model import Postcondition
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.literals import literal_node


def offline_rehost(cell: SchemaSnapshot, u: str, host: str, node: str):
    node_row = [b.eq("host", host), b.eq("hypervisor_hostname", node), b.eq("deleted", 0)]
    pre = [
        Postcondition(
            "nova",
            f"an enabled nova-compute service runs on {host}",
            b.count_is(
                "services",
                1,
                b.eq("host", host),
                b.eq("binary", "nova-compute"),
                b.eq("deleted", 0),
                b.eq("disabled", 0),
            ),
        ),
        Postcondition(
            "nova", f"compute node {node} exists on {host}", b.count_is("compute_nodes", 1, *node_row)
        ),
    ]
    changes: dict = {"host": SetValue(host), "node": SetValue(node), "updated_at": ApplyTime()}
    if cell.table("instances").has_column("compute_id"):
        changes["compute_id"] = FromQuery(
            exp.select("id").from_("compute_nodes").where(exp.and_(*node_row)),
            f"the id of compute node {node}",
        )
    pending = exp.or_(
        exp.NEQ(this=exp.column("host"), expression=literal_node(host)),
        exp.NEQ(this=exp.column("node"), expression=literal_node(node)),
        exp.Is(this=exp.column("host"), expression=exp.Null()),
        exp.Is(this=exp.column("node"), expression=exp.Null()),
    )
    ops: list[Operation] = [
        _update(
            "nova",
            cell,
            "migrations",
            {"status": SetValue(nova.MIGRATION_CLOSED_STATUS), "updated_at": ApplyTime()},
            b.scope_where(
                "unfinished migrations of the instance",
                b.eq("instance_uuid", u),
                b.eq("deleted", 0),
                b.isin("status", nova.MIGRATION_IN_PROGRESS),
            ),
            "close the instance's unfinished migrations (status 'error')",
        ),
        _update(
            "nova",
            cell,
            "instance_extra",
            {"migration_context": SetValue(None), "updated_at": ApplyTime()},
            b.scope_where(
                "a stale migration context",
                b.eq("instance_uuid", u),
                b.eq("deleted", 0),
                exp.Not(this=exp.Is(this=exp.column("migration_context"), expression=exp.Null())),
            ),
            "drop the stale migration context of the failed move",
        ),
        _update(
            "nova",
            cell,
            "instances",
            {**{k: SetValue(v) for k, v in nova.LIVE_MIGRATION_END.items()}, "updated_at": ApplyTime()},
            b.scope_where(
                f"instance {u} still in task_state '{nova.LIVE_MIGRATING}'",
                b.eq("uuid", u),
                b.eq("deleted", 0),
                b.eq("task_state", nova.LIVE_MIGRATING),
            ),
            "end the live migration as Nova does on the host the guest runs on: task_state NULL, progress 0",
        ),
        _update(
            "nova",
            cell,
            "instances",
            changes,
            b.scope_where(
                f"instance {u} not yet on {host}/{node}",
                b.eq("uuid", u),
                b.eq("deleted", 0),
                exp.Paren(this=pending),
            ),
            f"point the instance at {host} / {node}",
        ),
    ]
    posts = [
        Postcondition(
            "nova",
            "the instance points at the target host and node",
            b.count_is("instances", 1, b.eq("uuid", u), b.eq("host", host), b.eq("node", node)),
        ),
        Postcondition(
            "nova",
            f"the instance is not left in task_state '{nova.LIVE_MIGRATING}'",
            b.count_is("instances", 0, b.eq("uuid", u), b.eq("task_state", nova.LIVE_MIGRATING)),
        ),
    ]
    return ops, posts, pre
