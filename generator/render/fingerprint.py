"""Row fingerprints computed identically by the server (in guards) and by Python.

A guard must prove "these rows are still exactly what fixpack saw". The
fingerprint of a set of rows is `"<count>:<xor>"` where each row contributes
the first 64 bits of SHA-256 over a canonical text of its columns:
`CONVERT(CONCAT_WS(',', QUOTE(a), QUOTE(b), …) USING utf8mb4)`.

`QUOTE()` makes the text injective at little cost per column (a reviewer reads
`QUOTE(`host`)`, not a nest of functions): NULL becomes the bare word `NULL`,
anything else a quoted literal with `\\`, `'`, NUL and Ctrl-Z escaped, so no
value can shift into its neighbour and NULL never equals the text 'NULL'.
What is quoted, per column type:
* character columns (strings, enums, json): the text; the whole row text is
  converted to utf8mb4 once, so a latin1 column hashes like Python reads it;
* integers and DECIMAL: their digits as the server prints them;
* DATETIME/TIMESTAMP/DATE/TIME: the server's text form (fraction digits by the
  column's precision; the session is pinned to UTC so TIMESTAMP does not shift);
* binary and BIT columns: `HEX()` of the stored bytes (binary text would leak
  into the row's character set);
* floats: millionths rounded to an integer (approximate types cannot be
  compared exactly across servers; no table fixpack changes has one).

Columns are written unqualified: every fingerprint reads one table. The Python
side (`python_fingerprint`) mirrors each rule; the test suite checks both agree
on real rows, including hostile strings, latin1 columns and 64-bit edge values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlglot import exp

from generator.ops.rows import Row
from generator.schema.model import Column, Table

_FLOAT_TYPES = frozenset({"float", "double", "real"})
_HEX_TYPES = frozenset({"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit"})
_UTF8MB4_TEXT = exp.DataType(this=exp.DataType.Type.CHARACTER_SET, kind=exp.Var(this="utf8mb4"))


def _quote(node: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this="QUOTE", expressions=[node])


def _canonical_expr(table: Table, column: str) -> exp.Expr:
    base = table.column(column).base_type
    ref = exp.column(column)
    if base in _FLOAT_TYPES:
        millionths = exp.Round(this=exp.Mul(this=ref, expression=exp.Literal.number(1000000)))
        return _quote(exp.Cast(this=millionths, to=exp.DataType.build("SIGNED", dialect="mysql")))
    if base in _HEX_TYPES:
        return _quote(exp.Hex(this=ref))
    return _quote(ref)


def fingerprint_expr(table: Table, columns: Sequence[str], extra: Sequence[str] = ()) -> exp.Expr:
    """`CONCAT(COUNT(*), ':', BIT_XOR(...))` over the selected rows; with `extra`, `':', BIT_XOR(...)`
    over those columns appended (render/guards.py: columns only one side of a change knows)."""
    parts: list[exp.Expr] = [
        exp.Count(this=exp.Star()),
        exp.Literal.string(":"),
        exp.Anonymous(this="BIT_XOR", expressions=[row_digest_expr(table, columns)]),
    ]
    if extra:
        parts += [
            exp.Literal.string(":"),
            exp.Anonymous(this="BIT_XOR", expressions=[row_digest_expr(table, extra)]),
        ]
    return exp.Anonymous(this="CONCAT", expressions=parts)


def row_digest_expr(table: Table, columns: Sequence[str]) -> exp.Expr:
    """One row's 64-bit digest (the term a fingerprint XORs); `python_row_digest` on the Python side."""
    row_text = exp.Cast(
        this=exp.Anonymous(
            this="CONCAT_WS",
            expressions=[exp.Literal.string(","), *(_canonical_expr(table, c) for c in columns)],
        ),
        to=_UTF8MB4_TEXT.copy(),
    )
    sha = exp.Anonymous(this="SHA2", expressions=[row_text, exp.Literal.number(256)])
    prefix = exp.Anonymous(this="LEFT", expressions=[sha, exp.Literal.number(16)])
    return exp.Cast(
        this=exp.Anonymous(this="CONV", expressions=[prefix, exp.Literal.number(16), exp.Literal.number(10)]),
        to=exp.DataType.build("UNSIGNED", dialect="mysql"),
    )


