"""One-row UPDATE statements of one step, laid out from one rendering of their shape.

A step whose rows get values of their own (a rollback restoring each row's pre-image, a
live change with per-row extras) is one keyed UPDATE per row: a 1000-VM batch rollback
writes 21,000 of them, and building and rendering each tree was a fifth of the run. They
differ only by their values, so the statement is rendered once with a named slot where
each value goes (`to_sql` minus its line wrapping), and a row's statement is that text with
each slot replaced by its value's own rendering (the same generator, settings and literal
rules: a literal renders the same inside a statement as alone), then wrapped as `to_sql`
wraps.

That holds while a row's statement takes `to_sql`'s plain path (no multi-line token, no
string literal long enough to be split); a row that does not is rendered the ordinary way.
Each new combination of value kinds (NULL, number, string, hex text…) is also rendered the
ordinary way once and compared: on any difference the step goes back to the ordinary way
for every row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlglot import exp

from generator.ops.rows import Row
from generator.sqlgen.builders import update
from generator.sqlgen.dialect import _PIECE, FixpackMySQL, to_sql, wrap
from generator.sqlgen.literals import literal_node

Where = Callable[[Row], exp.Expr]  # a row's gated key condition (render/dml.py)


def _slot(n: int) -> str:
    return f"FIXPACKSLOT{n:05d}"


def _plain(node: exp.Expr) -> bool:
    """Whether `to_sql` renders a statement holding this value on its plain one-line path."""
    for n in node.walk():
        if isinstance(n, exp.Literal | exp.Identifier | exp.HexString):
            text = str(n.this)
            if "\n" in text or (isinstance(n, exp.Literal) and n.is_string and len(text) > _PIECE):
                return False
    return True


def _kind(node: exp.Expr) -> str:
    """A value's form: the node types it is made of (a literal, NULL, CONCAT of pieces…)."""
    return ",".join(f"{type(n).__name__}:{isinstance(n, exp.Literal) and n.is_string}" for n in node.walk())


class RowStatements:
    """`to_sql(update(table, values, where(row)))` for many rows of one step, where `values`
    sets `columns` (in that order) and `where` keys the row by `key` with `literal_node`."""

    def __init__(self, table: str, columns: Sequence[str], key: Sequence[str], where: Where) -> None:
        self.table, self.columns, self.key, self.where = table, tuple(columns), tuple(key), where
        self._generator = FixpackMySQL().generator(identify=True, pretty=False)
        self._parts: list[str] | None = None  # the text between the slots, in slot order
        self._checked: set[tuple[str, ...]] = set()
        self._broken = False

    def _shape(self) -> list[str] | None:
        """The one-line statement around its slots, cut at them; None if a slot is not found once."""
        slots: dict[str, exp.Expr] = {c: exp.Var(this=_slot(n)) for n, c in enumerate(self.columns)}
        first = len(self.columns)
        markers = Row(self.key, tuple(range(len(self.key))))  # the key's values: 0, 1, … then slots
        tree = update(self.table, slots, self.where(markers))
        for literal in list(tree.args["where"].find_all(exp.Literal)):
            if not literal.is_string and literal.this.isdigit() and int(literal.this) < len(self.key):
                literal.replace(exp.Var(this=_slot(first + int(literal.this))))
        text = tree.sql(dialect=FixpackMySQL, identify=True, pretty=False)
        names = [_slot(n) for n in range(first + len(self.key))]
        if any(text.count(name) != 1 for name in names):
            return None
        parts = []
        for name in names:  # slots appear in order: SET values, then the key
            before, _, text = text.partition(name)
            if name in before:
                return None
            parts.append(before)
        return [*parts, text]

    def render(self, row: Row, values: dict[str, exp.Expr]) -> str:
        """The row's statement (no semicolon), as `to_sql` writes it."""
        ordinary = lambda: to_sql(update(self.table, values, self.where(row)), owned=True)  # noqa: E731
        if self._broken or tuple(values) != self.columns:
            return ordinary()
        nodes = [*values.values(), *(literal_node(row[k]) for k in self.key)]
        if not all(_plain(n) for n in nodes):
            return ordinary()
        if self._parts is None:
            self._parts = self._shape()
            if self._parts is None:
                self._broken = True
                return ordinary()
        texts = [self._generator.generate(n, copy=True) for n in nodes]
        pieces = [self._parts[0]]
        for text, part in zip(texts, self._parts[1:], strict=True):
            pieces += [text, part]
        fast = wrap("".join(pieces))
        kinds = tuple(_kind(n) for n in nodes)
        if kinds not in self._checked:  # a new combination of value forms: compare once
            expected = ordinary()
            if expected != fast:
                self._broken = True
                return expected
            self._checked.add(kinds)
        return fast
