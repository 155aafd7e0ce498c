"""Immutable rows and the scope conditions that select them.

A `Row` is one table row as read from the database (column order kept), with
values exactly as PyMySQL returned them; it is the pre-image a rollback
restores, so it is never mutated: `replace()` makes the post-image.

A `Scope` is the predicate that defines "every row of this table that belongs
to the target" (e.g. `instance_uuid = '…' AND deleted = 0`). The facts stage
reads rows with it, guards recount it at apply time to catch rows that
appeared after generation, and offline bundles change rows through it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlglot import exp

from generator.sqlgen.dialect import to_sql


@dataclass(frozen=True)
class Row(Mapping[str, Any]):
    columns: tuple[str, ...]
    # shadows Mapping.values() (callers read the tuple as `row.values`): use dict(row).values()
    values: tuple[Any, ...]  # type: ignore[assignment]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Row:
        return cls(tuple(data.keys()), tuple(data.values()))

    def __getitem__(self, key: str) -> Any:
        try:
            return self.values[self.columns.index(key)]
        except ValueError:
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def replace(self, **changes: Any) -> Row:
        unknown = set(changes) - set(self.columns)
        if unknown:
            raise KeyError(f"no such columns: {sorted(unknown)}")
        return Row(
            self.columns, tuple(changes.get(c, v) for c, v in zip(self.columns, self.values, strict=True))
        )

    def key(self, key_columns: tuple[str, ...]) -> tuple[Any, ...]:
        return tuple(self[c] for c in key_columns)


@dataclass(frozen=True)
class Scope:
    """A WHERE condition (sqlglot tree) plus the words a runbook uses for it."""

    condition: exp.Expr = field(compare=False, hash=False)
    description: str
    # A recipe step's scope also keeps its declaration (plan/recipe.py): the tree with the target
    # parameter and the targets bound into it, so a batch binds many targets into the same tree.
    template: exp.Expr | None = field(default=None, compare=False, hash=False, repr=False)
    targets: tuple[object, ...] = field(default=(), compare=False, hash=False)
    pattern: str = field(default="", compare=False, hash=False)  # description with "{target}"

    @cached_property
    def sql(self) -> str:
        """The condition as the bundle writes it, rendered on first use: most scopes of a batch
        (one per instance and table, before the merge) are compared or written never or once.
        The tree is never changed after construction (`tree()` hands out copies), so rendering
        it later gives what rendering it at construction gave."""
        return to_sql(self.condition)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scope) and other.sql == self.sql

    def __hash__(self) -> int:
        return hash(self.sql)

    def tree(self) -> exp.Expr:
        """A fresh copy (sqlglot trees are mutable; builders must not share nodes)."""
        return self.condition.copy()

    @staticmethod
    def built_later(
        build: Callable[[], exp.Expr],
        description: str,
        sql: str | None = None,
        *,
        template: exp.Expr | None = None,
        targets: tuple[object, ...] = (),
        pattern: str = "",
    ) -> Scope:
        """A scope whose tree is `build()`, built on first use, and whose text, if given, is `sql`
        (the caller's guarantee: what that tree renders to). A batch's facts and plans hold a
        scope per instance and table; most trees are never looked at again."""
        scope = object.__new__(_BuiltLater)
        fields = {"description": description, "template": template, "targets": targets, "pattern": pattern}
        for name, value in fields.items():
            object.__setattr__(scope, name, value)
        object.__setattr__(scope, "_build", build)
        if sql is not None:
            object.__setattr__(scope, "sql", sql)  # the cached_property's value, given
        return scope


class _BuiltLater(Scope):
    """`Scope.built_later`: `condition` is built on first use (cached), then as any scope's."""

    _build: Callable[[], exp.Expr]

    @cached_property
    def condition(self) -> exp.Expr:
        return self._build()
