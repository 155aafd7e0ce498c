"""One declaration per repair step, evaluated live (on facts) or offline (as run-time scopes).

A `Step` says, as data, what a repair does to one table: the target's rows (a sqlglot tree
with the target as a parameter), which of them still need the change, the assignments
(none: delete), the purpose and the postcondition. Two evaluators read the same step:

- `live_step` picks the rows the facts hold that the bound tree keeps — evaluated by
  `sqlgen.evaluate.matches`, so the rows a live bundle changes and the SQL scope its guards
  recount can never disagree — and records them as pre-/post-images;
- `offline_step` emits the bound tree as the scope the apply changes at run time (the
  capture files record the pre-images then).

Binding substitutes targets into the tree (`column = :target` becomes `column = 'u'`, or
`column IN (...)` for several), which is also how a live plan widens a step to related
consumers (an instance's migrations) and how a fleet batch merges many targets. An offline
plan that knows its targets only through other rows binds a `Selected` query instead
(`column IN (SELECT ...)`): where live binds the ids it read, offline selects them then.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial

from sqlglot import exp

from generator.facts.model import DatabaseFacts
from generator.ops.operations import ApplyTime, Assignment, CopyColumn, DeleteRows, Operation, UpdateRows
from generator.ops.rows import Scope
from generator.plan import builders as b
from generator.plan.model import Postcondition
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.dialect import to_sql
from generator.sqlgen.evaluate import matches
from generator.sqlgen.literals import literal_node, sql_literal

TARGET = "target"


def target() -> exp.Placeholder:
    """The parameter a step's scope is written with (`instance_uuid = :target`)."""
    return exp.Placeholder(this=TARGET)


def on_target(column: str) -> exp.Expr:
    """`column = :target`: the shape binding widens to `column IN (...)`."""
    return exp.EQ(this=exp.column(column), expression=target())


@dataclass(frozen=True)
class Selected:
    """A target known only at run time: the values `query` selects then (`words` describe them)."""

    query: exp.Query = field(compare=False)
    words: str

    def __str__(self) -> str:
        return self.words


def _is_target(node: exp.Expr) -> bool:
    return isinstance(node, exp.Placeholder) and node.name == TARGET


def bind(tree: exp.Expr, targets: Sequence[object]) -> exp.Expr:
    """The tree with its targets: `col = :target` -> `col = v`, or `col IN (v1, v2, ...)`."""
    if not targets:
        raise ValueError("a step is bound to at least one target")

    values = [t for t in targets if not isinstance(t, Selected)]
    selected = [t for t in targets if isinstance(t, Selected)]

    def equals(column: exp.Expr) -> exp.Expr:
        """`col = v` / `col IN (v, ...)`, and `col IN (SELECT ...)` per run-time target (a batch
        of offline plans binds several: their OR)."""
        parts: list[exp.Expr] = [column.copy().isin(query=t.query.copy()) for t in selected]
        if len(values) == 1:
            parts.insert(0, exp.EQ(this=column.copy(), expression=literal_node(values[0])))
        elif values:
            parts.insert(0, b.isin(column.name, values))
        return parts[0] if len(parts) == 1 else exp.Paren(this=exp.or_(*parts))

    def substitute(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.EQ) and _is_target(node.expression):
            return equals(node.this)
        if _is_target(node):
            if len(targets) != 1:
                raise ValueError("only `column = :target` can be bound to several targets")
            return literal_node(targets[0])
        return node

    return tree.transform(substitute)


def conjuncts(tree: exp.Expr) -> list[exp.Expr]:
    """`a AND b` as [a, b]: a step's scope and pending read as one flat `a AND b AND c`."""
    return list(tree.flatten()) if isinstance(tree, exp.And) else [tree]


