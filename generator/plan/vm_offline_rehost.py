"""VM rehost planned offline: what the live rehost writes, its outcome decided at run time.

The target's compute node id comes from `compute_nodes` when the file runs (a scalar
subquery), and preconditions require an enabled nova-compute service and the named compute
node on the target host. As the live rehost (vm_rehost.py), `--to-host` against the instance's
open move says how the move ended (vm_offline_rehost_outcome.py reads that move when the file
runs): every outcome's steps are in the file, each scoped to match only when the move ends
that way, so only the matching outcome's rows change; a move whose ends are both other hosts
stops the precheck (unless --allow-unknown-outcome). Per outcome the steps are what Nova
writes (vm_rehost_outcome): the move's end status, a completed resize waiting for confirm
(new flavor, vm_state 'resized', its migration context kept), a reverted one as
finish_revert_resize leaves it (old flavor in the columns and instance_extra.flavor, stashed
old_vm_state popped, power_state 4 if it was stopped), a completed live migration's console
tokens dropped, a completed evacuation ended as the rebuild ends it (vm_offline_rehost_states),
the migration context's new (completed) or old (reverted resize) NUMA topology, PCI requests and
resources applied as Nova's save writes them (vm_offline_rehost_context); task_state
'migrating' cleared with progress 0 whatever the outcome. Placement, the RequestSpec and the
availability zone live in other databases: the bundle's warnings say what is left to do.
"""

from __future__ import annotations

from sqlglot import exp

from generator.domain import nova
from generator.ops.operations import ApplyTime, Assignment, DeleteRows, FromQuery, Operation, SetValue
from generator.plan import builders as b
from generator.plan import vm_offline_rehost_outcome as rt
from generator.plan import vm_offline_rehost_states as states
from generator.plan.builders import offline_update as _update
from generator.plan.model import Postcondition
from generator.plan.vm_common import VmOptions
from generator.plan.vm_offline_rehost_context import context_preconditions, context_steps
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.builders import parse, parse_query
from generator.sqlgen.literals import literal_node

COMPLETED, REVERTED, UNKNOWN = "completed", "reverted", "unknown"

# What the offline rehost (plan/vm_offline_rehost.py) leaves that the live one does.
OFFLINE_REHOST_WARNINGS = (
    "offline rehost decides the move's outcome when the Nova cell file runs: the instance's open move is "
    "its newest unfinished migration; --to-host its destination: completed, its source: reverted (the "
    "precheck stops when it is neither, unless --allow-unknown-outcome). An 'error'/'failed' migration "
    "is not an open move offline (live also ends one whose placement consumer still holds allocations): "
    "then only the instance is pointed at the target",
    "offline rehost changes the Nova cell only: move the placement allocations as Nova would for the "
    "outcome (completed live migration: free the migration consumer's; reverted resize/migration: "
    "`openstack resource provider allocation set` the instance back to what the migration consumer "
    "holds, then delete that consumer's; completed resize: leave both for confirm/revert), point a "
    "reverted resize's RequestSpec back at the old flavor and set the instance's availability_zone to "
    "the target host's, or generate live with --placement-url and --nova-api-url, which do all of it",
    "offline rehost copies the migration context's numa_topology, pci_requests and resources onto the "
    "instance (its new side on a completed move, its old side on a reverted resize/cold migration) only "
    "where SQL writes the bytes Nova's save writes: on MariaDB, the context in json.dumps form (no "
    "backslash escape, non-ASCII or float) and without PCI requests (SQL would need ~100 lines per "
    "request in every statement reading it); otherwise "
    "the Nova cell precheck stops before any change: generate live, which parses the context in Python",
    "offline rehost writes no shell/controller.sh or source-<host>.sh: rebind the instance's ports "
    "(`openstack port set --host TARGET PORT_ID`, each `port_id` the Nova cell precheck prints), "
    "refresh its volume attachments (`nova-manage volume_attachment refresh`) and clean the host the "
    "move left (its `<uuid>_resize` directory, VIFs, iSCSI sessions) by hand, or generate live",
)


def _delete(role: str, schema: SchemaSnapshot, table: str, scope, purpose: str) -> DeleteRows:
    return DeleteRows(role, table, schema.table(table).primary_key, purpose, scope=scope)


def _differs(column: str, value: exp.Expr) -> exp.Expr:
    return b.not_(exp.NullSafeEQ(this=exp.column(column), expression=value))


