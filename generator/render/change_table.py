"""The change table at the top of the runbook: every row the bundle changes, for a reviewer to sign.

A reviewer should not have to read guarded SQL to know what a bundle does. This
module turns the Plan's operations into one table (and the same data as JSON
for machines, `fixpack vm … --format json`):

* live bundles: every row, grouped by database and step with counts — for an
  update each changed column `before → after` (a column set at apply time reads
  `time of apply`), for a delete or insert the row's key and a short summary;
* offline bundles (no rows read): each step's scope in words and SQL, what it
  sets, and the precheck line that will print how many rows it selects.

Values are untrusted database contents: each is masked first (generator.secrets,
so a CHAP password reads `***`), shortened when long (the first 40 characters,
`…`, and the first 12 hex digits of the sha256 of the whole value as shown, so a
reviewer can still tell two long values apart), and reaches Markdown only through
`md_code`/`md_text`. Steps are numbered per database in apply order, the way the
offline precheck numbers them. Pure: a Plan in, text or a dict out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from generator.ops.dispatch import Dispatch
from generator.ops.operations import (
    ApplyTime,
    Assignment,
    CheckRows,
    CopyColumn,
    DeleteRows,
    FromQuery,
    InsertRows,
    Operation,
    ScopedOperation,
    SetValue,
    UpdateRows,
)
from generator.ops.rows import Row
from generator.plan.model import Plan
from generator.quoting import md_code, md_text
from generator.secrets import mask_value

SHORT = 40  # characters of a long value shown before its hash
HASH_DIGITS = 12
SUMMARY_COLUMNS = 3  # non-key columns shown for a deleted, inserted or checked row
AT_APPLY = "time of apply"
_NOT_SUMMARY = frozenset({"created_at", "updated_at", "deleted_at", "deleted"})


def shown(column: str | None, value: Any) -> str | None:
    """A value as the table shows it: masked, one text, long ones cut with a hash. None is SQL NULL."""
    if value is None:
        return None
    value = mask_value(column, value)
    if isinstance(value, bytes | bytearray):
        try:
            text = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            text = "0x" + bytes(value).hex()
    elif isinstance(value, bool):
        text = str(int(value))
    elif isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ")
    else:
        text = str(value)
    if len(text) <= SHORT:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_DIGITS]
    return f"{text[:SHORT]}… [sha256:{digest}]"


@dataclass(frozen=True)
class ColumnChange:
    column: str
    before: str | None
    after: str | None  # None with at_apply: the time the apply runs
    at_apply: bool = False


@dataclass(frozen=True)
class RowEntry:
    key: tuple[tuple[str, str | None], ...]
    changes: tuple[ColumnChange, ...] = ()  # updates
    summary: tuple[tuple[str, str | None], ...] = ()  # deletes, inserts, checks


@dataclass(frozen=True)
class StepEntry:
    database: str  # role
    database_name: str | None  # the name at generation (live)
    number: int  # within its database, in apply order
    table: str
    action: str  # update | delete | insert | check
    purpose: str
    count: int | None  # rows (live); None offline: the precheck counts them
    rows: tuple[RowEntry, ...] = ()
    scope: str | None = None  # offline: the rows it selects, in words
    scope_sql: str | None = None
    sets: tuple[tuple[str, str], ...] = ()  # offline updates: column, what it is set to


@dataclass(frozen=True)
class ChangeTable:
    mode: str
    steps: tuple[StepEntry, ...]

    @property
    def changed_rows(self) -> int:
        return sum(s.count or 0 for s in self.steps if s.action != "check")


def _key(row: Row, key: tuple[str, ...]) -> tuple[tuple[str, str | None], ...]:
    return tuple((c, shown(c, row[c])) for c in key)


def _summary(row: Row, key: tuple[str, ...]) -> tuple[tuple[str, str | None], ...]:
    cols = [c for c in row.columns if c not in key and c not in _NOT_SUMMARY and row[c] is not None]
    return tuple((c, shown(c, row[c])) for c in cols[:SUMMARY_COLUMNS])


def _update_rows(op: UpdateRows) -> tuple[RowEntry, ...]:
    at_apply = op.apply_time_columns
    out = []
    for change in op.changes or ():
        before, after = change.before, change.after
        cols = [c for c in before.columns if c in at_apply or before[c] != after[c]]
        out.append(
            RowEntry(
                _key(before, op.key),
                changes=tuple(
                    ColumnChange(c, shown(c, before[c]), None, True)
                    if c in at_apply
                    else ColumnChange(c, shown(c, before[c]), shown(c, after[c]))
                    for c in cols
                ),
            )
        )
    return tuple(out)


def _assignment_words(assignment: Assignment, column: str) -> str:
    if isinstance(assignment, SetValue):
        return "NULL" if assignment.value is None else f"{shown(column, assignment.value)}"
    if isinstance(assignment, CopyColumn):
        return f"its own {assignment.column}"
    if isinstance(assignment, ApplyTime):
        return AT_APPLY
    if isinstance(assignment, FromQuery):
        return f"read at apply time: {assignment.description or 'a subquery'}"
    return "?"


def _update_sets(op: UpdateRows) -> tuple[tuple[str, str], ...]:
    return tuple((c, _assignment_words(a, c)) for c, a in op.assignments or ())


def _no_sets(op: Operation) -> tuple[tuple[str, str], ...]:
    return ()


def _row_summaries(op: DeleteRows | InsertRows | CheckRows) -> tuple[RowEntry, ...]:
    return tuple(RowEntry(_key(r, op.key), summary=_summary(r, op.key)) for r in op.rows or ())


@dataclass(frozen=True)
class _Kind:
    """How the table shows one kind of step."""

    action: str  # update | delete | insert | check
    rows: Callable[[Any], tuple[RowEntry, ...]]  # live: its rows
    sets: Callable[[Any], tuple[tuple[str, str], ...]] = _no_sets  # offline: column, what it is set to


STEPS: Dispatch[_Kind] = Dispatch("change-table entry")
STEPS.register(UpdateRows)(_Kind("update", _update_rows, _update_sets))
STEPS.register(DeleteRows)(_Kind("delete", _row_summaries))
STEPS.register(InsertRows)(_Kind("insert", _row_summaries))
STEPS.register(CheckRows)(_Kind("check", _row_summaries))


def _step(plan: Plan, op: Operation, number: int) -> StepEntry:
    db = plan.database(op.database)
    kind = STEPS.of(op)
    base = dict(
        database=op.database,
        database_name=db.database,
        number=number,
        table=op.table,
        action=kind.action,
        purpose=op.describe(),
        count=op.row_count,
    )
    scope = op.scope if isinstance(op, ScopedOperation) else None
    if plan.mode == "offline" or op.row_count is None:
        return StepEntry(
            **base,  # type: ignore[arg-type]
            scope=scope.description if scope is not None else None,
            scope_sql=re.sub(r"\s*\n\s*", " ", scope.sql) if scope is not None else None,
            sets=kind.sets(op),
        )
    return StepEntry(**base, rows=kind.rows(op))  # type: ignore[arg-type]


def build(plan: Plan) -> ChangeTable:
    """The change table of a plan: one step per operation, numbered per database."""
    steps = []
    for db in plan.databases:
        for number, op in enumerate(plan.operations_for(db.role), 1):
            steps.append(_step(plan, op, number))
    return ChangeTable(plan.mode, tuple(steps))


# -- JSON ------------------------------------------------------------------------------------
def as_json(table: ChangeTable, digest: str) -> dict[str, Any]:
    """The table for machines: the same steps, rows and counts, with stable key names."""
    steps = []
    for s in table.steps:
        entry: dict[str, Any] = {
            "database": s.database,
            "database_name": s.database_name,
            "step": s.number,
            "table": s.table,
            "action": s.action,
            "purpose": s.purpose,
            "rows": s.count,
        }
        if table.mode == "offline" or s.count is None:
            entry.update(
                scope=s.scope,
                scope_sql=s.scope_sql,
                sets=dict(s.sets),
                precheck_prints=f"step {s.number}: {s.table}",
            )
        else:
            entry["changes"] = [
                {
                    "key": dict(r.key),
                    **(
                        {"columns": {c.column: _json_change(c) for c in r.changes}}
                        if s.action == "update"
                        else {"summary": dict(r.summary)}
                    ),
                }
                for r in s.rows
            ]
        steps.append(entry)
    return {"digest": digest, "mode": table.mode, "changed_rows": table.changed_rows, "steps": steps}


def _json_change(c: ColumnChange) -> dict[str, Any]:
    return {"before": c.before, "after": c.after, **({"at_apply": True} if c.at_apply else {})}


# -- Markdown --------------------------------------------------------------------------------
def _cell(value: str | None) -> str:
    return "NULL" if value is None else md_code(value, in_table=True)


def _pairs(pairs: tuple[tuple[str, str | None], ...]) -> str:
    return ", ".join(f"{md_text(c)}={_cell(v)}" for c, v in pairs)


def _where(s: StepEntry) -> str:
    name = f" {md_code(s.database_name, in_table=True)}" if s.database_name else ""
    return f"`db:{s.database}`{name}"


def _row_text(s: StepEntry, row: RowEntry) -> str:
    if s.action == "update":
        parts = [
            f"{md_text(c.column)}: {_cell(c.before)} → {AT_APPLY if c.at_apply else _cell(c.after)}"
            for c in row.changes
        ]
        return "; ".join(parts) or "no value changes"
    label = {"delete": "DELETE", "insert": "INSERT", "check": "CHECK (locked, not changed)"}.get(s.action, "")
    return f"{label}: {_pairs(row.summary)}" if row.summary else label


def to_markdown(table: ChangeTable, digest: str) -> str:
    """The section for the top of the runbook (ends with a newline). The verify command is the one
    the runbook runs: from inside the bundle, which it names `.`."""
    verify = f"fixpack verify . --expect {digest}"
    out = [
        "## Change table (sign this)",
        "",
        f"Bundle digest: `{digest}`. `{verify}` fails unless every file of the bundle on disk is byte for "
        "byte the one this table was reviewed in.",
        "",
    ]
    if table.mode == "offline":
        out += _offline(table)
    else:
        out += _live(table)
    return "\n".join(out) + "\n"


def _live(table: ChangeTable) -> list[str]:
    out = [
        f"**{table.changed_rows} row(s) change, in {len(table.steps)} step(s)**, as read at generation. "
        f"Values: NULL is SQL NULL, secrets read `***`, a value over {SHORT} characters shows its start "
        "and the sha256 of the whole value as shown.",
        "",
        "| database | step | table | action | rows | why |",
        "|---|---|---|---|---|---|",
    ]
    out += [
        f"| {_where(s)} | {s.number} | {md_text(s.table)} | {s.action} | {s.count} | {md_text(s.purpose)} |"
        for s in table.steps
    ]
    out += ["", "| database | step | table | key | before → after (update) / row (delete, insert) |"]
    out.append("|---|---|---|---|---|")
    for s in table.steps:
        out += [
            f"| `db:{s.database}` | {s.number} | {md_text(s.table)} | {_pairs(r.key)} | {_row_text(s, r)} |"
            for r in s.rows
        ]
    return out


def _offline(table: ChangeTable) -> list[str]:
    out = [
        "**Offline generation: no rows were read.** Each step changes the rows its scope selects when it "
        "runs. The precheck of each database prints one `step N: table` line per step with `rows_to_change`, "
        "the number of rows it will change: check those numbers before the apply.",
        "",
        "| database | step | table | action | rows it selects | scope (SQL) | sets | precheck prints |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in table.steps:
        sets = ", ".join(f"{md_text(c)} = {md_text(v)}" for c, v in s.sets) or "-"
        scope_sql = md_code(s.scope_sql, in_table=True) if s.scope_sql else "-"
        counted = md_code(f"step {s.number}: {s.table}", in_table=True)
        out.append(
            f"| {_where(s)} | {s.number} | {md_text(s.table)} | {s.action} | {md_text(s.scope or '-')} | "
            f"{scope_sql} | {sets} | {counted} `rows_to_change` |"
        )
    return out
