"""Merge the plans of many targets into one batch plan (one bundle for many VMs).

Operations of the same kind on the same table with the same assignments are
merged into one operation: their rows are concatenated and their scopes
combined — `instance_uuid = 'a' AND deleted = 0` for each target becomes
`instance_uuid IN ('a', 'b', …) AND deleted = 0` — so a 1000-VM batch is a
few dozen guarded steps chunked by rows, not 15 000 tiny ones. Plans must come
from the same databases (one cell) and must not touch a row twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlglot import exp

from generator.domain.toposort import topological_order
from generator.errors import FixpackError
from generator.ops.dispatch import Dispatch
from generator.ops.operations import DeleteRows, Operation, ScopedOperation, UpdateRows
from generator.ops.rows import Row, Scope
from generator.plan.model import ApiCommand, Plan, Postcondition
from generator.plan.recipe import Declarations, bind, bound_scope
from generator.sqlgen.literals import is_readable, literal_node, sql_literal

_MARK = "fixpack-batch-target"
_MARKED = f"'{_MARK}'"


def _template(scope: Scope, target: str) -> str | None:
    tree = scope.tree()
    hits = [
        n
        for n in tree.find_all(exp.EQ)
        if isinstance(n.expression, exp.Literal) and n.expression.this == target
    ]
    if len(hits) != 1:
        return None
    hits[0].set("expression", exp.Literal.string(_MARK))
    return tree.sql()


class _Templates:
    """`_template` of many scopes, from the SQL text each Scope already holds when it can.

    When the targets are all readable and of one length (UUIDs), every scope renders the same
    layout around its target, so scopes whose text differs only by the one quoted target are the
    same tree around it, and one tree per distinct text tells whether that target is an `=`
    literal (as `_template` would of each). This spares a batch a tree copy and a render per
    target and operation.
    """

    def __init__(self, targets: list[str]) -> None:
        self.fast = len({len(t) for t in targets}) <= 1 and all(is_readable(t) for t in targets)
        self.verdicts: dict[str, bool] = {}

    def of(self, scope: Scope, target: str) -> str | None:
        if not self.fast:
            return _template(scope, target)
        literal = sql_literal(target)
        if scope.sql.count(literal) != 1:
            return None
        text = scope.sql.replace(literal, _MARKED)
        ok = self.verdicts.get(text)
        if ok is None:
            ok = self.verdicts[text] = _template(scope, target) is not None
        return text if ok else None


def _declared(scopes: list[Scope]) -> exp.Expr | None:
    """The one declaration (plan/recipe.py) every scope was bound from, if they share one."""
    declarations = Declarations()
    keys = {declarations.key(s.template) for s in scopes}
    if len(keys) == 1 and None not in keys:
        return scopes[0].template
    return None


def _merged_scope(scopes: list[tuple[Scope, str]]) -> Scope:
    template = _declared([s for s, _ in scopes])
    if template is not None:  # a recipe step: bind every target's targets into its tree
        pattern = scopes[0][0].pattern
        bound = bound_scope(template, pattern, [t for s, _ in scopes for t in s.targets])
        return replace(bound, description=pattern.format(target=f"<{len(scopes)} targets>"))
    tables = _Templates([t for _, t in scopes])
    templates = {tables.of(s, t) for s, t in scopes}
    first, first_target = scopes[0]
    if len(templates) == 1 and None not in templates:
        tree = first.tree()
        hit = next(
            n
            for n in tree.find_all(exp.EQ)
            if isinstance(n.expression, exp.Literal) and n.expression.this == first_target
        )
        merged = exp.In(this=hit.this.copy(), expressions=[literal_node(t) for _, t in scopes])
        tree = merged if hit is tree else (hit.replace(merged) and tree)
        return Scope(tree, first.description.replace(first_target, f"<{len(scopes)} targets>"))
    return Scope(
        exp.or_(*(exp.Paren(this=s.tree()) for s, _ in scopes)),
        f"{len(scopes)} targets: " + "; ".join(s.description for s, _ in scopes[:3]) + " …",
    )


def _update_key(op: UpdateRows) -> tuple:
    return ("update", op.database, op.table, op.assignments, op.stays_in_scope, op.unknown_before)


def _delete_key(op: DeleteRows) -> tuple:
    return ("delete", op.database, op.table)


def _scope_and_count(members: Sequence[tuple[ScopedOperation, str]]) -> tuple[Scope | None, int]:
    """The targets' scopes as one, and the rows in it at generation."""
    scoped = [(op.scope, t) for op, t in members if op.scope]
    scope = _merged_scope(scoped) if scoped else None
    count = sum(op.scope_count if op.scope_count is not None else (op.row_count or 0) for op, _ in members)
    return scope, count


