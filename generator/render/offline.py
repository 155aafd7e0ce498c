"""Offline bundles: SQL that finds its rows at run time.

With no database at generation there are no pre-images and no fingerprints.
Each operation carries only a scope that selects the rows *still needing* the
change (so a re-run finds none), and the plan's preconditions say what must be
true first (the instance exists in this database, the target host is enabled).
Per database, the apply is cut into rounds of at most `--chunk-rows` rows, each one
transaction (render/offline_rounds.py):

* round 1 checks the preconditions, then — before any write, under the locks — each
  step's row count (at most OFFLINE_ROW_LIMIT: an offline bundle is for one target,
  not a bulk job), the total against the rounds written, and the server's Galera
  write-set limits (render/wsrep_check.py);
* every round runs every step in order, changing the next rows of its scope (keyed on
  the target UUID, in primary-key order) while the round's row budget lasts, and checks
  ROW_COUNT() and the rows left; the last round checks no row is left in any scope.

Rollback cannot be written in advance, so a *capture* file, run with
`--batch --raw --skip-column-names` before the apply, prints a complete
rollback script holding the exact current values (hex for text and binary,
original ids), restoring parents before children and guarding every row, committing every
`--chunk-rows` rows and checking the Galera limits before its first write.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from sqlglot import exp

from generator.ops.dispatch import Dispatch
from generator.ops.operations import DeleteRows, Operation, UpdateRows
from generator.plan.model import DatabaseTarget, Plan
from generator.quoting import sql_comment
from generator.render import offline_capture as cap
from generator.render import offline_doomed, wsrep_check
from generator.render import statements as st
from generator.render.dml import assignment_value
from generator.render.identity import captured_database_line, identity_statements
from generator.render.offline_rounds import BUDGET, count_in_scope, preflight, round_report, round_step
from generator.render.sqlfile import SqlFile, Strategy, checked, comment, read_only, verify_file
from generator.render.templates import render
from generator.render.writeset import rounds_for
from generator.schema.model import Table
from generator.sqlgen.literals import literal_node


def _and(cond: exp.Expr, upto: exp.Expr) -> exp.Expr:
    """`cond AND upto`, with an AND-ed scope flattened so lint FX001 still sees its keyed parts."""
    tree = cond.unnest()
    parts = list(tree.flatten()) if isinstance(tree, exp.And) else [tree]
    return exp.and_(*parts, upto)


def _change(table: Table, op: Operation, upto: exp.Expr) -> list[str]:
    """The step's DML through its scope, limited to the rows of this round (`upto`), adding to @fixpack_rc."""
    scope = op.scope  # type: ignore[attr-defined]
    statement = OFFLINE_DML.of(op)(op, scope.tree(), upto)
    from generator.sqlgen.dialect import to_sql

    change = [to_sql(statement) + ";"]
    if not _index_usable(table, scope.tree()):
        return [
            *comment(
                f"{op.table} has no index on the scope's columns, so safe-update mode would refuse "
                "this statement: it is keyed on the target UUID (lint FX001) and its row count "
                "is guarded before and after, so safe updates are off for this one statement"
            ),
            "SET SESSION sql_safe_updates = 0;",
            *change,
            st.add_row_count(),
            "SET SESSION sql_safe_updates = 1;",
        ]
    return [*change, st.add_row_count()]


def _index_usable(table: Table, cond: exp.Expr) -> bool:
    """Does the condition pin the leading column of some index of the table (safe-update mode's test)?"""
    leading = {ix.columns[0].split("(")[0] for ix in table.indexes} | set(table.primary_key[:1])
    if isinstance(cond, exp.In) and cond.args.get("query") is not None:
        return True  # rendered as a join to the parent (see _delete_statement)
    for node in cond.find_all(exp.EQ, exp.In):
        if isinstance(node, exp.In) and node.args.get("query") is not None:
            continue  # `col IN (SELECT …)` within a larger condition is no key to safe-update mode
        if (
            isinstance(node.this, exp.Column)
            and node.this.name in leading
            and node.this.find_ancestor(exp.Select) is None
        ):
            return True
    return False


OFFLINE_DML: Dispatch[Callable[[Any, exp.Expr, exp.Expr], exp.Expr]] = Dispatch("offline DML")