def _preconditions(u: str, host: str, node: str, options: VmOptions) -> list[Postcondition]:
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
    if "unknown-outcome" not in options.allow:
        pre.append(
            Postcondition(
                "nova",
                f"the instance's open move (its newest unfinished migration) went to or came from {host} "
                f"/ {node}: else whether it completed or reverted is unknown (--allow-unknown-outcome "
                "closes it as 'error')",
                b.count_is(
                    "migrations",
                    0,
                    parse(rt.open_sql(u)),
                    parse(f"id = {rt.newest_open_id(u)}"),
                    parse(rt.outcome_sql(UNKNOWN, host, node)),
                ),
            )
        )
    return pre + context_preconditions(u, host, node)


def _flavor_steps(cell: SchemaSnapshot, u: str, host: str, node: str) -> list[Operation]:
    """The resize-like outcomes' instance and instance_extra writes (vm_rehost_outcome.flavor_changes,
    reverted_vm_state): the flavor's columns and the cur/old/new document, vm_state, task_state."""
    ops: list[Operation] = []
    for kind, which, vm_state in (
        (COMPLETED, "new", exp.Literal.string(nova.RESIZED)),
        (REVERTED, "old", exp.Subquery(this=parse_query(rt.reverted_vm_state(u)))),
    ):
        values: dict[str, exp.Expr] = {
            c: exp.Subquery(this=parse_query(rt.flavor_value(u, which, k)))
            for c, k in nova.FLAVOR_COLUMNS.items()
        }
        values["vm_state"] = vm_state
        changes: dict[str, Assignment] = {
            c: FromQuery(v.this, f"the {which} flavor's {c}")
            for c, v in values.items()
            if isinstance(v, exp.Subquery)
        }
        pending = [_differs(c, v.copy()) for c, v in values.items()] + [
            b.not_(exp.Is(this=exp.column("task_state"), expression=exp.Null()))
        ]
        if kind == COMPLETED:  # finish_resize spawned the guest on the destination: launched_at
            changes.update({"vm_state": SetValue(nova.RESIZED), "launched_at": ApplyTime()})
        changes.update({"task_state": SetValue(None), "updated_at": ApplyTime()})
        ops.append(
            _update(
                "nova",
                cell,
                "instances",
                changes,
                b.scope_where(
                    f"instance {u}, its open resize/cold migration {kind} (read at run time)",
                    b.eq("uuid", u),
                    b.eq("deleted", 0),
                    rt.move_is(u, kind, host, node, rt.RESIZE_LIKE),
                    exp.Paren(this=exp.or_(*pending)),
                ),
                f"the resize {kind}: the {which} flavor's columns, vm_state and task_state as "
                + ("finish_resize" if kind == COMPLETED else "finish_revert_resize")
                + " leaves them",
            )
        )
    # instance_extra.flavor as json.dumps(dict(doc, cur=...)) writes it: only for the document
    # Nova writes (keys cur, old, new in that order), its parts copied as stored
    doc = "JSON_VALID(flavor) AND JSON_LENGTH(flavor) = 3 AND flavor LIKE '{\"cur\": %'"
    texts = {
        COMPLETED: "CONCAT('{\"cur\": ', JSON_EXTRACT(flavor, '$.new'), ', \"old\": ', "
        "JSON_EXTRACT(flavor, '$.old'), ', \"new\": ', JSON_EXTRACT(flavor, '$.new'), '}')",
        REVERTED: "CONCAT('{\"cur\": ', JSON_EXTRACT(flavor, '$.old'), ', \"old\": null, \"new\": null}')",
    }
    for kind, text in texts.items():
        which = "new" if kind == COMPLETED else "old"
        value = parse_query(f"SELECT {text}")  # of the row it updates: no other instance_extra read
        ops.append(
            _update(
                "nova",
                cell,
                "instance_extra",
                {
                    "flavor": FromQuery(value, f"the flavor document with cur = {which}"),
                    "updated_at": ApplyTime(),
                },
                b.scope_where(
                    f"the flavor document of instance {u}, its open resize/cold migration {kind}",
                    b.eq("instance_uuid", u),
                    b.eq("deleted", 0),
                    parse(f"{doc} AND JSON_TYPE(JSON_EXTRACT(flavor, '$.{which}')) = 'OBJECT'"),
                    rt.move_is(u, kind, host, node, rt.RESIZE_LIKE),
                    _differs("flavor", parse(text)),
                ),
                f"instance_extra.flavor: cur = the {which} flavor"
                + ("" if kind == COMPLETED else ", old and new cleared (_revert_instance_flavor_host_node)"),
            )
        )
    return ops


