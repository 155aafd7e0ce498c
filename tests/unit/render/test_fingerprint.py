"""render/fingerprint.py: row fingerprints the server and Python compute alike.

The expected values here are computed independently of the module: SHA-256 of the
canonical row text written out by hand (what `QUOTE()` of each column prints, joined
by commas), first 64 bits, XORed, prefixed by the count.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from generator.render.fingerprint import fingerprint_expr, python_fingerprint
from generator.sqlgen.dialect import to_sql
from tests.unit import world as w

META = w.schema("nova").table("instance_metadata")
WORKERS = w.schema("cinder").table("workers")


def _h(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:16], 16)


def test_no_rows_fingerprint_is_zero_colon_zero():
    assert python_fingerprint(META, META.column_names, []) == "0:0"


def test_one_row_fingerprint_is_count_and_sha256_prefix_of_its_quoted_columns():
    row = {"id": 7, "key": "k", "value": None}
    text = "'7','k',NULL"
    assert python_fingerprint(META, ("id", "key", "value"), [row]) == f"1:{_h(text)}"


def test_fingerprint_does_not_depend_on_row_order():
    a, b = {"id": 1, "key": "a"}, {"id": 2, "key": "b"}
    cols = ("id", "key")
    assert python_fingerprint(META, cols, [a, b]) == python_fingerprint(META, cols, [b, a])


def test_null_the_text_null_and_empty_string_fingerprint_differently():
    cols = ("key",)
    values = [None, "", "NULL"]
    prints = {python_fingerprint(META, cols, [{"key": v}]) for v in values}
    assert len(prints) == 3


ESCAPED = "'a\\'b\\\\c\\0d\\Ze'"  # what QUOTE('a' 'b\\c' NUL 'd' Ctrl-Z 'e') prints


def test_quotes_backslashes_nul_and_ctrl_z_are_escaped_as_quote_does():
    assert python_fingerprint(META, ("key",), [{"key": "a'b\\c\0d\x1ae"}]) == f"1:{_h(ESCAPED)}"


def test_a_comma_in_a_value_cannot_shift_into_the_next_column():
    cols = ("key", "value")
    assert python_fingerprint(META, cols, [{"key": "a,'b'", "value": "c"}]) != python_fingerprint(
        META, cols, [{"key": "a", "value": "'b',c"}]
    )


def test_text_is_hashed_as_its_utf8_bytes():
    assert python_fingerprint(META, ("key",), [{"key": "é"}]) == f"1:{_h(chr(39) + 'é' + chr(39))}"


def test_negative_integers_are_their_digits():
    assert python_fingerprint(META, ("id",), [{"id": -1}]) == f"1:{_h(chr(39) + '-1' + chr(39))}"


def test_datetime_text_follows_the_column_precision():
    when = dt.datetime(2026, 1, 2, 3, 4, 5, 123456)
    plain = python_fingerprint(META, ("created_at",), [{"created_at": when}])
    micro = python_fingerprint(WORKERS, ("updated_at",), [{"updated_at": when}])
    assert plain == f"1:{_h(chr(39) + '2026-01-02 03:04:05' + chr(39))}"
    assert micro == f"1:{_h(chr(39) + '2026-01-02 03:04:05.123456' + chr(39))}"


def test_server_expression_quotes_bare_columns_and_converts_the_row_text_once():
    sql = w.flat(to_sql(fingerprint_expr(META, ("id", "key"))))
    assert "CONVERT(CONCAT_WS(',', QUOTE(`id`), QUOTE(`key`)) USING utf8mb4)" in sql


def test_server_expression_is_count_colon_bit_xor_of_sha2_prefixes():
    sql = w.flat(to_sql(fingerprint_expr(META, ("id",))))
    assert sql == (
        "CONCAT(COUNT(*), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONVERT(CONCAT_WS(',', QUOTE(`id`)) "
        "USING utf8mb4), 256), 16), 16, 10) AS UNSIGNED)))"
    )
