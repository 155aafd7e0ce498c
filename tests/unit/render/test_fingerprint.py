"""render/fingerprint.py: row fingerprints the server and Python compute alike.

The expected values here are computed independently of the module: SHA-256 of the
canonical row text written out by hand, first 64 bits, XORed, prefixed by the count.
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
    return int(hashlib.sha256(text.encode("ascii")).hexdigest()[:16], 16)


def _hex(text: str) -> str:
    return text.encode("utf-8").hex().upper()


def test_no_rows_fingerprint_is_zero_colon_zero():
    assert python_fingerprint(META, META.column_names, []) == "0:0"


def test_one_row_fingerprint_is_count_and_sha256_prefix_of_its_canonical_text():
    row = {"id": 7, "key": "k", "value": None}
    expected = _h(f"v7,v{_hex('k')},N")
    assert python_fingerprint(META, ("id", "key", "value"), [row]) == f"1:{expected}"


def test_fingerprint_does_not_depend_on_row_order():
    a, b = {"id": 1, "key": "a"}, {"id": 2, "key": "b"}
    cols = ("id", "key")
    assert python_fingerprint(META, cols, [a, b]) == python_fingerprint(META, cols, [b, a])


def test_null_and_empty_string_fingerprint_differently():
    cols = ("key",)
    assert python_fingerprint(META, cols, [{"key": None}]) != python_fingerprint(META, cols, [{"key": ""}])


def test_text_is_hashed_as_its_utf8_bytes():
    assert python_fingerprint(META, ("key",), [{"key": "é"}]) == f"1:{_h('vC3A9')}"


def test_negative_integers_are_hashed_as_64_bit_twos_complement():
    assert python_fingerprint(META, ("id",), [{"id": -1}]) == f"1:{_h('vFFFFFFFFFFFFFFFF')}"


def test_datetime_text_follows_the_column_precision():
    when = dt.datetime(2026, 1, 2, 3, 4, 5, 123456)
    plain = python_fingerprint(META, ("created_at",), [{"created_at": when}])
    micro = python_fingerprint(WORKERS, ("updated_at",), [{"updated_at": when}])
    assert plain == f"1:{_h('v' + _hex('2026-01-02 03:04:05'))}"
    assert micro == f"1:{_h('v' + _hex('2026-01-02 03:04:05.123456'))}"


def test_server_expression_hashes_character_columns_as_utf8mb4_text():
    sql = w.flat(to_sql(fingerprint_expr(META, ("id", "key"))))
    assert "HEX(CONVERT(`instance_metadata`.`key` USING utf8mb4))" in sql
    assert "HEX(`instance_metadata`.`id`)" in sql


def test_server_expression_is_count_colon_bit_xor_of_sha2_prefixes():
    sql = w.flat(to_sql(fingerprint_expr(META, ("id",))))
    assert sql.startswith(
        "CONCAT(COUNT(*), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONCAT_WS(',', COALESCE(CONCAT('v'"
    )
    assert sql.endswith("'N')), 256), 16), 16, 10) AS UNSIGNED)))")
