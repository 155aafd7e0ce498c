"""VM rehost planned offline: the writes vm_rehost_states declares, the outcome decided at run time.

The target's compute node id comes from `compute_nodes` when the file runs (a scalar
subquery), and preconditions require an enabled nova-compute service and the named compute
node on the target host. As live, `--to-host` against the instance's open move says how the
move ended, but the move is read when the file runs (vm_offline_rehost_outcome): every
outcome's writes are in the file, each scoped to match only when the move ends that way; a move
whose ends are both other hosts stops the precheck (unless --allow-unknown-outcome). Placement,
the RequestSpec and the availability zone live in other databases: the warnings say what is left.
"""

from __future__ import annotations

from sqlglot import exp

from generator.domain import nova
from generator.ops.operations import Assignment, FromQuery, Operation, SetValue
from generator.plan import builders as b
from generator.plan import vm_offline_rehost_outcome as rt
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
    EVACUATED,
    FLAVOR_DOCUMENT,
    FLAVOR_SIDES,
    MOVE_TYPES,
    NONE_OPEN,
    POINTS,
    POP_OLD_VM_STATE,
    POWER_OFF,
    RESIZE_ENDER,
    RESIZE_LIKE,
    REVERTED,
    UNKNOWN,
    WAITS,
    Write,
    end_move,
    end_status,
    evacuated,
    flavor_words,
    point_at,
    resize_end,
    settled,
)
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.builders import parse, parse_query
from generator.sqlgen.literals import literal_node, sql_literal

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


def _flavor_steps(run: rt.Run) -> list[Operation]:
    """The resize-like outcomes' instance and instance_extra writes (FLAVOR_SIDES): the flavor's
    columns, vm_state (RESIZED, or the reverted state read at run time) and task_state, and the
    cur/old/new document."""
    u, ops = run.u, []
    for when, side in FLAVOR_SIDES:
        values: dict[str, exp.Expr] = {
            c: exp.Subquery(this=parse_query(rt.flavor_value(u, side, k)))
            for c, k in nova.FLAVOR_COLUMNS.items()
        }
        values["vm_state"] = (
            exp.Literal.string(nova.RESIZED)
            if when == WAITS
            else exp.Subquery(this=parse_query(rt.reverted_vm_state(u)))
        )
        changes: dict[str, Assignment] = {
            c: FromQuery(v.this, f"the {side} flavor's {c}")
            for c, v in values.items()
            if isinstance(v, exp.Subquery)
        }
        changes.update(resize_end(side, changes.get("vm_state", SetValue(nova.RESIZED))))
        pending = [_differs(c, v.copy()) for c, v in values.items()] + [b.not_(parse("task_state IS NULL"))]
        words = f"the resize {when.kind}: the {side} flavor's columns, vm_state and task_state as "
        words += f"{RESIZE_ENDER[side]} leaves them"
        w = Write("instances", words, tuple(changes.items()), (b.eq("deleted", 0),), when)
        ops.append(
            run.emit(
                w,
                f"instance {u}, its open resize/cold migration {when.kind} (read at run time)",
                exp.Paren(this=exp.or_(*pending)),
            )
        )
    # instance_extra.flavor as json.dumps(dict(doc, ...)) writes it (FLAVOR_DOCUMENT): only for the
    # document Nova writes (keys cur, old, new in that order), its parts copied as stored
    doc = "JSON_VALID(flavor) AND JSON_LENGTH(flavor) = 3 AND flavor LIKE '{\"cur\": %'"
    for when, side in FLAVOR_SIDES:
        segments: list[str] = []
        lit = "{"
        for k, s in {"cur": side, "old": "old", "new": "new", **FLAVOR_DOCUMENT[side]}.items():
            lit += ("" if k == "cur" else ", ") + f'"{k}": ' + ("" if s else "null")
            if s:
                segments, lit = [*segments, f"'{lit}'", f"JSON_EXTRACT(flavor, '$.{s}')"], ""
        text = f"CONCAT({', '.join(segments)}, '{lit}}}')"
        value = FromQuery(
            parse_query(f"SELECT {text}"), f"the flavor document with cur = {side}"
        )  # of its row
        rows = (
            b.eq("deleted", 0),
            parse(f"{doc} AND JSON_TYPE(JSON_EXTRACT(flavor, '$.{side}')) = 'OBJECT'"),
        )
        w = Write("instance_extra", flavor_words(side), (("flavor", value),), rows, when)
        ops.append(
            run.emit(
                w,
                f"the flavor document of instance {u}, its open resize/cold migration {when.kind}",
                _differs("flavor", parse(text)),
            )
        )
    return ops