@OFFLINE_DML.register(UpdateRows)
def _update(op: UpdateRows, cond: exp.Expr, upto: exp.Expr) -> exp.Expr:
    """UPDATE through the scope (`cond`), limited to this round's rows (`upto`)."""
    return exp.update(
        op.table, {c: assignment_value(a) for c, a in op.assignments or ()}, where=_and(cond, upto)
    )


@OFFLINE_DML.register(DeleteRows)
def _delete(op: DeleteRows, cond: exp.Expr, upto: exp.Expr) -> exp.Expr:
    return _delete_statement(op.table, cond, upto)


def _delete_statement(table: str, cond: exp.Expr, upto: exp.Expr) -> exp.Expr:
    """DELETE through the scope; a grandchild scope `col IN (SELECT id FROM parent WHERE …)` becomes a
    multi-table DELETE joined to the parent, which MySQL's safe-update mode accepts (the subquery form
    it rejects as unkeyed)."""
    query = cond.args.get("query") if isinstance(cond, exp.In) else None
    inner = query.this if isinstance(query, exp.Subquery) else query
    if not isinstance(inner, exp.Select) or not isinstance(cond.this, exp.Column):
        return exp.delete(table, where=_and(cond, upto))
    source = inner.args.get("from_") or inner.args.get("from")
    assert source is not None  # a scope's subquery selects from its parent table
    parent = source.this.name
    parent_col = inner.expressions[0].name
    where = inner.args["where"].this.copy()  # detached: its columns now belong to the DELETE
    for column in where.find_all(exp.Column):
        if not column.table and column.find_ancestor(exp.Select) is None:
            column.set("table", exp.to_identifier(parent))
    join = exp.Join(
        this=exp.to_table(parent),
        on=exp.EQ(
            this=exp.column(cond.this.name, table=table), expression=exp.column(parent_col, table=parent)
        ),
        kind="INNER",
    )
    for column in upto.find_all(exp.Column):
        column.set("table", exp.to_identifier(table))
    target = exp.to_table(table)
    target.set("joins", [join])
    return exp.Delete(tables=[exp.to_table(table)], this=target, where=exp.Where(this=_and(where, upto)))


def session_values(plan: Plan, db: DatabaseTarget, lock: bool) -> list[str]:
    """`SET @name = (query);` per plan.session_values of this database, right after a START
    TRANSACTION and before any scope reads it; in the apply a locking read (FOR UPDATE), re-read
    every round, so each statement sees what it would read itself (the plan changes what the value
    reads only in its last step of a round: see vm_offline_rehost_outcome.py)."""
    out: list[str] = []
    for value in plan.session_values:
        if value.database != db.role:
            continue
        query = value.query.copy()
        assert isinstance(query, exp.Select)  # SessionValue: a scalar SELECT
        if lock:
            query = query.lock(update=True, copy=False)
        out += comment(value.describe())
        out.append(st.set_var(value.name, query.subquery(copy=False)))
    return out


def _apply(plan: Plan, db: DatabaseTarget, ops: tuple[Operation, ...], chunk_rows: int) -> dict:
    """templates/sql/offline_apply.sql.j2: the rounds (render/offline_rounds.py)."""
    rounds = rounds_for(chunk_rows)
    laid = []
    for round_no in range(1, rounds + 1):
        opening = [
            st.set_var(st.NOW, exp.Anonymous(this="UTC_TIMESTAMP", expressions=[])),
            *session_values(plan, db, lock=True),
        ]
        if round_no == 1:
            opening += [
                *checked("precondition", plan.preconditions, db),
                *preflight(ops, db, chunk_rows, rounds),
            ]
        opening.append(st.set_var(BUDGET, exp.Literal.number(chunk_rows)))
        steps = [
            round_step(op, number, round_no, round_no == rounds, partial(_change, db.schema.table(op.table)))
            for number, op in enumerate(ops, 1)
        ]
        laid.append(
            {"opening": opening, "steps": steps, "report": round_report(round_no, rounds, chunk_rows)}
        )
    return {
        "identity": [
            *identity_statements(plan, db),
            *comment("the server's Galera write-set limits (checked below, before the first write)"),
            *wsrep_check.read_limits(),
        ],
        "rounds": laid,
        "chunk_rows": chunk_rows,
        "outcome": st.report([("fixpack", literal_node("apply finished: every guard held"))]),
    }


