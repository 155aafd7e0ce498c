"""Row fingerprints computed identically by the server (in guards) and by Python.

A guard must prove "these rows are still exactly what fixpack saw". The
fingerprint of a set of rows is `"<count>:<xor>"` where each row contributes
the first 64 bits of SHA-256 over a canonical text of its columns:

* NULL -> `N`; anything else -> `v` + canonical text;
* integers and decimals -> decimal digits (`CAST(col AS CHAR)`);
* DATETIME/TIMESTAMP -> `YYYY-MM-DD HH:MM:SS.ffffff` (`DATE_FORMAT`), with the
  session pinned to UTC so TIMESTAMP columns do not shift;
* strings, enums and binary -> upper-case hex of the stored bytes (`HEX`), so
  charset and escaping never matter;
* floats -> millionths rounded to an integer (approximate types cannot be
  compared exactly across servers; no table fixpack changes has one).

The Python side (`python_fingerprint`) mirrors each rule; the test suite checks
both agree on real rows, including hostile strings and 64-bit edge values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlglot import exp

from generator.schema.model import Table

_FLOAT_TYPES = frozenset({"float", "double", "real"})
_EXACT_NUMERIC = frozenset(
    {"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric", "bool", "boolean"}
)


def _canonical_expr(table: Table, column: str) -> exp.Expression:
    col = table.column(column)
    ref = exp.column(column)
    base = col.base_type
    if base in _EXACT_NUMERIC:
        text: exp.Expression = exp.Cast(this=ref, to=exp.DataType.build("CHAR"))
    elif base in _FLOAT_TYPES:
        text = exp.Cast(
            this=exp.Round(this=exp.Mul(this=ref, expression=exp.Literal.number(1000000))),
            to=exp.DataType.build("SIGNED", dialect="mysql"),
        )
    elif base in ("datetime", "timestamp"):
        text = exp.Anonymous(this="DATE_FORMAT", expressions=[ref, exp.Literal.string("%Y-%m-%d %H:%i:%s.%f")])
    elif base == "date":
        text = exp.Anonymous(this="DATE_FORMAT", expressions=[ref, exp.Literal.string("%Y-%m-%d")])
    elif base == "time":
        text = exp.Anonymous(this="TIME_FORMAT", expressions=[ref, exp.Literal.string("%H:%i:%s.%f")])
    else:
        text = exp.Hex(this=ref)
    return exp.Coalesce(
        this=exp.Anonymous(this="CONCAT", expressions=[exp.Literal.string("v"), text]),
        expressions=[exp.Literal.string("N")],
    )


def fingerprint_expr(table: Table, columns: Sequence[str]) -> exp.Expression:
    """`CONCAT(COUNT(*), ':', BIT_XOR(...))` over the selected rows."""
    row_text = exp.Anonymous(
        this="CONCAT_WS", expressions=[exp.Literal.string(","), *(_canonical_expr(table, c) for c in columns)]
    )
    digest = exp.Cast(
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
    return exp.Anonymous(
        this="CONCAT",
        expressions=[
            exp.Count(this=exp.Star()),
            exp.Literal.string(":"),
            exp.Anonymous(this="BIT_XOR", expressions=[digest]),
        ],
    )


def _canonical_value(table: Table, column: str, value: object) -> str:
    if value is None:
        return "N"
    col = table.column(column)
    base = col.base_type
    if base in _EXACT_NUMERIC:
        if isinstance(value, bool):
            return "v" + ("1" if value else "0")
        if isinstance(value, Decimal):
            return "v" + format(value, "f")
        return "v" + str(int(value))  # type: ignore[call-overload]
    if base in _FLOAT_TYPES:
        return "v" + str(int(round(float(value) * 1000000)))  # type: ignore[arg-type]
    if base in ("datetime", "timestamp"):
        assert isinstance(value, dt.datetime)
        return "v" + value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if base == "date":
        assert isinstance(value, dt.date)
        return "v" + value.strftime("%Y-%m-%d")
    if base == "time":
        assert isinstance(value, dt.timedelta)
        total = value.total_seconds()
        sign = "-" if total < 0 else ""
        micros = abs(int(round(total * 1000000)))
        secs, micro = divmod(micros, 1000000)
        return f"v{sign}{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}.{micro:06d}"
    if isinstance(value, bytes | bytearray | memoryview):
        return "v" + bytes(value).hex().upper()
    if isinstance(value, bool | int):
        return "v" + str(int(value)).encode().hex().upper()
    return "v" + str(value).encode("utf-8").hex().upper()


def python_fingerprint(table: Table, columns: Sequence[str], rows: Iterable[dict]) -> str:
    """The value `fingerprint_expr` yields on the server for these rows."""
    count = 0
    acc = 0
    for row in rows:
        text = ",".join(_canonical_value(table, c, row[c]) for c in columns)
        acc ^= int(hashlib.sha256(text.encode("ascii")).hexdigest()[:16], 16)
        count += 1
    return f"{count}:{acc}"