def _merge_updates(members: list[tuple[UpdateRows, str]]) -> Operation:
    first = members[0][0]
    scope, count = _scope_and_count(members)
    changes = None if first.changes is None else tuple(c for op, _ in members for c in op.changes or ())
    return replace(
        first,
        changes=changes,
        scope=scope,
        scope_count=count if first.changes is not None else None,
    )


def _merge_deletes(members: list[tuple[DeleteRows, str]]) -> Operation:
    first = members[0][0]
    scope, count = _scope_and_count(members)
    rows = None if first.rows is None else tuple(r for op, _ in members for r in op.rows or ())
    return replace(first, rows=rows, scope=scope, scope_count=count if first.rows is not None else None)


def _updated_rows(op: UpdateRows) -> list[Row]:
    return [c.before for c in op.changes or ()]


def _deleted_rows(op: DeleteRows) -> list[Row]:
    return list(op.rows or ())


@dataclass(frozen=True)
class _Kind:
    """How the steps of one kind, one per target, merge into one step."""

    key: Callable[[Any], tuple]  # steps with the same key merge
    merge: Callable[[Any], Operation]  # [(step, target), …] sharing a key -> the merged step
    rows: Callable[[Any], list[Row]]  # the rows a step changes: no two targets may share one


_KINDS: Dispatch[_Kind] = Dispatch("batch merge")
_KINDS.register(UpdateRows)(_Kind(_update_key, _merge_updates, _updated_rows))
_KINDS.register(DeleteRows)(_Kind(_delete_key, _merge_deletes, _deleted_rows))


def _key(op: Operation) -> tuple:
    kind = _KINDS.get(type(op))
    if kind is None:
        raise FixpackError(
            f"batch bundles cannot merge {type(op).__name__} steps (use one bundle per target)"
        )
    return kind.key(op)


def merge_operations(per_target: list[tuple[str, tuple[Operation, ...]]]) -> tuple[Operation, ...]:
    groups: dict[tuple, list[tuple[Operation, str]]] = {}
    names: dict[tuple, str] = {}
    before: dict[str, set[str]] = {}
    for target, ops in per_target:
        previous = None
        for op in ops:
            key = _key(op)
            groups.setdefault(key, []).append((op, target))
            name = names.setdefault(key, f"{len(names):05d}")
            before.setdefault(name, set())
            if previous is not None:
                before[name].add(previous)  # every plan's order (children first) is kept
            previous = name
    order = topological_order(before, before)
    by_name = {names[k]: k for k in groups}
    merged: list[Operation] = []
    for name in order:
        members = groups[by_name[name]]  # one key: steps of one kind
        kind = _KINDS.of(members[0][0])
        merged.append(kind.merge(members))
        _check_disjoint(merged[-1], kind.rows(merged[-1]))
    return tuple(merged)


def _check_disjoint(op: Operation, rows: list[Row]) -> None:
    keys = [r.key(op.key) for r in rows]
    if len(keys) != len(set(keys)):
        raise FixpackError(
            f"two targets of the batch change the same {op.table} row; use one bundle per target"
        )