def _precheck(plan: Plan, db: DatabaseTarget, ops: tuple[Operation, ...]) -> dict:
    checks = [*session_values(plan, db, lock=False), *checked("precondition", plan.preconditions, db)]
    for number, op in enumerate(ops, 1):
        step, count = f"step {number}: {op.table}", count_in_scope(op).subquery(copy=False)
        checks += comment(f"{step}: {op.describe()}")
        checks.append(st.report([("step", literal_node(step)), ("rows_to_change", count)]))
    checks += _host_side(plan, db.role)
    return read_only(identity_statements(plan, db), checks, "precheck passed: preconditions hold")


def _host_side(plan: Plan, role: str) -> list[str]:
    """Read-only lines printing what the host side needs (see render/offline_hostside.py)."""
    from generator.render import offline_hostside

    kind = plan.options.get("host_side")
    if kind == "volume" and role == "cinder":
        return [line for u in plan.targets for line in offline_hostside.cinder_attachments(u)]
    if role != "nova" or not kind:
        return []
    if kind == "instance":  # a batch: every instance's host side, one after the other
        template = str(plan.options.get("instance_name_template") or "instance-%08x")
        return [line for u in plan.targets for line in offline_hostside.instance_host_side(u, template)]
    return [line for u in plan.targets for line in offline_hostside.volume_host_side(u)]


def _emit_statements(lines: list[str]) -> list[str]:
    """SELECTs printing `lines` (comments and statements) as they are, one SELECT per statement."""
    out: list[str] = []
    pending: list[str] = []
    for line in lines:
        pending.append(line)
        if line.endswith(";") or line.startswith("--") or not line:
            out.append(st.report([("line", cap.concat(cap.text("\n".join(pending))))]))
            pending = []
    if pending:
        out.append(st.report([("line", cap.concat(cap.text("\n".join(pending))))]))
    return out


def _capture(plan: Plan, db: DatabaseTarget, ops: tuple[Operation, ...], chunk_rows: int) -> dict:
    """templates/sql/capture.sql.j2: what the capture reads, then the rollback it prints, by section."""
    identity = identity_statements(plan, db, captured=True)  # printed into the rollback, run as they are
    targets = " ".join(plan.targets)
    header = [
        "-- " + sql_comment(f"fixpack rollback captured for {plan.target_kind} {targets} ({plan.op})"),
        "-- " + sql_comment(f"of the {db.label}"),
    ]
    now = exp.Anonymous(this="UTC_TIMESTAMP", expressions=[])
    volumes: list[str] = []
    for actions in (plan.controller, *plan.extra_controllers) if db.role == "nova" else ():
        if actions is not None and actions.volumes_from_capture and actions.instance_uuid:
            volumes += comment(
                "delete_on_termination volumes, for its controller script (render/offline_doomed.py)"
            )
            volumes += offline_doomed.capture_lines(actions.instance_uuid)
    # the rollback checks the Galera limits against the biggest captured row before its first write
    limits, steps = [], []
    for number, op in enumerate(ops, 1):
        count, estimate = f"fixpack_count_{number}", f"fixpack_estimate_{number}"
        row = wsrep_check.row_estimate(db.schema.table(op.table), op.scope.tree())  # type: ignore[attr-defined]
        limits += [st.set_var(count, count_in_scope(op).subquery()), st.set_var(estimate, row)]
        steps.append((count, estimate))
    limits.append(st.set_var(wsrep_check.BYTES, wsrep_check.bytes_at(exp.Literal.number(chunk_rows), steps)))
    row_bytes = cap.concat(cap.text(f"SET @{wsrep_check.BYTES} = "), st.var(wsrep_check.BYTES))
    limits.append(st.report([("line", cap.concat(row_bytes, cap.text(";")))]))
    galera = [*wsrep_check.read_limits(), *wsrep_check.check_limits(chunk_rows, "rollback")]
    limits += _emit_statements([line for statement in galera for line in statement.split("\n")])
    checks = [
        cap.printed(st.start_transaction()),
        st.report([("line", cap.concat(cap.text(f"SET @{cap.ROWS} = "), st.var(st.SCOPE), cap.text(";")))]),
        cap.printed(st.set_var(cap.AS_CAPTURED, exp.Literal.number(0))),
    ]
    # rollback order: reverse of the apply (parents re-inserted before children)
    backwards = list(enumerate(reversed(ops), 1))
    for number, op in backwards:
        scope = op.scope  # type: ignore[attr-defined]
        checks += comment(f"is each row of rollback step {number} ({op.table}: {scope.description}) as now?")
        checks.append(cap.check_statement(op, db.schema.table(op.table)))
    restores = [st.set_var(cap.PRINTED, exp.Literal.number(0))]
    for number, op in backwards:
        scope = op.scope  # type: ignore[attr-defined]
        restores += comment(
            f"capture for rollback step {number}: {op.table} ({scope.description}); a new transaction "
            f"every {chunk_rows} rows"
        )
        restores += cap.restore_statements(op, db.schema.table(op.table), number, chunk_rows)
    return {
        "identity": identity_statements(plan, db, silent=True),
        "snapshot": [
            *session_values(plan, db, lock=False),
            *comment("rows the apply will change, all steps (one consistent snapshot)"),
            st.set_var(st.SCOPE, cap.rows_in_scope(ops)),
            *cap.refusal(plan, db),
        ],
        "rollback_banner": [
            *(cap.printed(line) for line in header),
            st.report([("line", cap.concat(cap.text("-- captured at "), now, cap.text(" UTC")))]),
        ],
        "rollback_volumes": volumes,
        "rollback_session": [cap.printed(line) for line in render("sql/_session.sql.j2").splitlines()],
        "rollback_identity": [st.report([("line", captured_database_line())]), *_emit_statements(identity)],
        "rollback_limits": limits,
        "rollback_checks": [*checks, *cap.rollback_prologue(db)],
        "rollback_restores": restores,
        "rollback_end": cap.rollback_epilogue(),
    }


