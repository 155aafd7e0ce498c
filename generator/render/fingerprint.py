"""Row fingerprints computed identically by the server (in guards) and by Python.

A guard must prove "these rows are still exactly what fixpack saw". The
fingerprint of a set of rows is `"<count>:<xor>"` where each row contributes
the first 64 bits of SHA-256 over a canonical text of its columns:

* NULL -> `N`; anything else -> `v` + `HEX(col)`: for binary the stored bytes,
  for character columns (strings, enums) the UTF-8 bytes of the text
  (`HEX(CONVERT(col USING utf8mb4))`, so latin1 columns agree with Python);
  for integers the 64-bit two's complement value;
  for DATETIME/TIMESTAMP/DATE/TIME the server's text form (fraction digits by
  the column's precision; the session is pinned to UTC so TIMESTAMP does not
  shift). One form for almost every column keeps the SQL short and uniform.
* DECIMAL -> `CAST(col AS CHAR)` (HEX would truncate it to an integer);
* floats -> millionths rounded to an integer (approximate types cannot be
  compared exactly across servers; no table fixpack changes has one).

The Python side (`python_fingerprint`) mirrors each rule; the test suite checks
both agree on real rows, including hostile strings and 64-bit edge values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlglot import exp

from generator.schema.model import Table

_FLOAT_TYPES = frozenset({"float", "double", "real"})
_EXACT_NUMERIC = frozenset(
    {"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric", "bool", "boolean"}
)


# Character columns are hashed as their UTF-8 text: Python reads them decoded, and a latin1 (or
# utf8mb3) column's stored bytes differ from the UTF-8 bytes of the same characters.
_CHARACTER_TYPES = frozenset({"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"})
_UTF8MB4_TEXT = exp.DataType(this=exp.DataType.Type.CHARACTER_SET, kind=exp.Var(this="utf8mb4"))


def _canonical_expr(table: Table, column: str) -> exp.Expr:
    col = table.column(column)
    ref = exp.column(column, table=table.name)
    base = col.base_type
    if base in ("decimal", "numeric"):
        text: exp.Expr = exp.Cast(this=ref, to=exp.DataType.build("CHAR"))
    elif base in _FLOAT_TYPES:
        text = exp.Cast(
            this=exp.Round(this=exp.Mul(this=ref, expression=exp.Literal.number(1000000))),
            to=exp.DataType.build("SIGNED", dialect="mysql"),
        )
    elif base in _CHARACTER_TYPES:  # the characters as UTF-8, whatever the column's character set
        text = exp.Hex(this=exp.Cast(this=ref, to=_UTF8MB4_TEXT.copy()))
    else:
        text = exp.Hex(this=ref)
    return exp.Coalesce(
        this=exp.Anonymous(this="CONCAT", expressions=[exp.Literal.string("v"), text]),
        expressions=[exp.Literal.string("N")],
    )


def fingerprint_expr(table: Table, columns: Sequence[str]) -> exp.Expr:
    """`CONCAT(COUNT(*), ':', BIT_XOR(...))` over the selected rows."""
    return exp.Anonymous(
        this="CONCAT",
        expressions=[
            exp.Count(this=exp.Star()),
            exp.Literal.string(":"),
            exp.Anonymous(this="BIT_XOR", expressions=[row_digest_expr(table, columns)]),
        ],
    )


def row_digest_expr(table: Table, columns: Sequence[str]) -> exp.Expr:
    """One row's 64-bit digest (the term a fingerprint XORs); `python_row_digest` on the Python side."""
    row_text = exp.Anonymous(
        this="CONCAT_WS", expressions=[exp.Literal.string(","), *(_canonical_expr(table, c) for c in columns)]
    )
    return exp.Cast(
        this=exp.Anonymous(
            this="CONV",
            expressions=[
                exp.Anonymous(
                    this="LEFT",
                    expressions=[
                        exp.Anonymous(this="SHA2", expressions=[row_text, exp.Literal.number(256)]),
                        exp.Literal.number(16),
                    ],
                ),
                exp.Literal.number(16),
                exp.Literal.number(10),
            ],
        ),
        to=exp.DataType.build("UNSIGNED", dialect="mysql"),
    )


def _precision(ctype: str) -> int:
    """Fractional-second digits of a temporal column type: `datetime(6)` -> 6."""
    return int(ctype.split("(", 1)[1].rstrip(")")) if "(" in ctype else 0


def _hex_text(text: str) -> str:
    return text.encode("utf-8").hex().upper()


def _canonical_value(table: Table, column: str, value: object) -> str:
    if value is None:
        return "N"
    col = table.column(column)
    base = col.base_type
    if base in ("decimal", "numeric"):
        return "v" + format(Decimal(value), "f")  # type: ignore[arg-type]
    if base in _FLOAT_TYPES:
        return "v" + str(round(float(value) * 1000000))  # type: ignore[arg-type]
    if base in ("datetime", "timestamp"):
        assert isinstance(value, dt.datetime)
        digits = _precision(col.type)
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return "v" + _hex_text(text + ("." + f"{value.microsecond:06d}"[:digits] if digits else ""))
    if base == "date":
        assert isinstance(value, dt.date)
        return "v" + _hex_text(value.strftime("%Y-%m-%d"))
    if base == "time":
        assert isinstance(value, dt.timedelta)
        digits = _precision(col.type)
        micros = round(value.total_seconds() * 1000000)
        sign = "-" if micros < 0 else ""
        secs, micro = divmod(abs(micros), 1000000)
        text = f"{sign}{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}"
        return "v" + _hex_text(text + ("." + f"{micro:06d}"[:digits] if digits else ""))
    if isinstance(value, bytes | bytearray | memoryview):
        return "v" + bytes(value).hex().upper()
    if base in _EXACT_NUMERIC or isinstance(value, bool | int):
        return "v" + format(int(value) & 0xFFFFFFFFFFFFFFFF, "X")  # type: ignore[call-overload]
    return "v" + _hex_text(str(value))


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
    text = ",".join(_canonical_value(table, c, row[c]) for c in columns)
    return int(hashlib.sha256(text.encode("ascii")).hexdigest()[:16], 16)
