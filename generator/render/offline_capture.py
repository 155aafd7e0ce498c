"""Offline capture files: SQL that prints the rollback script of the rows an apply will change.

A capture runs (read-only, `--batch --raw --skip-column-names`) before the apply
and prints a complete rollback script. Three rules keep it from ever destroying
or faking a rollback:

* **It refuses once the apply has run here.** In the database that holds the
  target (the instance's cell, Cinder), when every postcondition of the apply
  already holds and no step finds a row, the capture prints only a refusal line
  and stops with an error: a capture taken now would record nothing. (In the
  other databases "already applied" and "nothing to do" look the same, so an
  empty capture is allowed there and its rollback says so.)
* **The rollback it prints says what it did in words.** Before restoring, the
  printed rollback counts the captured rows that are already exactly as
  captured: all of them → "nothing to roll back" (the bundle has not been applied
  here, or was rolled back already) and nothing changes; none → every row is
  restored under a ROW_COUNT() guard; some → it stops, naming the mismatch. A
  capture that found no rows prints a rollback that says "nothing to restore",
  never "every guard held".
* **Every printed line is SQL** (guards that pass print `-- ...` comments), laid
  out one value per line so `fixpack lint` holds it to the same rules as the
  files generated with the bundle.
"""

from __future__ import annotations

from sqlglot import exp

from generator.ops.operations import Operation, UpdateRows
from generator.plan.model import DatabaseTarget, Plan
from generator.render import statements as st
from generator.render.dialect import to_sql
from generator.schema.model import Table
from generator.sqlgen.literals import quote_identifier

ROWS, AS_CAPTURED, TODO = "@fixpack_rows", "@fixpack_as_captured", "@fixpack_todo"


def value_text(table: Table, column: str) -> exp.Expression:
    """SQL that prints a column's current value as a literal the rollback can hold."""
    col = table.column(column)
    ref = exp.column(column, table=table.name)
    if col.is_numeric:
        text: exp.Expression = exp.Cast(this=ref, to=exp.DataType.build("CHAR"))
    elif col.is_temporal:
        text = exp.Anonymous(
            this="CONCAT",
            expressions=[
                exp.Literal.string("'"),
                exp.Cast(this=ref, to=exp.DataType.build("CHAR")),
                exp.Literal.string("'"),
            ],
        )
    else:
        text = exp.Anonymous(
            this="CONCAT", expressions=[exp.Literal.string("X'"), exp.Hex(this=ref), exp.Literal.string("'")]
        )
    return exp.Coalesce(this=text, expressions=[exp.Literal.string("NULL")])


def text(value: str, width: int = 60) -> list[exp.Expression]:
    """A constant as several short literals (CONCAT joins them): keeps lines within the limit."""
    return [exp.Literal.string(value[i : i + width]) for i in range(0, len(value), width)] or [
        exp.Literal.string("")
    ]


def concat(*parts: exp.Expression | list[exp.Expression]) -> exp.Expression:
    flat: list[exp.Expression] = []
    for part in parts:
        flat += part if isinstance(part, list) else [part]
    return exp.Anonymous(this="CONCAT", expressions=flat)


def printed(sql_text: str) -> str:
    """A capture statement printing one fixed line of the rollback script."""
    return st.report([("line", concat(text(sql_text)))])


def _quoted(message: str) -> str:
    """A message as a SQL string literal of the printed rollback (split over short lines)."""
    pieces = [message[i : i + 70] for i in range(0, len(message), 70)]
    inner = ",\n  ".join("'" + p.replace("'", "''") + "'" for p in pieces)
    return f"CONCAT(\n  {inner}\n)"


def _key_text(table: Table) -> list[exp.Expression]:
    out: list[exp.Expression] = []
    for i, k in enumerate(table.primary_key):
        lead = "WHERE " if i == 0 else "\n  AND "
        out += [*text(f"{lead}{quote_identifier(k)} = "), value_text(table, k)]
    return out


def _guard_text(number: int, table: str) -> str:
    return (
        f"\nSELECT\n  'rollback step {number}: {table}' AS `guard`,\n"
        f"  (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (ROW_COUNT() <=> {TODO})) AS `ok`;"
    )


def _select(line: exp.Expression, op: Operation) -> str:
    scope = op.scope  # type: ignore[attr-defined]
    return to_sql(exp.select(line).from_(op.table, copy=False).where(scope.tree(), copy=False)) + ";"


def check_statement(op: Operation, table: Table) -> str:
    """Prints, per row, a statement adding 1 to @fixpack_as_captured when the row is as captured now."""
    parts: list[exp.Expression] = [
        *text(f"SET {AS_CAPTURED} = {AS_CAPTURED} + (\n  SELECT COUNT(*) FROM {quote_identifier(op.table)}"),
        *text("\n  "),
        *_key_text(table),
    ]
    if isinstance(op, UpdateRows):  # a changed row: every column the apply sets is back as captured
        for c, _ in op.assignments or ():
            parts += [*text(f"\n  AND {quote_identifier(c)} <=> "), value_text(table, c)]
    # (a deleted row: it exists again under its key)
    parts += text("\n);")
    return _select(concat(parts), op)


