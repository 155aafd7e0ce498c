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

from dataclasses import replace

from sqlglot import exp

from generator.domain import nova
from generator.ops.operations import Assignment, FromQuery, Operation, SetValue
from generator.plan import builders as b
from generator.plan import vm_offline_rehost_outcome as rt
from generator.plan import vm_offline_rehost_states as states
from generator.plan.builders import offline_update as _update
from generator.plan.model import Postcondition
from generator.plan.vm_common import VmOptions
from generator.plan.vm_offline_rehost_context import context_preconditions, context_steps
from generator.plan.vm_rehost_states import (
    CLOSE_OTHERS,
    COMPLETED,
    DROP_CONTEXT,
    DROP_TOKENS,
    END_LIVE_MIGRATION,
    FLAVOR_DOCUMENT,
    FLAVOR_SIDES,
    MOVE_TYPES,
    NONE_OPEN,
    POINTS,
    POP_OLD_VM_STATE,
    RESIZE_ENDER,
    RESIZE_LIKE,
    REVERTED,
    UNKNOWN,
    WAITS,
    Write,
    end_move,
    end_status,
    flavor_words,
    point_at,
    resize_end,
)
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.builders import parse, parse_query
from generator.sqlgen.literals import literal_node

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
    """The resize-like outcomes' instance and instance_extra writes (FLAVOR_SIDES): the flavor's
    columns, vm_state (RESIZED, or the reverted state read at run time) and task_state, and the
    cur/old/new document."""
    ops: list[Operation] = []
    for when, side in FLAVOR_SIDES:
        vm_state = (
            exp.Literal.string(nova.RESIZED)
            if when == WAITS
            else exp.Subquery(this=parse_query(rt.reverted_vm_state(u)))
        )
        values: dict[str, exp.Expr] = {
            c: exp.Subquery(this=parse_query(rt.flavor_value(u, side, k)))
            for c, k in nova.FLAVOR_COLUMNS.items()
        }
        values["vm_state"] = vm_state
        changes: dict[str, Assignment] = {
            c: FromQuery(v.this, f"the {side} flavor's {c}")
            for c, v in values.items()
            if isinstance(v, exp.Subquery)
        }
        changes.update(resize_end(side, changes.get("vm_state", SetValue(nova.RESIZED))))
        pending = [_differs(c, v.copy()) for c, v in values.items()] + [
            b.not_(exp.Is(this=exp.column("task_state"), expression=exp.Null()))
        ]
        words = (
            f"the resize {when.kind}: the {side} flavor's columns, vm_state and task_state as "
            f"{RESIZE_ENDER[side]} leaves them"
        )
        ops.append(
            rt.emit(
                cell,
                Write("instances", words, tuple(changes.items()), (b.eq("deleted", 0),), when),
                u,
                host,
                node,
                f"instance {u}, its open resize/cold migration {when.kind} (read at run time)",
                exp.Paren(this=exp.or_(*pending)),
            )
        )
    # instance_extra.flavor as json.dumps(dict(doc, ...)) writes it (FLAVOR_DOCUMENT): only for the
    # document Nova writes (keys cur, old, new in that order), its parts copied as stored
    doc = "JSON_VALID(flavor) AND JSON_LENGTH(flavor) = 3 AND flavor LIKE '{\"cur\": %'"
    for when, side in FLAVOR_SIDES:
        segments, lit = [], "{"
        for k, s in {"cur": side, "old": "old", "new": "new", **FLAVOR_DOCUMENT[side]}.items():
            lit += ("" if k == "cur" else ", ") + f'"{k}": ' + ("" if s else "null")
            if s:
                segments += [f"'{lit}'", f"JSON_EXTRACT(flavor, '$.{s}')"]
                lit = ""
        text = f"CONCAT({', '.join(segments)}, '{lit}}}')"
        value = parse_query(f"SELECT {text}")  # of the row it updates: no other instance_extra read
        ops.append(
            rt.emit(
                cell,
                Write(
                    "instance_extra",
                    flavor_words(side),
                    (("flavor", FromQuery(value, f"the flavor document with cur = {side}")),),
                    (
                        b.eq("deleted", 0),
                        parse(f"{doc} AND JSON_TYPE(JSON_EXTRACT(flavor, '$.{side}')) = 'OBJECT'"),
                    ),
                    when,
                ),
                u,
                host,
                node,
                f"the flavor document of instance {u}, its open resize/cold migration {when.kind}",
                _differs("flavor", parse(text)),
            )
        )
    return ops


