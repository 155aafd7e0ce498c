"""The outcome of an offline rehost, decided when the cell file runs.

A live rehost reads the instance's open move at generation and infers its outcome from
`--to-host` (vm_rehost_outcome.infer). An offline bundle has no rows at generation, so the
same rule is SQL: the open move is the newest of the instance's live migrations still in
progress (nova.MIGRATION_IN_PROGRESS, read when the file runs), and each outcome's steps
carry a scope that only matches when that move's destination (completed) or source
(reverted) is the target, and its migration type is the one the step is for. Only the
matching outcome's rows change; a precondition stops the file when the move matches neither
end (unless --allow-unknown-outcome was given at generation). The move is read once per
transaction into session variables (`session_values`: the plan's SessionValues) that the scopes
compare: repeating its subquery in every statement that reads a scope made the bundle 10,719 lines.

What the cell alone cannot tell: live also ends an 'error'/'failed' migration whose placement
consumer still holds allocations (placement is another database); offline such a move is not
open, and the rehost only points the instance at the target (the bundle's warning says so).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from generator.domain import nova
from generator.ops.operations import DeleteRows, Operation
from generator.plan import builders as b
from generator.plan.model import SessionValue
from generator.plan.vm_rehost_states import When, Write
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.builders import parse, parse_query
from generator.sqlgen.literals import sql_literal

# migrations.migration_type; rows from before the column: a resize if the flavor changed (move_type)
# The open move, read once per transaction into session variables (SessionValue, rendered after each
# START TRANSACTION; in the apply a locking read, re-read every round): its id (NULL: none), how it
# ends for --to-host/--to-node, its type. The same as each statement reading the move itself, as the
# plan changes the move's status only in its end steps, the last of a round (vm_offline_rehost), and
# other migrations only below the move's id: a later round or a re-run reads the move closed.
MOVE_ID, MOVE_END, MOVE_TYPE = "fixpack_move_id", "fixpack_move_end", "fixpack_move_type"


def _var(name: str) -> str:
    return f"@{name}"


def _type(t: str) -> str:
    return (
        f"COALESCE({t}migration_type, IF({t}old_instance_type_id <=> {t}new_instance_type_id, "
        "'migration', 'resize'))"
    )


def open_sql(u: str, alias: str = "") -> str:
    """SQL text on a migrations row (of `alias`): an unfinished migration of the instance."""
    t = f"{alias}." if alias else ""
    statuses = ", ".join(sql_literal(s) for s in nova.MIGRATION_IN_PROGRESS)
    return f"{t}instance_uuid = {sql_literal(u)} AND {t}deleted = 0 AND {t}status IN ({statuses})"


def newest_open_id(u: str) -> str:
    """SQL text: the id of the instance's open move (NULL when there is none), as read at the
    start of the transaction (session_values)."""
    return _var(MOVE_ID)


def _ends(host: str, node: str, t: str) -> tuple[str, str]:
    h, n = sql_literal(host), sql_literal(node)
    dest = f"({t}dest_compute <=> {h} AND ({t}dest_node IS NULL OR {t}dest_node <=> {n}))"
    source = f"({t}source_compute <=> {h} AND ({t}source_node IS NULL OR {t}source_node <=> {n}))"
    return dest, source


def outcome_sql(
    kind: str, host: str, node: str, moves: tuple[str, ...] | None = None, alias: str = ""
) -> str:
    """SQL text on a migrations row: it ends as `kind` (completed / reverted / unknown) for
    `--to-host host --to-node node`, and is one of the migration types `moves` (any if None).
    The destination wins, as in vm_rehost_outcome.infer."""
    t = f"{alias}." if alias else ""
    dest, source = _ends(host, node, t)
    cond = {
        "completed": dest,
        "reverted": f"NOT {dest} AND {source}",
        "unknown": f"NOT {dest} AND NOT {source}",
    }[kind]
    if moves is not None:
        cond += f" AND {_type(t)} IN ({', '.join(sql_literal(m) for m in moves)})"
    return cond


def session_values(u: str, host: str, node: str) -> tuple[SessionValue, ...]:
    """The open move's id, end (outcome_sql's three cases, destination first) and type."""
    dest, source = _ends(host, node, "")
    end = f"CASE WHEN {dest} THEN 'completed' WHEN {source} THEN 'reverted' ELSE 'unknown' END"
    of_move = f"FROM migrations WHERE id = {_var(MOVE_ID)}"
    return (
        SessionValue(
            "nova",
            MOVE_ID,
            parse_query(f"SELECT MAX(id) FROM migrations WHERE {open_sql(u)}"),
            f"the id of instance {u}'s open move, its newest unfinished migration (NULL: none)",
        ),
        SessionValue(
            "nova",
            MOVE_END,
            parse_query(f"SELECT {end} {of_move}"),
            f"how the open move ends for {host} / {node}: 'completed' (its destination), 'reverted' "
            "(its source) or 'unknown'",
        ),
        SessionValue(
            "nova", MOVE_TYPE, parse_query(f"SELECT {_type('')} {of_move}"), "the open move's migration type"
        ),
    )


def _move_ends(kind: str, moves: tuple[str, ...] | None) -> str:
    cond = f"{_var(MOVE_END)} <=> {sql_literal(kind)}"
    if moves is not None:  # the type is never NULL when the move exists
        cond += f" AND {_var(MOVE_TYPE)} IN ({', '.join(sql_literal(m) for m in moves)})"
    return cond


def move_is(u: str, kind: str, host: str, node: str, moves: tuple[str, ...] | None = None) -> exp.Expr:
    """Condition: the instance's open move exists and ends as `kind` (of one of `moves`); never
    NULL (no move: false), so NOT of it holds when there is none."""
    return parse(f"({_move_ends(kind, moves)})")


def the_move(u: str, kind: str, host: str, node: str, moves: tuple[str, ...]) -> exp.Expr:
    """Condition on a migrations row: it is the instance's open move, ending as `kind`."""
    return parse(f"{open_sql(u)} AND id = {_var(MOVE_ID)} AND {_move_ends(kind, moves)}")