def _precision(ctype: str) -> int:
    """Fractional-second digits of a temporal column type: `datetime(6)` -> 6."""
    return int(ctype.split("(", 1)[1].rstrip(")")) if "(" in ctype else 0


_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\0": "\\0", "\x1a": "\\Z"})


ValueText = Callable[[Any], str]


def _plain_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8")
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


def _hex_text(base: str) -> ValueText:
    def text(value: Any) -> str:
        raw = bytes(value) if isinstance(value, bytes | bytearray | memoryview) else None
        if base == "bit":  # HEX() of a BIT column prints its numeric value
            number = int.from_bytes(raw, "big") if raw is not None else int(value)
            return format(number, "X")
        return (raw if raw is not None else str(value).encode("utf-8")).hex().upper()

    return text


def _datetime_text(digits: int) -> ValueText:
    def text(value: Any) -> str:
        assert isinstance(value, dt.datetime)
        out = value.strftime("%Y-%m-%d %H:%M:%S")
        return out + ("." + f"{value.microsecond:06d}"[:digits] if digits else "")

    return text


def _date_text(value: Any) -> str:
    assert isinstance(value, dt.date)
    return value.strftime("%Y-%m-%d")


def _time_text(digits: int) -> ValueText:
    def text(value: Any) -> str:
        assert isinstance(value, dt.timedelta)
        micros = round(value.total_seconds() * 1000000)
        sign = "-" if micros < 0 else ""
        secs, micro = divmod(abs(micros), 1000000)
        out = f"{sign}{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}"
        return out + ("." + f"{micro:06d}"[:digits] if digits else "")

    return text


def _text_of(column: Column) -> ValueText:
    """How the server prints one column's non-NULL values inside QUOTE() (`_canonical_expr`)."""
    base = column.base_type
    if base in _FLOAT_TYPES:
        return lambda value: str(round(float(value) * 1000000))
    if base in _HEX_TYPES:
        return _hex_text(base)
    if base in ("decimal", "numeric"):
        return lambda value: format(Decimal(value), "f")
    if base in ("datetime", "timestamp"):
        return _datetime_text(_precision(column.type))
    if base == "date":
        return _date_text
    if base == "time":
        return _time_text(_precision(column.type))
    return _plain_text


# (id of a table, columns) -> (the table, kept alive so its id is not reused, and per column its
# name and value text). A bundle of a thousand instances digests tens of thousands of rows of the
# same few tables: the per-column decisions are made once per table, not once per value.
_CONVERTERS: dict[tuple[int, tuple[str, ...]], tuple[Table, tuple[tuple[str, ValueText], ...]]] = {}


def _converters(table: Table, columns: Sequence[str]) -> tuple[tuple[str, ValueText], ...]:
    key = (id(table), tuple(columns))
    found = _CONVERTERS.get(key)
    if found is None or found[0] is not table:
        by_name = {c.name: c for c in table.columns}
        found = (table, tuple((name, _text_of(by_name[name])) for name in key[1]))
        _CONVERTERS[key] = found
    return found[1]


def python_fingerprint(table: Table, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """The value `fingerprint_expr` yields on the server for these rows."""
    count = 0
    acc = 0
    for row in rows:
        acc ^= python_row_digest(table, columns, row)
        count += 1
    return f"{count}:{acc}"


def python_row_digest(table: Table, columns: Sequence[str], row: Mapping[str, Any]) -> int:
    """The value `row_digest_expr` yields on the server for this row."""
    if isinstance(row, Row):  # a dict once per row: Row looks a column up by its position
        row = dict(zip(row.columns, row.values, strict=True))
    parts = []
    for name, text in _converters(table, columns):
        value = row[name]
        parts.append("NULL" if value is None else "'" + text(value).translate(_ESCAPES) + "'")  # QUOTE()
    return int(hashlib.sha256(",".join(parts).encode("utf-8")).hexdigest()[:16], 16)
