"""One-row UPDATE / INSERT statements of one step, laid out from one rendering of their shape.

A step whose rows get values of their own (a rollback restoring each row's pre-image, a
live change with per-row extras, a rollback re-inserting deleted rows) is one statement per
row: a 1000-VM batch rollback writes 25,000 of them, and building and rendering each tree
was a fifth of the run. They differ only by their values, so the statement is rendered once
with a named slot where each value goes (`to_sql` minus its line wrapping), and a row's
statement is that text with each slot replaced by its value's own rendering (the same
generator, settings and literal rules: a literal renders the same inside a statement as
alone), then wrapped as `to_sql` wraps.

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


_SLOT = "FIXPACKSLOT"


def _slot(n: int) -> str:
    return f"{_SLOT}{n:05d}"


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


class _Slotted:
    """Statements of one shape: `shape()` builds it with `exp.Var` slots `_slot(0..size-1)` where
    the values go; `render` fills them with value nodes (the same nodes, in slot order, that the
    caller's `ordinary()` rendering of the same statement holds)."""

    def __init__(self, shape: Callable[[], exp.Expr], size: int) -> None:
        self.shape, self.size = shape, size
        self._generator = FixpackMySQL().generator(identify=True, pretty=False)
        self._parts: list[str] | None = None  # the one-line text between the slots, in slot order
        self._checked: set[tuple[str, ...]] = set()
        self.broken = False

    def _cut(self) -> list[str] | None:
        """The shape's one-line text cut at its slots; None unless each slot appears once, in order."""
        text = self.shape().sql(dialect=FixpackMySQL, identify=True, pretty=False)
        parts = []
        for name in (_slot(n) for n in range(self.size)):
            before, found, text = text.partition(name)
            if not found or name in text or _SLOT in before:
                return None
            parts.append(before)
        return None if _SLOT in text else [*parts, text]

    def render(self, nodes: list[exp.Expr], ordinary: Callable[[], str]) -> str:
        if self.broken or len(nodes) != self.size or not all(_plain(n) for n in nodes):
            return ordinary()
        if self._parts is None:
            self._parts = self._cut()
            if self._parts is None:
                self.broken = True
                return ordinary()
        pieces = [self._parts[0]]
        for node, part in zip(nodes, self._parts[1:], strict=True):
            pieces += [self._generator.generate(node, copy=True), part]
        fast = wrap("".join(pieces))
        kinds = tuple(_kind(n) for n in nodes)
        if kinds not in self._checked:  # a new combination of value forms: compare once
            expected = ordinary()
            if expected != fast:
                self.broken = True
                return expected
            self._checked.add(kinds)
        return fast


class RowStatements:
    """`to_sql(update(table, values, where(row)))` for many rows of one step, where `values`
    sets `columns` (in that order) and `where` keys the row by `key` with `literal_node`."""

    def __init__(self, table: str, columns: Sequence[str], key: Sequence[str], where: Where) -> None:
        self.table, self.columns, self.key, self.where = table, tuple(columns), tuple(key), where
        self._slotted = _Slotted(self._shape, len(self.columns) + len(self.key))

    def _shape(self) -> exp.Expr:
        slots: dict[str, exp.Expr] = {c: exp.Var(this=_slot(n)) for n, c in enumerate(self.columns)}
        first = len(self.columns)
        markers = Row(self.key, tuple(range(len(self.key))))  # the key's values: 0, 1, … then slots
        tree = update(self.table, slots, self.where(markers))
        for literal in list(tree.args["where"].find_all(exp.Literal)):
            if not literal.is_string and literal.this.isdigit() and int(literal.this) < len(self.key):
                literal.replace(exp.Var(this=_slot(first + int(literal.this))))
        return tree

    def render(self, row: Row, values: dict[str, exp.Expr]) -> str:
        """The row's statement (no semicolon), as `to_sql` writes it."""

        def ordinary() -> str:
            return to_sql(update(self.table, values, self.where(row)), owned=True)

        if tuple(values) != self.columns:
            return ordinary()
        nodes = [*values.values(), *(literal_node(row[k]) for k in self.key)]
        return self._slotted.render(nodes, ordinary)


class RowInserts:
    """render/dml.py `insert_statement` — INSERT INTO table (columns) SELECT <each value, hex
    text> AS column FROM DUAL WHERE pending — for many rows with the same columns: `shape(values)`
    builds that statement around value nodes."""

    def __init__(self, columns: Sequence[str], shape: Callable[[list[exp.Expr]], exp.Expr]) -> None:
        self.columns = tuple(columns)
        slots: list[exp.Expr] = [exp.Var(this=_slot(n)) for n in range(len(self.columns))]
        self._slotted = _Slotted(lambda: shape(slots), len(self.columns))

    def render(self, row: Row, ordinary: Callable[[], str]) -> str:
        """The row's statement (no semicolon); `ordinary()` renders it the ordinary way."""
        return self._slotted.render([literal_node(row[c], hex_text=True) for c in self.columns], ordinary)