def older_open(u: str) -> exp.Expr:
    """Condition on a migrations row: an unfinished migration of the instance other than its open move."""
    return parse(f"{open_sql(u)} AND id < {newest_open_id(u)}")


def flavor_value(u: str, which: str, key: str) -> str:
    """SQL text: a field of the instance_extra.flavor `which` ('old'/'new') flavor object."""
    path = sql_literal(f'$.{which}."nova_object.data".{key}')
    return (
        f"SELECT JSON_VALUE(flavor, {path}) FROM instance_extra WHERE instance_uuid = {sql_literal(u)} "
        "AND deleted = 0 AND JSON_VALID(flavor)"
    )


def reverted_vm_state(u: str) -> str:
    """SQL text: finish_revert_resize's vm_state ('stopped' if old_vm_state says so, else active)."""
    return (
        "SELECT IF(EXISTS (SELECT 1 FROM instance_system_metadata WHERE "
        f"instance_uuid = {sql_literal(u)} AND deleted = 0 AND `key` = 'old_vm_state' "
        "AND value = 'stopped'), 'stopped', 'active')"
    )


@dataclass(frozen=True)
class Run:
    """An offline rehost: the cell's schema, the instance, --to-host and --to-node."""

    cell: SchemaSnapshot
    u: str
    host: str
    node: str

    def move_is(self, when: When) -> exp.Expr:
        """The condition for a declared write's outcome: offline there are no rows at generation,
        so the outcome is what the file reads when it runs (the @fixpack_move_* session values)
        and every outcome's writes are in the file, each scoped by this."""
        return move_is(self.u, when.kind, self.host, self.node, when.moves)

    def emit(self, w: Write, describe: str, *more: exp.Expr) -> Operation:
        """A declared write (vm_rehost_states) as the scope the file changes at run time: the
        instance's rows `w.rows` keep, while the open move ends `w.when`, and `more` (what still
        needs the change)."""
        key = "uuid" if w.table == "instances" else "instance_uuid"
        when = [self.move_is(w.when)] if w.when is not None else []
        scope = b.scope_where(describe, b.eq(key, self.u), *w.rows, *when, *more)
        if w.assignments:
            return b.offline_update("nova", self.cell, w.table, w.changes, scope, w.purpose)
        return DeleteRows("nova", w.table, self.cell.table(w.table).primary_key, w.purpose, scope=scope)