def _end_steps(cell: SchemaSnapshot, u: str, host: str, node: str) -> list[Operation]:
    """The open move's end status per outcome and type (nova.MOVE_END_STATUS), last in the file:
    every earlier step reads the move while it is still open."""
    ops: list[Operation] = []
    for kind in (COMPLETED, REVERTED, UNKNOWN):
        by_status: dict[str, list[str]] = {}
        for move in rt.MOVE_TYPES:
            status = nova.MOVE_END_STATUS.get((move, kind), nova.MIGRATION_CLOSED_STATUS)
            by_status.setdefault(status, []).append(move)
        for status, moves in by_status.items():
            ops.append(
                _update(
                    "nova",
                    cell,
                    "migrations",
                    {"status": SetValue(status), "updated_at": ApplyTime()},
                    b.scope_where(
                        f"the open {'/'.join(moves)} of instance {u}, {kind} (read at run time)",
                        rt.the_move(u, kind, host, node, tuple(moves)),
                        _differs("status", literal_node(status)),
                    ),
                    f"end the move as Nova does when it {kind} ('{status}')",
                )
            )
    return ops


def offline_rehost(cell: SchemaSnapshot, u: str, host: str, node: str, options: VmOptions):
    node_row = [b.eq("host", host), b.eq("hypervisor_hostname", node), b.eq("deleted", 0)]
    pre = _preconditions(u, host, node, options)
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
    waits = rt.move_is(u, COMPLETED, host, node, rt.RESIZE_LIKE)
    tokens = [
        _delete(
            "nova",
            cell,
            "console_auth_tokens",
            b.scope_where(
                f"console tokens of instance {u}, its open live migration completed",
                b.eq("instance_uuid", u),
                rt.move_is(u, COMPLETED, host, node, ("live-migration",)),
            ),
            "drop the console tokens of the old host, as _post_live_migration does",
        )
    ] if cell.has_table("console_auth_tokens") else []  # fmt: skip
    ops: list[Operation] = [
        _update(
            "nova",
            cell,
            "migrations",
            {"status": SetValue(nova.MIGRATION_CLOSED_STATUS), "updated_at": ApplyTime()},
            b.scope_where("older unfinished migrations of the instance", rt.older_open(u)),
            "close the instance's other unfinished migrations (status 'error')",
        ),
        *context_steps(cell, u, host, node),
        _update(
            "nova",
            cell,
            "instance_extra",
            {"migration_context": SetValue(None), "updated_at": ApplyTime()},
            b.scope_where(
                "a stale migration context (a completed resize keeps it for confirm/revert)",
                b.eq("instance_uuid", u),
                b.eq("deleted", 0),
                exp.Not(this=exp.Is(this=exp.column("migration_context"), expression=exp.Null())),
                b.not_(waits),
            ),
            "drop the stale migration context of the failed move",
        ),
        *tokens,
        *states.evacuation_steps(cell, u, host, node),
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
        *_flavor_steps(cell, u, host, node),
        states.stopped_revert_step(cell, u, host, node),
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
        _delete("nova", cell, "instance_system_metadata", b.scope_where(
            f"the stashed old_vm_state of instance {u}, its open resize/cold migration reverted",
            b.eq("instance_uuid", u),
            b.eq("deleted", 0),
            b.eq("key", "old_vm_state"),
            rt.move_is(u, REVERTED, host, node, rt.RESIZE_LIKE),
        ), "drop the stashed old_vm_state, as finish_revert_resize does"),
        *_end_steps(cell, u, host, node),
    ]  # fmt: skip
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
        Postcondition(
            "nova",
            "no unfinished migration of the instance remains (but a completed resize waiting for confirm)",
            b.count_is(
                "migrations",
                0,
                parse(rt.open_sql(u)),
                b.not_(
                    parse(f"status = 'finished' AND {rt.outcome_sql(COMPLETED, host, node, rt.RESIZE_LIKE)}")
                ),
            ),
        ),
    ]
    return ops, posts, pre
