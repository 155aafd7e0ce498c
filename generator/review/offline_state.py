"""`fixpack verify` of an offline bundle against real databases: will it apply, or has it already?

An offline bundle recorded no rows, so there is no pre-image to compare; what it
has is the questions its own files ask when they run: the precheck's
preconditions (`guard` lines) and its per-step counts of rows still needing the
change (`rows_to_change`), and the verify file's postconditions. This module
asks them again, read-only, and classifies each database:

* `will apply`  — the preconditions hold and some step finds rows to change;
* `applied`     — no step finds a row and every postcondition holds;
* `drifted`     — a precondition fails (the apply would stop at its guard), or
                  nothing is left to change but a postcondition does not hold;

and the bundle: every database applied → ALREADY APPLIED; the first database in
apply order applied and a later one still to change → PARTIALLY APPLIED; none
drifted → WILL APPLY. (A database the bundle has nothing to change in looks
applied: "already applied" and "nothing to do" are the same rows there.)

The queries come from the checksummed SQL files, never from `data/`; each is
accepted only as the generated shape (`review/guard_queries.checked_select`: one
plain `SELECT COUNT(*)` of the bundle's tables). One that is not is listed as
not measured, never run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from generator.connect.session import Session
from generator.review.bundle import Bundle
from generator.review.guard_queries import GuardQueryRefused, checked_select, render
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.sqltext import statements

WILL_APPLY, APPLIED, DRIFTED = "will apply", "applied", "drifted"


@dataclass(frozen=True)
class Question:
    kind: str  # precondition | step | postcondition
    label: str
    query: str | None  # the checked COUNT(*) query (None: not measured)
    expect: int | None  # preconditions/postconditions: the count that must hold


@dataclass
class OfflineState:
    role: str
    state: str = WILL_APPLY
    failed: list[str] = field(default_factory=list)  # preconditions that do not hold now
    to_change: list[str] = field(default_factory=list)  # `step N: table: K row(s)`
    unmet: list[str] = field(default_factory=list)  # postconditions that do not hold now
    not_measured: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        lines = [f"offline state: {self.state}"]
        lines += [f"  precondition fails: {x}" for x in self.failed]
        lines += [f"  still to change: {x}" for x in self.to_change]
        if self.state != WILL_APPLY:
            lines += [f"  postcondition not met: {x}" for x in self.unmet]
        lines += [f"  not measured (not a generated shape): {x}" for x in self.not_measured]
        return lines


def _label(node: exp.Expression) -> str | None:
    """The question's text: a string literal, or a long one the renderer wrote as CONCAT pieces
    (sqlgen keeps every line within 120 characters)."""
    if not isinstance(node, exp.Alias):
        return None
    value = node.this
    if isinstance(value, exp.Literal):
        return value.this
    if isinstance(value, exp.Concat) and all(isinstance(p, exp.Literal) for p in value.expressions):
        return "".join(p.this for p in value.expressions)
    return None


def _count_query(node: exp.Expression | None) -> exp.Select | None:
    while isinstance(node, exp.Paren | exp.Subquery):
        node = node.this
    return node if isinstance(node, exp.Select) else None


def _condition(ok: exp.Expression) -> exp.Expression | None:
    """`(SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (cond))` -> cond."""
    union = ok.this.this if isinstance(ok, exp.Alias) and isinstance(ok.this, exp.Subquery) else None
    if not isinstance(union, exp.Union):
        return None
    where = union.expression.args.get("where") if isinstance(union.expression, exp.Select) else None
    negated = where.this if isinstance(where, exp.Where) else None
    if not isinstance(negated, exp.Not):
        return None
    cond = negated.this
    while isinstance(cond, exp.Paren):
        cond = cond.this
    return cond


def questions(text: str, schema: SchemaSnapshot | None, where: str, kinds: dict[str, str]) -> list[Question]:
    """The counted questions of one SQL file: `guard` lines of the form `(SELECT COUNT(*) …) = N` and
    `rows_to_change` lines. `kinds` maps the column alias (`guard`, `step`) to the question kind."""
    out = []
    for _line, sql in statements(text):
        head = sql.lstrip()[:7].upper()
        if not head.startswith("SELECT"):
            continue
        try:
            tree = sqlglot.parse_one(sql, read="mysql")
        except sqlglot.errors.SqlglotError:
            continue
        if not isinstance(tree, exp.Select) or len(tree.expressions) != 2:
            continue
        first, second = tree.expressions
        label, alias = _label(first), first.alias
        if label is None or alias not in kinds:
            continue
        kind = kinds[alias]
        if kind == "step":
            count, expect = _count_query(second.this if isinstance(second, exp.Alias) else None), None
        else:
            cond = _condition(second)
            if not isinstance(cond, exp.EQ) or not isinstance(cond.expression, exp.Literal):
                continue  # identity checks compare variables: the schema fingerprint covers them
            count, expect = _count_query(cond.this), int(cond.expression.this)
        query = None
        if count is not None:
            try:
                query = render(checked_select(count.sql(dialect="mysql"), schema, f"{where}: {label}"))
            except GuardQueryRefused:
                query = None
        out.append(Question(kind, label, query, expect))
    return out


def offline_state(bundle: Bundle, role: str, session: Session) -> OfflineState:
    """Ask the precheck's and verify file's questions of this database now (read-only)."""
    schema = bundle.recorded_schemas.get(role)
    asked: list[Question] = []
    for step in bundle.manifest["steps"]:
        if step.get("target") != f"db:{role}" or step["kind"] != "sql" or step.get("produces"):
            continue
        if step["phase"] == "precheck":
            kinds = {"guard": "precondition", "step": "step"}
        elif step["phase"] == "verify":
            kinds = {"guard": "postcondition"}
        else:
            continue
        asked += questions(bundle.read_text(step["file"]), schema, step["file"], kinds)
    state = OfflineState(role)
    measured = [(q, q.query) for q in asked if q.query is not None]
    state.not_measured = [q.label for q in asked if q.query is None]
    answers = session.query_many([(query, None) for _, query in measured]) if measured else []
    for (q, _), rows in zip(measured, answers, strict=True):
        value = next(iter(rows[0].values())) if rows else None
        if q.kind == "precondition" and value != q.expect:
            state.failed.append(f"{q.label} (found {value}, expected {q.expect})")
        elif q.kind == "postcondition" and value != q.expect:
            state.unmet.append(q.label)
        elif q.kind == "step" and value:
            state.to_change.append(f"{q.label}: {value} row(s)")
    if not state.to_change:
        state.state = APPLIED if not state.unmet else DRIFTED
    elif state.failed:
        state.state = DRIFTED
    return state


def bundle_verdict(states: list[OfflineState]) -> tuple[str, bool]:
    """(verdict, passed) over the databases in apply order."""
    kinds = [s.state for s in states]
    if DRIFTED in kinds:
        drifted = ", ".join(s.role for s in states if s.state == DRIFTED)
        return f"DRIFTED: the precheck or apply would stop ({drifted}): see the lines above", False
    if all(k == APPLIED for k in kinds):
        return "ALREADY APPLIED: no step finds a row to change and every postcondition holds", True
    if kinds and kinds[0] == APPLIED:
        pending = ", ".join(s.role for s in states if s.state == WILL_APPLY)
        return f"PARTIALLY APPLIED: run the remaining apply file(s) ({pending}); the others are done", True
    return "WILL APPLY: the preconditions hold and the steps find rows to change", True
