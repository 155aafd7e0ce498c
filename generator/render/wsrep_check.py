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
file asks `information_schema.TABLES` which of the two tables exists and runs one
fixed statement (`_READ`, written out below as a constant) over that table through
PREPARE/EXECUTE. A variable the server does not have reads as NULL: no limit.
"""

from __future__ import annotations

from sqlglot import exp

from generator.render import statements as st
from generator.render.writeset import COLUMN_OVERHEAD, MARGIN, ROW_OVERHEAD
from generator.schema.model import Table
from generator.sqlgen.dialect import dual, to_sql

ON, ROWS, SIZE = "fixpack_ws_on", "fixpack_ws_rows", "fixpack_ws_size"
BYTES, QUERY, REFUSE = "fixpack_ws_bytes", "fixpack_ws_query", "fixpack_ws_refuse"
LO, HI, MID, OK = "fixpack_ws_lo", "fixpack_ws_hi", "fixpack_ws_mid", "fixpack_ws_ok"  # fit_search
STATEMENT = "fixpack_ws_read"  # a prepared statement name: sqlfluff cannot parse it quoted


# One fixed statement reads the three variables from whichever table the server has: a pivot over
# the (lower-cased) names, INTO the session variables (INTO before FROM: both servers accept it).
_READ = (
    "SELECT MAX(IF(n = 'wsrep_on', v, NULL)), MAX(IF(n = 'wsrep_max_ws_rows', v, NULL)), "
    "MAX(IF(n = 'wsrep_max_ws_size', v, NULL)) INTO @fixpack_ws_on, @fixpack_ws_rows, @fixpack_ws_size "
    "FROM (SELECT LOWER(VARIABLE_NAME) AS n, VARIABLE_VALUE AS v FROM {table}) AS w"
)


def _constant(text: str) -> list[exp.Expr]:
    """A fixed statement text as short plain literals (CONCAT pieces): readable, within the line limit."""
    pieces, current = [], ""
    for word in text.split(" "):
        if current and len(current) + len(word) > 70:
            pieces.append(current)
            current = ""
        current += word + " "
    pieces.append(current.rstrip(" "))
    return [exp.Literal.string(p) for p in pieces]


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
    table = exp.If(
        this=exp.GT(this=has_is.subquery(), expression=exp.Literal.number(0)),
        true=exp.Literal.string("information_schema.GLOBAL_VARIABLES"),
        false=exp.Literal.string("performance_schema.global_variables"),
    )
    head, tail = _READ.split("{table}")
    query = exp.Anonymous(
        this="CONCAT",
        expressions=[*_constant(head.rstrip(" ")), exp.Literal.string(" "), table, exp.Literal.string(tail)],
    )
    return [
        st.set_var(QUERY, query),
        f"PREPARE {STATEMENT} FROM @{QUERY};",
        f"EXECUTE {STATEMENT};",
        f"DEALLOCATE PREPARE {STATEMENT};",
    ]


def row_estimate(table: Table, scope: exp.Expr) -> exp.Expr:
    """Subquery: the write-set estimate of one row as big as the biggest in scope — MARGIN * (before +
    after image + ROW_OVERHEAD), an image being the values' bytes (numbers as their hex digits) plus
    the per-column overhead (render/writeset.py)."""
    # HEX() is plain ASCII whatever the column's character set (no collation mix in CONCAT_WS),
    # two characters per byte; CONCAT_WS skips NULLs.
    hexes = [exp.Anonymous(this="HEX", expressions=[exp.column(c)]) for c in table.column_names]
    joined = exp.Anonymous(this="CONCAT_WS", expressions=[exp.Literal.string(""), *hexes])
    value_bytes = exp.Div(
        this=exp.Anonymous(this="LENGTH", expressions=[joined]), expression=exp.Literal.number(2)
    )
    image = exp.Add(
        this=exp.Coalesce(this=exp.Max(this=value_bytes), expressions=[exp.Literal.number(0)]),
        expression=exp.Literal.number(len(table.column_names) * (4 + COLUMN_OVERHEAD)),
    )
    per_row = exp.Mul(
        this=exp.Literal.number(MARGIN),
        expression=exp.Paren(
            this=exp.Add(
                this=exp.Mul(this=exp.Literal.number(2), expression=exp.Paren(this=image)),
                expression=exp.Literal.number(ROW_OVERHEAD),
            )
        ),
    )
    return exp.select(per_row).from_(table.name).where(scope).subquery()


def bytes_at(rows: exp.Expr, steps: list[tuple[str, str]]) -> exp.Expr:
    """A chunk's write-set bound for a chunk size of `rows`: the sum over the steps (@count, @estimate
    variables, one UNION ALL line each) of LEAST(count, rows) * estimate — no chunk writes more of a
    step's rows than that."""
    selects = [
        exp.select(exp.alias_(st.var(count), "n"), exp.alias_(st.var(estimate), "e"))
        for count, estimate in steps
    ]
    union: exp.Expr = selects[0]
    for more in selects[1:]:
        union = exp.union(union, more, distinct=False, copy=False)  # built here: no copy (quadratic)
    term = exp.Mul(
        this=exp.Least(this=exp.column("n", table="s"), expressions=[rows.copy()]),
        expression=exp.column("e", table="s"),
    )
    total = exp.select(exp.Coalesce(this=exp.Sum(this=term), expressions=[exp.Literal.number(0)]))
    return total.from_(exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier("s")))).subquery()


