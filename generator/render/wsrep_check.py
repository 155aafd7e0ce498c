"""Run-time check of Galera's write-set limits, before a file's first write.

A bundle run on a Galera node whose `wsrep_max_ws_rows` / `wsrep_max_ws_size` a
chunk would exceed fails that chunk with ERROR 1180 after earlier chunks have
committed. An offline bundle cannot know the limits at generation, so its apply reads
them first and stops — printing the chunk size, the limit and how to regenerate —
before anything is changed.

Reading them must work on every server the bundle may meet: MariaDB (with or without
Galera) lists them in `information_schema.GLOBAL_VARIABLES`; MySQL 8 (and Percona
XtraDB Cluster 8) has no such table but `performance_schema.global_variables`; plain
MySQL has no wsrep variables at all (`@@wsrep_on` would be an error there). So the
file asks `information_schema.TABLES` which of the two tables exists and runs one of
two fixed statements — both written out below, as constants — through
PREPARE/EXECUTE. A variable the server does not have reads as NULL: no limit.
"""

from __future__ import annotations

from sqlglot import exp

from generator.render import statements as st
from generator.render.dialect import dual, to_sql
from generator.render.writeset import COLUMN_OVERHEAD, MARGIN, ROW_OVERHEAD
from generator.schema.model import Table

ON, ROWS, SIZE = "fixpack_ws_on", "fixpack_ws_rows", "fixpack_ws_size"
ROW_BYTES, QUERY, REFUSE = "fixpack_row_bytes", "fixpack_ws_query", "fixpack_ws_refuse"
STATEMENT = "fixpack_ws_read"  # a prepared statement name: sqlfluff cannot parse it quoted


def _read_from(table: str) -> str:
    """`SET @on = (…), @rows = (…), @size = (…)` from one variables table (lower-cased names)."""

    def value(name: str) -> exp.Expression:
        query = (
            exp.select(exp.column("VARIABLE_VALUE"))
            .from_(exp.to_table(table))
            .where(
                exp.EQ(this=exp.Lower(this=exp.column("VARIABLE_NAME")), expression=exp.Literal.string(name))
            )
        )
        return query.subquery()

    items = [
        exp.SetItem(this=exp.EQ(this=st.var(var), expression=value(name)))
        for var, name in ((ON, "wsrep_on"), (ROWS, "wsrep_max_ws_rows"), (SIZE, "wsrep_max_ws_size"))
    ]
    return exp.Set(expressions=items, unset=False, tag=False).sql(dialect="mysql")


def _constant(text: str) -> exp.Expression:
    """A fixed statement text as CONCAT of short plain literals: readable, and within the line limit."""
    pieces, current = [], ""
    for word in text.split(" "):
        if current and len(current) + len(word) > 70:
            pieces.append(current)
            current = ""
        current += word + " "
    pieces.append(current.rstrip(" "))
    return exp.Anonymous(this="CONCAT", expressions=[exp.Literal.string(p) for p in pieces])


def read_limits() -> list[str]:
    """Statements leaving @fixpack_ws_on / _rows / _size set (NULL where the server has none)."""
    has_is = (
        exp.select(exp.Count(this=exp.Star()))
        .from_(exp.to_table("information_schema.TABLES"))
        .where(
            exp.and_(
                exp.EQ(this=exp.column("TABLE_SCHEMA"), expression=exp.Literal.string("information_schema")),
                exp.EQ(this=exp.column("TABLE_NAME"), expression=exp.Literal.string("GLOBAL_VARIABLES")),
            )
        )
    )
    choose = exp.If(
        this=exp.GT(this=has_is.subquery(), expression=exp.Literal.number(0)),
        true=_constant(_read_from("information_schema.GLOBAL_VARIABLES")),
        false=_constant(_read_from("performance_schema.global_variables")),
    )
    return [
        st.set_var(QUERY, choose),
        f"PREPARE {STATEMENT} FROM @{QUERY};",
        f"EXECUTE {STATEMENT};",
        f"DEALLOCATE PREPARE {STATEMENT};",
    ]


