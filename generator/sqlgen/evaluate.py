"""A scope's WHERE tree evaluated on a row read at generation, the way the server would.

A live bundle changes the rows its facts hold that match the step's scope; the same tree
becomes the SQL scope its guards recount and an offline bundle changes through. Evaluating
that one tree in Python (instead of a hand-written filter beside it) is what keeps the
rows a live plan picks and the rows its SQL selects from disagreeing.

The vocabulary is what the builders make: AND, OR, NOT, `=`/`<>`, `IN`, `IS NULL`, column,
literal, TRUE/FALSE. Anything else raises: a scope the evaluator cannot judge must not
silently pick rows. SQL's three-valued logic is kept (a comparison with NULL is unknown,
and a WHERE keeps only true); strings compare case-insensitively, as the services' default
`_ci` collations do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlglot import exp

Unknown = None  # SQL's third truth value


class UnsupportedScope(ValueError):
    """The tree uses SQL the evaluator does not judge (never guessed)."""


def matches(condition: exp.Expr, row: Mapping[str, Any]) -> bool:
    """Does the server's `WHERE condition` keep this row?"""
    return _truth(condition, row) is True


def _value(node: exp.Expr, row: Mapping[str, Any]) -> Any:
    if isinstance(node, exp.Column):
        return row[node.name]
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return 1 if node.this else 0
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else _number(node.this)
    if isinstance(node, exp.Neg):
        return -_value(node.this, row)
    if isinstance(node, exp.Paren):
        return _value(node.this, row)
    raise UnsupportedScope(f"cannot evaluate {node.sql(dialect='mysql')!r} on a row")


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape").casefold()
    return value


def _equal(left: Any, right: Any) -> bool | None:
    if left is None or right is None:
        return Unknown
    a, b = _comparable(left), _comparable(right)
    if isinstance(a, str) != isinstance(b, str):  # MySQL compares a number and a string as numbers
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return bool(a == b)


def _not(value: bool | None) -> bool | None:
    return Unknown if value is None else not value


def _truth(node: exp.Expr, row: Mapping[str, Any]) -> bool | None:
    if isinstance(node, exp.Paren):
        return _truth(node.this, row)
    if isinstance(node, exp.And):
        left, right = _truth(node.this, row), _truth(node.expression, row)
        if left is False or right is False:
            return False
        return Unknown if left is None or right is None else True
    if isinstance(node, exp.Or):
        left, right = _truth(node.this, row), _truth(node.expression, row)
        if left is True or right is True:
            return True
        return Unknown if left is None or right is None else False
    if isinstance(node, exp.Not):
        return _not(_truth(node.this, row))
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.EQ):
        return _equal(_value(node.this, row), _value(node.expression, row))
    if isinstance(node, exp.NEQ):
        return _not(_equal(_value(node.this, row), _value(node.expression, row)))
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        return _value(node.this, row) is None
    if isinstance(node, exp.In) and not node.args.get("query"):
        left = _value(node.this, row)
        results = [_equal(left, _value(item, row)) for item in node.expressions]
        if any(r is True for r in results):
            return True
        return Unknown if any(r is None for r in results) else False
    raise UnsupportedScope(f"cannot evaluate {node.sql(dialect='mysql')!r} on a row")