def fit_search(chunk_rows: int, steps: list[tuple[str, str]]) -> list[str]:
    """@fixpack_ws_fit = the largest chunk size whose bound fits wsrep_max_ws_size (binary search over
    1..chunk_rows, a fixed number of SET statements: plain SQL has no loops)."""
    size = exp.Coalesce(this=st.var(SIZE), expressions=[exp.Literal.number(0)])
    out = [st.set_var(LO, exp.Literal.number(0)), st.set_var(HI, exp.Literal.number(chunk_rows))]
    for _ in range(max(1, chunk_rows.bit_length())):
        middle = exp.Anonymous(
            this="FLOOR",
            expressions=[
                exp.Div(
                    this=exp.Paren(
                        this=exp.Add(
                            this=exp.Add(this=st.var(LO), expression=st.var(HI)),
                            expression=exp.Literal.number(1),
                        )
                    ),
                    expression=exp.Literal.number(2),
                )
            ],
        )
        fits = exp.LTE(this=bytes_at(st.var(MID), steps), expression=size.copy())
        items = [
            (MID, middle),
            (OK, exp.If(this=fits, true=exp.Literal.number(1), false=exp.Literal.number(0))),
            (
                LO,
                exp.If(
                    this=exp.EQ(this=st.var(OK), expression=exp.Literal.number(1)),
                    true=st.var(MID),
                    false=st.var(LO),
                ),
            ),
            (
                HI,
                exp.If(
                    this=exp.EQ(this=st.var(OK), expression=exp.Literal.number(1)),
                    true=st.var(HI),
                    false=exp.Sub(this=st.var(MID), expression=exp.Literal.number(1)),
                ),
            ),
        ]
        out += [st.set_var(name, value) for name, value in items]  # in this order: each uses the last
    return out


def chunk_bytes(estimate: int | None = None) -> exp.Expr:
    """A chunk's estimated write-set bytes: `estimate` when known at generation (live), else what the
    `step_bytes_statement()`s added up at run time."""
    if estimate is not None:
        return exp.Literal.number(estimate)
    return exp.Coalesce(this=st.var(BYTES), expressions=[exp.Literal.number(0)])


def check_limits(
    rows: int, what: str, bytes_estimate: int | None = None, searched: bool = False
) -> list[str]:
    """Refuse (print why, then stop the client) when a chunk of `rows` rows could exceed the limits.

    Call after `read_limits()` and, offline, after @fixpack_ws_bytes is set (and with `searched`, after
    `fit_search()`: the suggested --chunk-rows is its result, else a linear scale-down)."""
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
        exp.LT(this=size.copy(), expression=chunk_bytes(bytes_estimate)),
    )
    refuse = exp.If(
        this=exp.and_(on, exp.or_(too_many, too_big)), true=exp.Literal.number(1), false=exp.Literal.number(0)
    )
    fit = exp.Div(
        this=size.copy(),
        expression=exp.Paren(
            this=exp.Div(this=chunk_bytes(bytes_estimate), expression=exp.Literal.number(rows))
        ),
    )
    # linear in the rows, less 10% (a step's biggest row weighs on any chunk size); "or fewer" in the text
    scaled = exp.Mul(this=exp.Literal.number("0.9"), expression=fit)
    floor: exp.Expr = st.var(LO) if searched else exp.Anonymous(this="FLOOR", expressions=[scaled])
    suggestion = exp.Least(
        this=exp.Coalesce(this=floor, expressions=[exp.Literal.number(rows)]),
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
            exp.Anonymous(this="CEILING", expressions=[chunk_bytes(bytes_estimate)]),
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
