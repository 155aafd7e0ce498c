"""The pieces of a live database's guarded SQL files (precheck, apply, verify, rollback), and what
both strategies of render/sql.py `render_sql` share: `SqlFile`, `Strategy`, `comment()`, the
read-only checks. templates/sql/ lays the pieces out.

Live operations are cut into chunks of at most `chunk_rows` rows; each chunk
is one transaction (Galera's write-set limits, lock time). Children are
changed before parents within and across chunks because the planner orders
operations that way and chunking preserves order; rollback chunks are the
apply chunks reversed, each reversed inside, so parents come back first.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlglot import exp

from generator.ops.operations import CheckRows, Operation, ScopedOperation, split
from generator.plan.model import DatabaseTarget, Plan, Postcondition
from generator.quoting import sql_comment
from generator.render import rollback_evidence as ev
from generator.render import statements as st
from generator.render.dml import dml_for
from generator.render.guards import StepGuard, guard_for
from generator.render.messages import NOTHING_TO_ROLL_BACK
from generator.render.writeset import ChunkSizing, op_bytes
from generator.sqlgen.literals import literal_node


@dataclass(frozen=True)
class Step:
    number: int
    op: Operation
    guard: StepGuard

    @property
    def label(self) -> str:
        return f"step {self.number}: {self.op.table}"


@dataclass(frozen=True)
class Chunk:
    number: int
    steps: tuple[Step, ...]

    @property
    def rows(self) -> int:
        return sum(s.op.row_count or 0 for s in self.steps)


def _pieces(op: Operation, size: int) -> list[tuple[Operation, int | None, int | None]]:
    """Split an op; each piece with the scope count its guard expects then, and initially."""
    pieces = split(op, size)
    if not isinstance(op, ScopedOperation) or op.scope is None:
        return [(p, None, None) for p in pieces]
    total = op.scope_count
    if total is None:
        total = op.row_count or 0
    stays = op.stays_in_scope
    out: list[tuple[Operation, int | None, int | None]] = []
    done = 0
    for piece in pieces:
        out.append((piece, total if stays else total - done, total))
        done += piece.row_count or 0
    return out


def build_chunks(
    ops: tuple[Operation, ...], plan_db: DatabaseTarget, size: int, max_bytes: int | None = None
) -> list[Chunk]:
    """Chunks of at most `size` rows (all steps, all tables) and, on Galera, `max_bytes` estimated
    write-set bytes (render/writeset.py)."""
    sizing = ChunkSizing(size, size, max_bytes)
    chunks: list[Chunk] = []
    current: list[Step] = []
    rows = nbytes = 0
    number = 0
    for op in ops:
        table = plan_db.schema.table(op.table)
        for piece, scope_expect, scope_initial in _pieces(op, sizing.piece_rows(op)):
            n = piece.row_count or 0
            b = op_bytes(piece) if max_bytes is not None else 0
            if current and (rows + n > size or (max_bytes is not None and nbytes + b > max_bytes)):
                chunks.append(Chunk(len(chunks) + 1, tuple(current)))
                current, rows, nbytes = [], 0, 0
            number += 1
            scope = getattr(piece, "scope", None)
            current.append(
                Step(
                    number,
                    piece,
                    guard_for(
                        piece, table, scope=scope, scope_expect=scope_expect, scope_initial=scope_initial
                    ),
                )
            )
            rows += n
            nbytes += b
    if current:
        chunks.append(Chunk(len(chunks) + 1, tuple(current)))
    return chunks


def reverse_chunks(chunks: list[Chunk], plan_db: DatabaseTarget) -> list[Chunk]:
    out: list[Chunk] = []
    number = 0
    for chunk in reversed(chunks):
        steps = []
        for step in reversed(chunk.steps):
            back = step.op.reverse()
            if back is None:
                continue
            number += 1
            table = plan_db.schema.table(back.table)
            steps.append(Step(number, back, guard_for(back, table, scope=None, scope_expect=None)))
        if steps:
            out.append(Chunk(len(out) + 1, tuple(steps)))
    return out


# -- file bodies: the pieces templates/sql/ lays out (render/sql.py render_sql renders them) -----------
@dataclass(frozen=True)
class SqlFile:
    """One SQL file of a database as a strategy writes it (live: render/sql.py, offline: render/offline.py);
    render_sql names, numbers and heads it and renders templates/sql/<template> with `context`."""

    phase: str  # the file name's word: precheck | capture | apply | verify | rollback
    purpose: str
    template: str | None  # None: written at run time (an offline rollback, by its capture)
    context: dict = field(default_factory=dict)
    banner: tuple[str, ...] = ()  # comment lines after the plan's banner
    manifest_phase: str | None = None  # when it is not `phase` (a capture runs in the precheck phase)
    rows: int | None = None
    produces: str | None = None
    produced_by: str | None = None


class Strategy(NamedTuple):
    """How a mode writes a database's files: its phases in run order, where its rollback is, and
    `files(plan, db, names, chunk_rows)` -> (SqlFiles, guard index of the database or None)."""

    phases: tuple[str, ...]
    rollback_dir: str
    files: Callable[[Plan, DatabaseTarget, dict[str, str], int], tuple[list[SqlFile], dict | None]]


def comment(text: str) -> list[str]:
    """A `--` comment wrapped to the line limit; values in `text` are escaped (quoting.sql_comment)."""
    safe = sql_comment(text)
    return ["-- " + line for line in textwrap.wrap(safe, width=112, subsequent_indent="  ")] or ["--"]


def checked(word: str, conditions: Sequence[Postcondition], db: DatabaseTarget) -> list[str]:
    """Guards that stop the client unless each condition of `db` holds (pre- or postconditions)."""
    out: list[str] = []
    for c in (c for c in conditions if c.database == db.role):
        out += [*comment(f"{word}: {c.description}"), st.guard(c.description, c.condition.copy())]
    return out


def read_only(identity: Sequence[str], checks: list[str], outcome: str) -> dict:
    """templates/sql/read_only.sql.j2: the checks of a precheck or verify, then its last line."""
    return {
        "identity": identity,
        "checks": checks,
        "outcome": st.report([("fixpack", literal_node(outcome))]),
    }


def _describe(step: Step, total: int) -> list[str]:
    """The `-- describe()` banner of a step, wrapped to the line limit."""
    op = step.op
    rows = f"{op.row_count} row{'s' if op.row_count != 1 else ''}" if op.row_count is not None else "rows"
    verb = {
        "UpdateRows": "update",
        "DeleteRows": "delete",
        "InsertRows": "insert",
        "CheckRows": "check (no change)",
    }[type(op).__name__]
    text = f"describe(): step {step.number}/{total} — {verb} {rows} of {op.table}: {op.describe()}"
    return comment(text)


def _check_step(step: Step, plan_db: DatabaseTarget) -> list[str]:
    table = plan_db.schema.table(step.op.table)
    return [
        *step.guard.measure(table, lock=True),
        st.set_var(st.CHECK, step.guard.state_expression()),
        st.guard(
            f"{step.label}: rows unchanged since generation",
            exp.NullSafeEQ(this=st.var(st.CHECK), expression=exp.Literal.string("ok")),
        ),
    ]


def _change_step(step: Step, plan_db: DatabaseTarget, rollback: bool = False) -> list[str]:
    """One guarded change; in a rollback, a chunk found never applied (`@fixpack_skip`) changes nothing."""
    table = plan_db.schema.table(step.op.table)
    dml, expected = dml_for(step.op, table)
    consistent: exp.Expr = exp.and_(
        st.state_is("pending", "done"), exp.NullSafeEQ(this=st.var(st.STATE), expression=st.var(st.CHUNK))
    )
    state, done = step.guard.state_expression(), step.guard.done_holds(changed_only=True)
    if rollback:
        consistent, done = ev.unless_skipped(consistent), ev.unless_skipped(done)
        state = ev.state_or_skip(state)
    if len(dml) == 2:  # one statement: its ROW_COUNT() is the count
        dml = [dml[0], st.set_var(st.RC, exp.Anonymous(this="ROW_COUNT", expressions=[]))]
    else:
        dml = [st.set_var(st.RC, exp.Literal.number(0)), *dml]
    changed = exp.NullSafeEQ(this=st.var(st.RC), expression=st.expected_rows(expected))
    return [
        *step.guard.measure(table, lock=True),
        st.set_var(st.STATE, state),
        st.set_var(st.CHUNK, exp.Coalesce(this=st.var(st.CHUNK), expressions=[st.var(st.STATE)])),
        st.report([("step", literal_node(step.label)), ("state", st.var(st.STATE))]),
        st.guard(f"{step.label}: rows are as at generation (or the step is already done)", consistent),
        *dml,
        step.guard.remeasure_changed(table),
        st.guard(
            f"{step.label}: changed {expected} row(s) if pending, none if done; "
            "rows now match the planned result",
            exp.and_(changed, exp.Paren(this=done), copy=False),
        ),
    ]


def changes_file(chunks: list[Chunk], plan_db: DatabaseTarget, what: str, identity: Sequence[str]) -> dict:
    """templates/sql/changes.sql.j2, apply or rollback: one transaction per chunk, every step guarded."""
    total = sum(len(c.steps) for c in chunks)
    rollback = what == "rollback"
    counters = [st.set_var(CHANGED, exp.Literal.number(0))]
    counters += [st.set_var(ev.SKIPPED, exp.Literal.number(0))] if rollback else []
    laid: list[dict] = []
    for chunk in chunks:
        undoes = len(chunks) + 1 - chunk.number  # rollback chunk k undoes apply chunk N+1-k
        evidence: list[str] = []
        if rollback:
            evidence = comment(f"was apply chunk {undoes} committed? (render/rollback_evidence.py)")
            steps = [(s.op, s.guard, plan_db.schema.table(s.op.table)) for s in chunk.steps]
            evidence += ev.chunk_evidence(steps, chunk.rows)
        ifs = [exp.If(this=_chunk_pending(), true=exp.Literal.string("applied"))]
        if rollback:
            never = f"{ev.NOT_APPLIED}, nothing to undo (apply chunk {undoes} was never committed)"
            ifs.append(exp.If(this=ev.skipping(), true=literal_node(never)))
        outcome = exp.Case(ifs=ifs, default=exp.Literal.string("already done; nothing changed"))
        tally = [
            st.report(
                [("chunk", literal_node(f"{what} chunk {chunk.number}/{len(chunks)}")), ("result", outcome)]
            ),
            st.set_var(CHANGED, _plus_pending()),
        ]
        if rollback:
            tally.append(st.set_var(ev.SKIPPED, exp.Add(this=st.var(ev.SKIPPED), expression=st.var(ev.SKIP))))
        body = [
            _describe(step, total)
            + (
                _check_step(step, plan_db)
                if isinstance(step.op, CheckRows)
                else _change_step(step, plan_db, rollback)
            )
            for step in chunk.steps
        ]
        laid.append({"steps": body, "rows": chunk.rows, "evidence": evidence, "tally": tally})
    return {
        "identity": identity,
        "counters": counters,
        "chunk_setup": [
            st.set_var(st.CHUNK, exp.Null()),
            st.set_var(st.NOW, exp.Anonymous(this="UTC_TIMESTAMP", expressions=[])),
        ],
        "chunks": laid,
        "outcome": st.report([("fixpack", _outcome(what))]),
    }


CHANGED = "fixpack_changed"  # chunks a changes file found pending (and so changed)


def _chunk_pending() -> exp.Expr:
    return exp.EQ(this=st.var(st.CHUNK), expression=exp.Literal.string("pending"))


def _plus_pending() -> exp.Expr:
    pending = exp.If(this=_chunk_pending(), true=exp.Literal.number(1), false=exp.Literal.number(0))
    return exp.Add(this=st.var(CHANGED), expression=pending)


def _outcome(what: str) -> exp.Expr:
    """The last line, in words: what a rollback restored, what it found never applied, or nothing."""
    finished = literal_node(f"{what} finished: every guard held")
    if what != "rollback":
        return finished

    def text(*parts: exp.Expr | str) -> exp.Expr:
        nodes = [literal_node(p) if isinstance(p, str) else p for p in parts]
        return exp.Anonymous(this="CONCAT", expressions=nodes)

    def positive(name: str) -> exp.Expr:
        return exp.GT(this=st.var(name), expression=exp.Literal.number(0))

    partial = text(
        "rollback finished: ", st.var(CHANGED), " chunk(s) restored (every row the apply had committed "
        "is as before); ", st.var(ev.SKIPPED), " chunk(s) were never applied: nothing to undo there; "
        "every guard held",
    )  # fmt: skip
    never = text(
        "nothing to roll back: every chunk is as before the apply or was never applied (",
        st.var(ev.SKIPPED), " chunk(s) never applied; rows in them changed since generation are left ",
        "as they are); nothing changed",
    )  # fmt: skip
    nothing = literal_node(NOTHING_TO_ROLL_BACK)
    none_applied = exp.If(this=positive(ev.SKIPPED), true=never, false=nothing)
    some_applied = exp.If(this=positive(ev.SKIPPED), true=partial, false=finished)
    return exp.If(this=positive(CHANGED), true=some_applied, false=none_applied)


def precheck_file(chunks: list[Chunk], plan_db: DatabaseTarget, identity: Sequence[str]) -> dict:
    """Read-only: would every step apply right now? (no locks, one consistent snapshot)"""
    checks: list[str] = []
    for step in (s for c in chunks for s in c.steps):
        table = plan_db.schema.table(step.op.table)
        checks += comment(f"{step.label}: {step.op.describe()}")
        checks += step.guard.measure(table, lock=False)
        checks.append(st.set_var(st.STATE, step.guard.state_expression(initial=True)))
        checks.append(st.report([("step", literal_node(step.label)), ("state", st.var(st.STATE))]))
        wanted = "ok" if step.guard.check_only else "pending"
        checks.append(
            st.guard(
                f"{step.label}: still as at generation",
                exp.NullSafeEQ(this=st.var(st.STATE), expression=exp.Literal.string(wanted)),
            )
        )
    return read_only(identity, checks, "precheck passed: the apply step will run")


def verify_file(
    chunks: list[Chunk],
    plan_db: DatabaseTarget,
    postconditions: Sequence[Postcondition],
    identity: Sequence[str],
    preamble: Sequence[str] = (),
) -> dict:
    """Read-only: after the apply, every changed row is exactly the planned result. `preamble`:
    statements right after START TRANSACTION (an offline plan's session values)."""
    checks = list(preamble)
    for step in (s for c in chunks for s in c.steps if not s.guard.check_only):
        checks += comment(f"{step.label}: {step.op.describe()}")
        checks.append(step.guard.remeasure_after(plan_db.schema.table(step.op.table)))
        checks.append(st.guard(f"{step.label}: rows match the planned result", step.guard.done_holds()))
    checks += checked("postcondition", postconditions, plan_db)
    return read_only(identity, checks, "verify passed")