@dataclass(frozen=True)
class Step:
    """What a repair does to one table, for any target (see the module docstring)."""

    role: str  # database role: nova | nova_api | placement | cinder
    table: str
    scope: exp.Expr = field(compare=False)  # the target's rows, written with target()
    describe: str  # the scope in words; "{target}" is replaced by the target(s)
    purpose: str  # the -- describe() banner: why this change
    assignments: tuple[tuple[str, Assignment], ...] = ()  # none: the rows are deleted
    pending: exp.Expr | None = field(default=None, compare=False)  # rows of the scope still to change
    postcondition: str | None = None  # words for "no pending row remains" (None: not checked)
    stays_in_scope: bool = False  # changed rows still match scope AND pending (live guards)

    @property
    def deletes(self) -> bool:
        return not self.assignments

    # Built once per step (cached on the instance; the dataclass stays frozen to its callers): a
    # batch of a thousand targets binds the same trees, and groups by the same objects.
    @cached_property
    def template(self) -> exp.Expr:
        """The rows still to change, for any target: scope AND pending, unbound."""
        parts = [self.scope] if self.pending is None else [self.scope, self.pending]
        return exp.and_(*(c for p in parts for c in conjuncts(p)))

    @cached_property
    def check_template(self) -> exp.Expr:
        return b.count_is(self.table, 0, self.template)

    def where(self, targets: Sequence[object]) -> exp.Expr:
        return bind(self.template, targets)

    @cached_property
    def _texts(self) -> _BoundTexts:
        return _BoundTexts(self.template)

    def scope_for(self, targets: Sequence[object]) -> Scope:
        text = self._texts.text(targets[0]) if len(targets) == 1 else None
        if text is None:
            return bound_scope(self.template, self.describe, targets)
        return Scope.built_later(  # the tree is bound when first used (a batch merges templates)
            partial(bind, self.template, tuple(targets)),
            self.describe.format(target=", ".join(map(str, targets))),
            text,
            template=self.template,
            targets=tuple(targets),
            pattern=self.describe,
        )

    def check(self, targets: Sequence[object]) -> Postcondition | None:
        if self.postcondition is None:
            return None
        template, bound = self.check_template, tuple(targets)
        return Postcondition.built_later(
            partial(bind, template, bound), self.role, self.postcondition, template, bound
        )


_MARK = "00000000-0000-0000-0000-fixpackstep0"  # 36 characters, not hex: never a real UUID
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class _BoundTexts:
    """A step's scope text for one UUID target, from one rendering of the step bound to a marker.

    A live plan compares each step's bound scope with the scope the facts were read by, by
    text: a 1000-VM batch rendered 18,000 of them. Bound to a UUID, the tree is the marker's
    with another literal of the same length that needs no escaping, so its text is the
    marker's with that literal replaced (same layout: lines break by length). The first
    target's scope is rendered the ordinary way and compared; on a difference, never again.
    """

    def __init__(self, template: exp.Expr) -> None:
        self.template = template
        self.marked = to_sql(bind(template, [_MARK]))
        self.literal = sql_literal(_MARK)
        self.ok: bool | None = None

    def text(self, target: object) -> str | None:
        """The scope's text bound to `target` alone, when the marker's text gives it exactly."""
        if self.ok is False or not isinstance(target, str) or not _UUID.fullmatch(target):
            return None
        text = self.marked.replace(self.literal, sql_literal(target))
        if self.ok is None:
            self.ok = to_sql(bind(self.template, [target])) == text  # the ordinary way, once
        return text if self.ok else None


def bound_scope(template: exp.Expr, pattern: str, targets: Sequence[object]) -> Scope:
    """The scope of `targets`, keeping its declaration (a batch binds more targets into it)."""
    words = pattern.format(target=", ".join(map(str, targets)))
    return Scope(bind(template, targets), words, template=template, targets=tuple(targets), pattern=pattern)