def merge_conditions(items: list[tuple[str, Postcondition]]) -> tuple[Postcondition, ...]:
    """`(SELECT COUNT(*) … uuid = 'a' …) = n` for each target -> one count over `uuid IN (…)` = n·k."""
    groups: dict[tuple, list[tuple[str, Postcondition]]] = {}
    tables = _Templates([t for t, _ in items])
    declarations = Declarations()
    for target, cond in items:
        if cond.template is not None:  # a recipe step's check: one count over every target's rows
            declared = ("declared", cond.database, cond.description, declarations.key(cond.template))
            groups.setdefault(declared, []).append((target, cond))
            continue
        tree = cond.condition
        shaped = (
            isinstance(tree, exp.EQ)
            and isinstance(tree.this, exp.Subquery)
            and isinstance(tree.expression, exp.Literal)
            and not tree.expression.is_string
        )
        template = tables.of(Scope(tree.this.this.args["where"].this, ""), target) if shaped else None
        key: tuple = (
            (
                cond.database,
                cond.description.replace(target, "<target>"),
                template,
                tree.expression.this if shaped else None,
            )
            if template
            else (id(cond),)
        )
        groups.setdefault(key, []).append((target, cond))
    out = []
    for key, members in groups.items():
        if len(key) == 1 or len(members) == 1:
            out += [c for _, c in members]
            continue
        if key[0] == "declared":
            cond0 = members[0][1]
            assert cond0.template is not None
            targets = tuple(t for _, c in members for t in c.targets)
            out.append(
                replace(
                    cond0,
                    description=f"{cond0.description} (each of {len(members)} targets)",
                    condition=bind(cond0.template, targets),
                    targets=targets,
                )
            )
            continue
        target0, cond0 = members[0]
        tree = cond0.condition.copy()
        where = tree.this.this.args["where"]
        where.set(
            "this",
            _merged_scope(
                [(Scope(c.condition.this.this.args["where"].this, ""), t) for t, c in members]
            ).tree(),
        )
        tree.set("expression", exp.Literal.number(int(key[3]) * len(members)))
        out.append(
            Postcondition(
                cond0.database, cond0.description.replace(target0, f"each of {len(members)} targets"), tree
            )
        )
    return tuple(out)


def _api_commands(plans: list[Plan]) -> tuple[ApiCommand, ...]:
    """One loop over the targets when every plan's commands differ only by its target (VMs);
    else each plan's own commands, in order, once each (a volume's name its instances too)."""
    shapes = {tuple((c.command.replace(p.targets[0], "$UUID"), c.why) for c in p.api_first) for p in plans}
    if len(shapes) > 1:
        return tuple(dict.fromkeys(c for p in plans for c in p.api_first))
    first = plans[0]
    api = [ApiCommand(c.command.replace(first.targets[0], "$UUID"), c.why) for c in first.api_first]
    loop = ApiCommand(
        "for UUID in $(jq -r '.target.ids[]' manifest.json); do …; done",
        f"run the commands below for each of the {len(plans)} targets",
    )
    return (loop, *api)


def merge_plans(plans: list[Plan]) -> Plan:
    if not plans:
        raise FixpackError("nothing to merge")
    first = plans[0]
    if len({p.op for p in plans}) != 1:
        raise FixpackError("a batch bundle holds one operation")
    if first.op == "rehost":
        raise FixpackError(
            "rehost batches would bump the same placement generations twice; generate one bundle per instance"
        )
    names = {(db.role, db.database) for p in plans for db in p.databases}
    if len(names) != len({role for role, _ in names}):
        raise FixpackError("the instances are in different cells; batch them per cell")
    _refuse_shared_volumes(plans)
    ops = merge_operations([(p.targets[0], p.operations) for p in plans])
    # every database any plan writes (only instances with volumes write Cinder), in the
    # first plan's order, each later one after them; operations follow that order
    databases = list(first.databases)
    for plan in plans:
        databases += [db for db in plan.databases if db.role not in {d.role for d in databases}]
    order = [db.role for db in databases]
    ops = tuple(sorted(ops, key=lambda op: order.index(op.database)))
    return replace(
        first,
        targets=tuple(t for p in plans for t in p.targets),
        databases=tuple(databases),
        operations=ops,
        postconditions=merge_conditions([(p.targets[0], c) for p in plans for c in p.postconditions]),
        preconditions=merge_conditions([(p.targets[0], c) for p in plans for c in p.preconditions]),
        findings=tuple(f for p in plans for f in p.findings),
        warnings=tuple(dict.fromkeys(w for p in plans for w in p.warnings)),
        api_first=_api_commands(plans),
        compute=tuple(c for p in plans for c in p.compute),
        controller=None,
        extra_controllers=tuple(p.controller for p in plans if p.controller is not None),
    )


def _refuse_shared_volumes(plans: list[Plan]) -> None:
    """Each plan leaves a volume in the status its *other* attachments give it; two instances of
    one batch detaching the same multi-attach volume would each count the other's as staying."""
    seen: dict[str, str] = {}
    for plan in plans:
        for op in plan.operations:
            if op.database != "cinder" or op.table != "volume_attachment" or not isinstance(op, UpdateRows):
                continue
            for change in op.changes or ():
                volume = str(change.before["volume_id"])
                other = seen.setdefault(volume, plan.targets[0])
                if other != plan.targets[0]:
                    raise FixpackError(
                        f"instances {other} and {plan.targets[0]} are both attached to volume {volume}: "
                        "generate one bundle per instance"
                    )