def row_bytes_statement(table: Table, scope: exp.Expression) -> str:
    """@fixpack_row_bytes = the larger of itself and the biggest row in scope (sum of the values'
    bytes, numbers as their hex digits, plus the per-column overhead of render/writeset.py)."""
    # HEX() is plain ASCII whatever the column's character set (no collation mix in CONCAT_WS),
    # two characters per byte; CONCAT_WS skips NULLs.
    hexes = [exp.Anonymous(this="HEX", expressions=[exp.column(c)]) for c in table.column_names]
    joined = exp.Anonymous(this="CONCAT_WS", expressions=[exp.Literal.string(""), *hexes])
    lengths = exp.Div(
        this=exp.Anonymous(this="LENGTH", expressions=[joined]), expression=exp.Literal.number(2)
    )
    biggest = exp.select(exp.Coalesce(this=exp.Max(this=lengths), expressions=[exp.Literal.number(0)]))
    biggest = biggest.from_(table.name).where(scope)
    extra = exp.Literal.number(len(table.column_names) * (4 + COLUMN_OVERHEAD))
    size = exp.Add(this=biggest.subquery(), expression=extra)
    return st.set_var(
        ROW_BYTES,
        exp.Greatest(
            this=exp.Coalesce(this=st.var(ROW_BYTES), expressions=[exp.Literal.number(0)]), expressions=[size]
        ),
    )


def chunk_bytes(rows: int, estimate: int | None = None) -> exp.Expression:
    """Estimated write-set bytes of a chunk: `estimate` when known at generation (live), else `rows`
    rows as big as the biggest row measured at run time (before + after image)."""
    if estimate is not None:
        return exp.Literal.number(estimate)
    per_row = exp.Mul(
        this=exp.Literal.number(MARGIN),
        expression=exp.Paren(
            this=exp.Add(
                this=exp.Mul(this=exp.Literal.number(2), expression=st.var(ROW_BYTES)),
                expression=exp.Literal.number(ROW_OVERHEAD),
            )
        ),
    )
    return exp.Mul(this=exp.Literal.number(rows), expression=exp.Paren(this=per_row))


def check_limits(rows: int, what: str, bytes_estimate: int | None = None) -> list[str]:
    """Refuse (print why, then stop the client) when a chunk of `rows` rows could exceed the limits.

    Call after `read_limits()` and, for the bytes, after `row_bytes_statement()` for every step."""
    on = exp.In(
        this=exp.Upper(this=exp.Coalesce(this=st.var(ON), expressions=[exp.Literal.string("OFF")])),
        expressions=[exp.Literal.string("ON"), exp.Literal.string("1")],
    )
    limit_rows = exp.Coalesce(this=st.var(ROWS), expressions=[exp.Literal.number(0)])
    too_many = exp.and_(
        exp.GT(this=limit_rows.copy(), expression=exp.Literal.number(0)),
        exp.LT(this=limit_rows.copy(), expression=exp.Literal.number(rows)),
    )
    size = exp.Coalesce(this=st.var(SIZE), expressions=[exp.Literal.number(0)])
    too_big = exp.and_(
        exp.GT(this=size.copy(), expression=exp.Literal.number(0)),
        exp.LT(this=size.copy(), expression=chunk_bytes(rows, bytes_estimate)),
    )
    refuse = exp.If(
        this=exp.and_(on, exp.or_(too_many, too_big)), true=exp.Literal.number(1), false=exp.Literal.number(0)
    )
    fit = exp.Div(
        this=size.copy(),
        expression=exp.Paren(
            this=exp.Div(this=chunk_bytes(rows, bytes_estimate), expression=exp.Literal.number(rows))
        ),
    )
    suggestion = exp.Least(
        this=exp.Anonymous(this="FLOOR", expressions=[fit]),
        expressions=[
            exp.If(
                this=exp.GT(this=limit_rows.copy(), expression=exp.Literal.number(0)),
                true=limit_rows.copy(),
                false=exp.Literal.number(rows),
            )
        ],
    )
    message = exp.Anonymous(
        this="CONCAT",
        expressions=[
            exp.Literal.string(f"ERROR: this {what} changes up to {rows} row(s) per transaction (chunk); "),
            exp.Literal.string("this Galera node has wsrep_max_ws_rows="),
            limit_rows.copy(),
            exp.Literal.string(" and wsrep_max_ws_size="),
            size.copy(),
            exp.Literal.string(" (estimated write set of a chunk: "),
            chunk_bytes(rows, bytes_estimate),
            exp.Literal.string(" bytes), so a chunk would fail with ERROR 1180. Nothing was changed. "),
            exp.Literal.string("Regenerate the bundle with --chunk-rows "),
            suggestion,
            exp.Literal.string(" (or fewer)."),
        ],
    )
    say = (
        exp.select(exp.alias_(message, "fixpack"))
        .from_(dual())
        .where(exp.EQ(this=st.var(REFUSE), expression=exp.Literal.number(1)))
    )
    return [
        st.set_var(REFUSE, refuse),
        to_sql(say) + ";",
        st.guard(
            f"Galera write-set limits: a chunk of {rows} row(s) fits (or wsrep is off)",
            exp.NullSafeEQ(this=st.var(REFUSE), expression=exp.Literal.number(0)),
        ),
    ]