def _end_steps(cell: SchemaSnapshot, u: str, host: str, node: str) -> list[Operation]:
    """The open move's end status per outcome and type (end_move), last in the file: every earlier
    step reads the move while it is still open."""
    ops: list[Operation] = []
    for kind in (COMPLETED, REVERTED, UNKNOWN):
        by_status: dict[str, list[str]] = {}
        for move in MOVE_TYPES:
            by_status.setdefault(end_status(kind, move), []).append(move)
        for status, moves in by_status.items():
            w = end_move(kind, tuple(moves))
            scope = b.scope_where(
                f"the open {'/'.join(moves)} of instance {u}, {kind} (read at run time)",
                rt.the_move(u, kind, host, node, tuple(moves)),
                _differs("status", literal_node(status)),
            )
            ops.append(_update("nova", cell, w.table, w.changes, scope, w.purpose))
    return ops


def offline_rehost(cell: SchemaSnapshot, u: str, host: str, node: str, options: VmOptions):
    node_row = [b.eq("host", host), b.eq("hypervisor_hostname", node), b.eq("deleted", 0)]
    pre = _preconditions(u, host, node, options)
    compute_id = (
        FromQuery(
            exp.select("id").from_("compute_nodes").where(exp.and_(*node_row)),
            f"the id of compute node {node}",
        )
        if cell.table("instances").has_column("compute_id")
        else None
    )
    pending = exp.or_(
        exp.NEQ(this=exp.column("host"), expression=literal_node(host)),
        exp.NEQ(this=exp.column("node"), expression=literal_node(node)),
        exp.Is(this=exp.column("host"), expression=exp.Null()),
        exp.Is(this=exp.column("node"), expression=exp.Null()),
    )
    waits = rt.move_is(u, WAITS.kind, host, node, WAITS.moves)
    context = (
        b.eq("deleted", 0),
        exp.Not(this=exp.Is(this=exp.column("migration_context"), expression=exp.Null())),
    )
    ops: list[Operation] = [
        _update(
            "nova",
            cell,
            CLOSE_OTHERS.table,
            CLOSE_OTHERS.changes,
            b.scope_where("older unfinished migrations of the instance", rt.older_open(u)),
            CLOSE_OTHERS.purpose,
        ),
        *context_steps(cell, u, host, node),
        rt.emit(
            cell,
            replace(DROP_CONTEXT, rows=context),
            u,
            host,
            node,
            "a stale migration context (a completed resize keeps it for confirm/revert)",
            b.not_(waits),
        ),
        *([rt.emit(cell, DROP_TOKENS, u, host, node,
                   f"console tokens of instance {u}, its open live migration completed")]
          if cell.has_table("console_auth_tokens") else []),
        *states.evacuation_steps(cell, u, host, node),
        rt.emit(
            cell,
            END_LIVE_MIGRATION,
            u,
            host,
            node,
            f"instance {u} still in task_state '{nova.LIVE_MIGRATING}'",
        ),
        *_flavor_steps(cell, u, host, node),
        states.stopped_revert_step(cell, u, host, node),
        rt.emit(
            cell,
            replace(point_at(host, node, compute_id), rows=(b.eq("deleted", 0),)),
            u,
            host,
            node,
            f"instance {u} not yet on {host}/{node}",
            exp.Paren(this=pending),
        ),
        rt.emit(
            cell,
            POP_OLD_VM_STATE,
            u,
            host,
            node,
            f"the stashed old_vm_state of instance {u}, its open resize/cold migration reverted",
        ),
        *_end_steps(cell, u, host, node),
    ]  # fmt: skip
    posts = [
        Postcondition(
            "nova",
            POINTS,
            b.count_is("instances", 1, b.eq("uuid", u), b.eq("host", host), b.eq("node", node)),
        ),
        Postcondition(
            "nova",
            f"the instance is not left in task_state '{nova.LIVE_MIGRATING}'",
            b.count_is("instances", 0, b.eq("uuid", u), b.eq("task_state", nova.LIVE_MIGRATING)),
        ),
        Postcondition(
            "nova",
            NONE_OPEN,
            b.count_is(
                "migrations",
                0,
                parse(rt.open_sql(u)),
                b.not_(
                    parse(f"status = 'finished' AND {rt.outcome_sql(COMPLETED, host, node, RESIZE_LIKE)}")
                ),
            ),
        ),
    ]
    return ops, posts, pre
