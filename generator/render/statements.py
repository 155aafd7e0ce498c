"""The fixed statement shapes of a guarded file, each built as a sqlglot tree.

Session variables used (one mysql client session per file):
`@fixpack_scope`, `@fixpack_before`, `@fixpack_after` (what a step measured:
rows in scope, fingerprint of the keyed rows over the pre-image columns and
over the post-image columns), `@fixpack_state` (step state), `@fixpack_chunk`
(state of the chunk's first step: every step of a chunk must agree),
`@fixpack_rc` (rows changed), `@fixpack_now` (apply time, one per
transaction), `@fixpack_check`; offline, a plan's own values read per
transaction (Plan.session_values, e.g. `@fixpack_move_id`: render/offline.py).
"""

from __future__ import annotations

from functools import cache

from sqlglot import exp

from generator.quoting import terminal
from generator.sqlgen.dialect import dual, to_sql
from generator.sqlgen.literals import literal_node

STATE, CHUNK, RC, NOW, CHECK = "fixpack_state", "fixpack_chunk", "fixpack_rc", "fixpack_now", "fixpack_check"
SCOPE, BEFORE, AFTER = "fixpack_scope", "fixpack_before", "fixpack_after"


def var(name: str) -> exp.Expr:
    return exp.Parameter(this=exp.Var(this=name))


def set_var(name: str, value: exp.Expr, *, owned: bool = False) -> str:
    """`SET @name = value;` — one variable per SET: MariaDB evaluates every value of a SET before it
    assigns any, so a second assignment could not read the first. `owned`: the caller built
    `value` for this statement alone (a guard's measure over thousands of keys), so it is
    rendered in place, not deep-copied first (`to_sql`)."""
    statement = exp.Set(
        expressions=[exp.SetItem(this=exp.EQ(this=var(name), expression=value))], unset=False, tag=False
    )
    return to_sql(statement, owned=owned) + ";"


def guard(label: str, condition: exp.Expr) -> str:
    """Abort the client (ERROR 1242) unless `condition` holds.

    `SELECT 1 UNION ALL SELECT 2 … WHERE NOT (cond)` yields two rows — an error
    for a scalar subquery — exactly when the condition is false or NULL.
    """
    failing = exp.union(
        exp.select(exp.Literal.number(1)),
        exp.select(exp.Literal.number(2))
        .from_(dual(), copy=False)
        .where(exp.Not(this=exp.Paren(this=condition)), copy=False),
        distinct=False,
    )
    statement = exp.select(
        exp.alias_(literal_node(terminal(label)), "guard"),  # the client prints it on a terminal
        exp.alias_(exp.Subquery(this=failing), "ok"),
    )
    return to_sql(statement) + ";"


def report(columns: list[tuple[str, exp.Expr]]) -> str:
    """A SELECT that only prints (for the operator's log)."""
    return to_sql(exp.select(*(exp.alias_(e, a) for a, e in columns))) + ";"


def state_is(*states: str) -> exp.Expr:
    terms = [exp.NullSafeEQ(this=var(STATE), expression=exp.Literal.string(s)) for s in states]
    return exp.or_(*terms, copy=False) if len(terms) > 1 else terms[0]


def pending() -> exp.Expr:
    return exp.EQ(this=var(STATE), expression=exp.Literal.string("pending"))


def expected_rows(n: int) -> exp.Expr:
    """n when the step is pending, 0 when it was already done."""
    return exp.Case(ifs=[exp.If(this=pending(), true=exp.Literal.number(n))], default=exp.Literal.number(0))


@cache
def add_row_count() -> str:
    """The same text after every statement of a step (a batch rollback writes thousands): built once."""
    return set_var(RC, exp.Add(this=var(RC), expression=exp.Anonymous(this="ROW_COUNT", expressions=[])))


def start_transaction(read_only: bool = False) -> str:
    """`SET TRANSACTION READ ONLY` binds the next transaction only (read-only files)."""
    start = to_sql(exp.Transaction()) + ";"
    return "SET TRANSACTION READ ONLY;\n" + start if read_only else start


def commit() -> str:
    return to_sql(exp.Commit()) + ";"