def restore_statement(op: Operation, table: Table, number: int) -> str:
    """Prints, per row, its guarded restore: run only when the rollback has work (@fixpack_todo = 1)."""
    if isinstance(op, UpdateRows):
        sets: list[exp.Expression] = []
        for i, (c, _) in enumerate(op.assignments or ()):
            sets += [*text(("" if i == 0 else ",") + f"\n  {quote_identifier(c)} = "), value_text(table, c)]
        line = concat(
            text(f"UPDATE {quote_identifier(op.table)} SET"),
            sets,
            text("\n"),
            _key_text(table),
            text(f"\n  AND {TODO} = 1;" + _guard_text(number, op.table)),
        )
    else:
        names: list[exp.Expression] = []
        values: list[exp.Expression] = []
        for i, c in enumerate(table.column_names):
            names += text(("" if i == 0 else ",") + f"\n  {quote_identifier(c)}")
            values += [*text("" if i == 0 else ",\n  "), value_text(table, c)]
        line = concat(
            text(f"INSERT INTO {quote_identifier(op.table)} ("),
            names,
            text("\n)\nSELECT\n  "),
            values,
            text(f"\nFROM DUAL\nWHERE {TODO} = 1;" + _guard_text(number, op.table)),
        )
    return _select(line, op)


def rows_in_scope(ops: tuple[Operation, ...]) -> exp.Expression:
    """Rows every step will change, summed (what the capture records)."""
    counts: list[exp.Expression] = [
        exp.select(exp.Count(this=exp.Star()))
        .from_(op.table, copy=False)
        .where(op.scope.tree(), copy=False)  # type: ignore[attr-defined]
        .subquery(copy=False)
        for op in ops
    ]
    total = counts[0]
    for c in counts[1:]:
        total = exp.Add(this=total, expression=c)
    return total


def target_database(plan: Plan) -> str | None:
    """The database holding the target itself (where its first precondition — it exists — is checked)."""
    return plan.preconditions[0].database if plan.preconditions else None


def refusal(plan: Plan, db: DatabaseTarget) -> list[str]:
    """Stop the capture (printing why) when the apply has already run in this database."""
    posts = [p.condition.copy() for p in plan.postconditions if p.database == db.role]
    if db.role != target_database(plan) or not posts:
        return []
    applied = exp.and_(
        *posts, exp.NullSafeEQ(this=st.var(st.SCOPE), expression=exp.Literal.number(0)), copy=False
    )
    what = f"{plan.target_kind} {' '.join(plan.targets)} ({plan.op})"
    message = (
        f"-- capture refused: the apply has already run in this database for {what} (every postcondition "
        "holds and no row is left to change), so a capture now would record nothing. Keep the rollback "
        "captured before the apply; nothing was written."
    )
    return [
        st.set_var(st.CHECK, exp.If(this=applied, true=exp.Literal.number(1), false=exp.Literal.number(0))),
        to_sql(
            exp.select(exp.alias_(concat(text(message)), "line"))
            .from_(exp.Table(this=exp.Identifier(this="DUAL", quoted=False)))
            .where(exp.EQ(this=st.var(st.CHECK), expression=exp.Literal.number(1)))
        )
        + ";",
        st.guard(
            "-- capture guard: the apply has not run here yet",
            exp.NullSafeEQ(this=st.var(st.CHECK), expression=exp.Literal.number(0)),
        ),
    ]


def rollback_prologue(db: DatabaseTarget) -> list[str]:
    """Printed after the per-row checks: say what the rollback will do, stop on mixed rows."""
    empty = (
        f"nothing to restore: the capture found no rows the apply would change in the {db.label}. "
        "If it was taken after the apply, the rows the apply changed were not recorded: restore them "
        "from your backup. Nothing changed."
    )
    unapplied = (
        f"nothing to roll back: every captured row of the {db.label} is still exactly as captured (this "
        "bundle has not been applied here, or was already rolled back). Nothing changed."
    )
    lines = [
        f"SELECT {_quoted(empty)} AS `fixpack`\nFROM DUAL\nWHERE {ROWS} = 0;",
        f"SELECT {_quoted(unapplied)} AS `fixpack`\nFROM DUAL\nWHERE {ROWS} > 0 AND {AS_CAPTURED} = {ROWS};",
        f"SELECT CONCAT(\n  {AS_CAPTURED}, ' of ', {ROWS},"
        "\n  ' captured rows are as captured, the others are not:',"
        "\n  ' some rows changed after the capture; nothing was restored'\n) AS `fixpack`"
        f"\nFROM DUAL\nWHERE {AS_CAPTURED} > 0 AND {AS_CAPTURED} < {ROWS};",
        f"SELECT\n  'rows are all as the apply left them or all as captured' AS `guard`,\n"
        "  (SELECT 1 UNION ALL SELECT 2 FROM DUAL\n"
        f"   WHERE NOT ({AS_CAPTURED} = 0 OR {AS_CAPTURED} = {ROWS})) AS `ok`;",
        f"SET {TODO} = IF({ROWS} > 0 AND {AS_CAPTURED} = 0, 1, 0);",
    ]
    return [printed(line) for line in lines]


def rollback_epilogue() -> list[str]:
    done = (
        f"SELECT CASE WHEN {TODO} = 1\n"
        f"  THEN CONCAT('rollback finished: ', {ROWS}, ' row(s) restored as captured')"
        "\n  ELSE 'rollback changed nothing (see the line above)'\nEND AS `fixpack`;"
    )
    return [printed("COMMIT;"), printed(done)]