def offline_files(
    plan: Plan, db: DatabaseTarget, names: dict[str, str], chunk_rows: int
) -> tuple[list[SqlFile], None]:
    """The offline strategy of render_sql: rows found at run time, a capture instead of a written rollback."""
    ops = plan.operations_for(db.role)
    bad = [op for op in ops if not isinstance(op, UpdateRows | DeleteRows) or op.scope is None]
    if bad:
        raise TypeError(f"offline plans need scoped updates/deletes, got {bad[0]!r}")
    verify = verify_file(
        [], db, plan.postconditions, identity_statements(plan, db), session_values(plan, db, lock=False)
    )
    rollback = names["rollback"]
    capture_banner = comment(
        f"run BEFORE the apply, exactly as the runbook prints it: it writes {rollback} (and its .sha256) "
        "only when this file succeeds and no capture exists yet; once the apply has run here it refuses"
    )
    return [
        SqlFile(
            "precheck",
            f"read-only: the preconditions hold in the {db.label}; how many rows each step will change",
            "read_only.sql.j2",
            _precheck(plan, db, ops),
        ),
        SqlFile(
            "capture",
            f"read-only, BEFORE the apply: print the rollback script of the {db.label} rows "
            f"(exact current values) into {rollback}",
            "capture.sql.j2",
            _capture(plan, db, ops, chunk_rows),
            banner=tuple(capture_banner),
            manifest_phase="precheck",
            produces=rollback,
        ),
        SqlFile(
            "apply",
            f"change the {db.label} rows found at run time, in guarded transactions of at most "
            f"{chunk_rows} rows",
            "offline_apply.sql.j2",
            _apply(plan, db, ops, chunk_rows),
        ),
        SqlFile(
            "verify", f"read-only: the postconditions hold in the {db.label}", "read_only.sql.j2", verify
        ),
        SqlFile(
            "rollback",
            f"restore the {db.label} rows exactly as captured before the apply (written by "
            f"{names['capture']})",
            None,
            produced_by=names["capture"],
        ),
    ], None


OFFLINE = Strategy(("precheck", "capture", "apply", "verify", "rollback"), "captured", offline_files)
