"""The one place a Python value becomes SQL text.

Database contents are untrusted input: a `display_name` or a tag can hold
quotes, backslashes, newlines or `$(...)`. Every value that reaches generated
SQL goes through `sql_literal()` (text) or `literal_node()` (sqlglot tree),
which share one rule set:

* None -> NULL; bool -> 1/0; int/Decimal -> digits; float -> repr (round-trips).
* datetime/date/time -> a quoted literal built from digits only.
* bytes -> X'..' (exact bytes).
* str -> a readable quoted literal when it is printable ASCII without quote or
  backslash (UUIDs, hostnames, states) so reviewers can read keys; otherwise
  `_utf8mb4 X'..'`, the exact UTF-8 bytes with no escaping at all, which is
  immune to `NO_BACKSLASH_ESCAPES` and to client character-set surprises.
* `hex_text=True` forces the hex form for every string: rollback pre-images
  use it so restoration is byte-exact whatever the value.
* a value whose literal would not fit a 120-character line is written as
  `CONCAT(piece, piece, …)` of literals of the same kind (text split between
  characters, so each `_utf8mb4 X'..'` piece is whole UTF-8): the same value,
  and the statement can be wrapped between the pieces.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from sqlglot import exp

PIECE = 48  # characters (or bytes) per literal piece of a long value: 96 hex digits at most
_READABLE = re.compile(r"[\x20-\x26\x28-\x5b\x5d-\x7e]*")  # printable ASCII minus ' and \


class UnsupportedValue(TypeError):
    """A value type fixpack does not know how to write (a bug, not bad input)."""


def _temporal_text(value: dt.datetime | dt.date | dt.time | dt.timedelta) -> str:
    if isinstance(value, dt.datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return text + (f".{value.microsecond:06d}" if value.microsecond else "")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time):
        text = value.strftime("%H:%M:%S")
        return text + (f".{value.microsecond:06d}" if value.microsecond else "")
    total = int(value.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    return f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def is_readable(text: str) -> bool:
    return _READABLE.fullmatch(text) is not None


def sql_literal(value: object, *, hex_text: bool = False) -> str:
    """Render one value as MySQL/MariaDB literal text (see module docstring)."""
    if type(value) is str and not hex_text and len(value) <= 2 * PIECE and is_readable(value):
        return f"'{value}'"  # what sqlglot writes for a readable literal (a UUID): no generator run
    return literal_node(value, hex_text=hex_text).sql(dialect="mysql")


def literal_node(value: object, *, hex_text: bool = False) -> exp.Expr:
    """The same rules as `sql_literal`, as a sqlglot expression node."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Literal.number(1 if value else 0)
    if isinstance(value, int):
        return exp.Literal.number(str(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise UnsupportedValue(f"non-finite decimal {value!r}")
        return exp.Literal.number(format(value, "f"))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise UnsupportedValue(f"non-finite float {value!r}")
        return exp.Literal.number(repr(value))
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        return exp.Literal.string(_temporal_text(value))
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        return _pieces(
            [exp.HexString(this=data[i : i + PIECE].hex().upper()) for i in range(0, len(data), PIECE)]
        )
    if isinstance(value, str):
        if not hex_text and is_readable(value):
            if len(value) <= 2 * PIECE:
                return exp.Literal.string(value)
            return _pieces(
                [exp.Literal.string(value[i : i + 2 * PIECE]) for i in range(0, len(value), 2 * PIECE)]
            )
        if not value:
            return exp.Literal.string("")
        return _pieces([_utf8mb4_hex(piece) for piece in _utf8_pieces(value)])
    raise UnsupportedValue(f"cannot write {type(value).__name__} as SQL")


def _utf8mb4_hex(text: str) -> exp.Expr:
    return exp.Introducer(
        this=exp.Var(this="_utf8mb4"), expression=exp.HexString(this=text.encode("utf-8").hex().upper())
    )


def _utf8_pieces(text: str) -> list[str]:
    """`text` cut between characters into pieces of at most PIECE UTF-8 bytes (one longer character alone)."""
    pieces, current, size = [], "", 0
    for char in text:
        n = len(char.encode("utf-8"))
        if current and size + n > PIECE:
            pieces.append(current)
            current, size = "", 0
        current += char
        size += n
    return [*pieces, current] if current else pieces


def _pieces(nodes: list[exp.Expr]) -> exp.Expr:
    """One literal, or CONCAT of the pieces of a long one (empty bytes: X'')."""
    if not nodes:
        return exp.HexString(this="")
    return nodes[0] if len(nodes) == 1 else exp.Anonymous(this="CONCAT", expressions=nodes)


def quote_identifier(name: str) -> str:
    """Backtick-quote a table or column name read from the schema."""
    return "`" + name.replace("`", "``") + "`"