class Declarations:
    """Groups scopes and checks by the declaration they were bound from: the same tree object
    is one declaration without rendering it; distinct objects are compared by their SQL, each
    rendered once (steps built per plan, like a purge's, are equal trees, not the same object)."""

    def __init__(self) -> None:
        self._sql: dict[int, str] = {}
        self._keep: list[exp.Expr] = []  # ids stay unique while the trees are alive

    def key(self, template: exp.Expr | None) -> str | None:
        if template is None:
            return None
        found = self._sql.get(id(template))
        if found is None:
            found = self._sql[id(template)] = template.sql()
            self._keep.append(template)
        return found


def soft_delete_step(role: str, table: str, column: str, purpose: str, *, what: str = "the instance") -> Step:
    """oslo.db `Query.soft_delete()` on the target's live rows: deleted = id, deleted_at = now."""
    return Step(
        role,
        table,
        on_target(column),
        f"{table}.{column} = '{{target}}' and not deleted",
        purpose,
        assignments=(("deleted", CopyColumn("id")), ("deleted_at", ApplyTime())),
        pending=b.eq("deleted", 0),
        postcondition=f"no live {table} rows of {what} remain",
    )


@dataclass(frozen=True)
class Evaluated:
    """What a recipe became for one plan: operations in order, and their postconditions."""

    operations: tuple[Operation, ...] = ()
    postconditions: tuple[Postcondition, ...] = ()

    def __add__(self, other: Evaluated) -> Evaluated:
        return Evaluated(self.operations + other.operations, self.postconditions + other.postconditions)


def live_step(
    step: Step,
    facts: DatabaseFacts,
    targets: Sequence[object],
    per_row: Mapping[object, Mapping[str, object]] | None = None,
) -> Evaluated:
    """The rows the facts hold that the step's bound tree keeps, with pre- and post-images
    (`per_row`: values some rows get besides, by key, that only live computes: `b.update`)."""
    if not facts.schema.has_table(step.table):
        return Evaluated()
    scope = step.scope_for(targets)
    if facts.scope(step.table) == scope:  # the facts stage read the table by exactly this scope
        rows = list(facts.rows(step.table))
    else:
        rows = [r for r in facts.rows(step.table) if matches(scope.condition, r)]
    op: Operation | None
    if step.deletes:
        op = b.delete(facts, step.table, rows, scope=scope, purpose=step.purpose)
    else:
        op = b.update(
            facts,
            step.table,
            rows,
            dict(step.assignments),
            scope=scope,
            purpose=step.purpose,
            stays_in_scope=step.stays_in_scope,
            per_row=per_row,
        )
    post = step.check(targets)
    return Evaluated((op,) if op else (), (post,) if post else ())


def offline_step(step: Step, schema: SchemaSnapshot, targets: Sequence[object]) -> Evaluated:
    """The step as a run-time scope: the apply changes whatever still matches when it runs."""
    if not schema.has_table(step.table):
        return Evaluated()
    scope = step.scope_for(targets)
    table = schema.table(step.table)
    op: Operation
    if step.deletes:
        op = DeleteRows(step.role, step.table, table.primary_key, step.purpose, scope=scope)
    else:
        items = tuple((c, a) for c, a in step.assignments if table.has_column(c))
        op = UpdateRows(
            step.role, step.table, table.primary_key, step.purpose, assignments=items, scope=scope
        )
    post = step.check(targets)
    return Evaluated((op,), (post,) if post else ())


def evaluate_live(
    steps: Iterable[Step], facts: Mapping[str, DatabaseFacts | None], targets: Sequence[object]
) -> Evaluated:
    """Every step whose database was given (a missing one is the planner's warning to say)."""
    out = Evaluated()
    for step in steps:
        db = facts.get(step.role)
        if db is not None:
            out += live_step(step, db, targets)
    return out


def evaluate_offline(
    steps: Iterable[Step], schemas: Mapping[str, SchemaSnapshot], targets: Sequence[object]
) -> Evaluated:
    out = Evaluated()
    for step in steps:
        out += offline_step(step, schemas[step.role], targets)
    return out