def _is(column: str, value: object) -> str:
    return f"{column} IS NULL" if value is None else f"{column} <=> {sql_literal(value)}"


def _evacuation_steps(run: rt.Run) -> list[Operation]:
    """instances: a completed evacuation's end (EVACUATED), one step per branch picked at run time:
    `evacuated(stopped=True)` for an instance 'stopped' before, the active end for any other."""
    ops: list[Operation] = []
    for stopped in (True, False):
        changes, words = evacuated(stopped)
        was_stopped = parse(_is("vm_state", nova.STOPPED))
        # not yet so: the row leaves the step's scope once written (an instance already so, its
        # evacuation still open, keeps its launched_at: the live rehost would stamp it)
        end = " AND ".join(_is(c, v) for c, v in settled(changes))
        w = Write("instances", words, tuple(changes.items()), (b.eq("deleted", 0),), EVACUATED)
        describe = f"instance {run.u}, {'' if stopped else 'not '}stopped, its open evacuation completed"
        describe += " (read at run time)"
        ops.append(
            run.emit(w, describe, was_stopped if stopped else b.not_(was_stopped), parse(f"NOT ({end})"))
        )
    return ops


def _stopped_revert_step(run: rt.Run) -> Operation:
    """instances: POWER_OFF for a reverted resize/cold migration of an instance whose stashed
    old_vm_state (read at run time, before the step dropping it) is 'stopped'."""
    return run.emit(
        POWER_OFF,
        f"instance {run.u}, stopped before its open resize/cold migration, reverted (read at run time)",
        parse(f"({rt.reverted_vm_state(run.u)}) = {sql_literal(nova.STOPPED)}"),
        b.not_(parse(_is("power_state", nova.SHUTDOWN))),
    )


def _end_steps(run: rt.Run) -> list[Operation]:
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
                f"the open {'/'.join(moves)} of instance {run.u}, {kind} (read at run time)",
                rt.the_move(run.u, kind, run.host, run.node, tuple(moves)),
                _differs("status", literal_node(status)),
            )
            ops.append(_update("nova", run.cell, w.table, w.changes, scope, w.purpose))
    return ops


def offline_rehost(cell: SchemaSnapshot, u: str, host: str, node: str, options: VmOptions):
    run = rt.Run(cell, u, host, node)
    node_row = [b.eq("host", host), b.eq("hypervisor_hostname", node), b.eq("deleted", 0)]
    compute_id = FromQuery(
        exp.select("id").from_("compute_nodes").where(exp.and_(*node_row)), f"the id of compute node {node}"
    )
    point = point_at(host, node, compute_id if cell.table("instances").has_column("compute_id") else None)
    pending = exp.or_(
        exp.NEQ(this=exp.column("host"), expression=literal_node(host)),
        exp.NEQ(this=exp.column("node"), expression=literal_node(node)),
        parse("host IS NULL"),
        parse("node IS NULL"),
    )
    older = b.scope_where("older unfinished migrations of the instance", rt.older_open(u))
    ops: list[Operation] = [
        _update("nova", cell, CLOSE_OTHERS.table, CLOSE_OTHERS.changes, older, CLOSE_OTHERS.purpose),
        *context_steps(run),
        run.emit(DROP_CONTEXT, "a stale migration context (a completed resize keeps it for confirm/revert)",
                 b.not_(run.move_is(WAITS))),
        *([run.emit(DROP_TOKENS, f"console tokens of instance {u}, its open live migration completed")]
          if cell.has_table("console_auth_tokens") else []),
        *_evacuation_steps(run),
        run.emit(END_LIVE_MIGRATION, f"instance {u} still in task_state '{nova.LIVE_MIGRATING}'"),
        *_flavor_steps(run),
        _stopped_revert_step(run),
        run.emit(point, f"instance {u} not yet on {host}/{node}", exp.Paren(this=pending)),
        run.emit(POP_OLD_VM_STATE,
                 f"the stashed old_vm_state of instance {u}, its open resize/cold migration reverted"),
        *_end_steps(run),
    ]  # fmt: skip
    finished = f"status = 'finished' AND {rt.outcome_sql(COMPLETED, host, node, RESIZE_LIKE)}"
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
            "nova", NONE_OPEN, b.count_is("migrations", 0, parse(rt.open_sql(u)), b.not_(parse(finished)))
        ),
    ]
    return ops, posts, _preconditions(u, host, node, options)
