"""Statement shapes: what a shape keeps (structure, names' sameness, compared NULLs) and what it drops.

A live bundle's statements carry row values and are wrapped at 120 characters, so where
their lines break depends on those values; shapes must not, or each live bundle would
bring shapes no shipped verdict covers (and sqlfluff would run on a fresh machine).
"""

from __future__ import annotations

from generator.lint.shapes import shape_of
from generator.sqlgen.dialect import wrap

RESTORE = "UPDATE `block_device_mapping` SET {} WHERE (`id` IN ({})) AND @fixpack_state = 'apply';"


def test_where_lines_break_does_not_change_the_shape() -> None:
    short = "SET @fixpack_scope = (SELECT COUNT(*) FROM `tags` WHERE `resource_id` = 'ab');"
    long = short.replace("'ab'", "'" + "a-much-longer-value" * 5 + "'").replace(
        "`tags`", "`instance_metadata`"
    )
    assert "\n" not in wrap(short) and "\n" in wrap(long)
    assert shape_of(wrap(short)) == shape_of(wrap(long))
    assert shape_of(wrap(long)).count("\n") == 1  # one line


def test_a_row_s_values_do_not_change_the_shape() -> None:
    one = RESTORE.format("`a` = 'x', `b` = NULL, `c` = 3, `d` = x'0a'", "1")
    other = RESTORE.format("`a` = NULL, `b` = 'y', `c` = NULL, `d` = -4", "1")
    wider = RESTORE.format(", ".join(f"`c{i}` = {'NULL' if i % 3 else i}" for i in range(40)), "9")
    assert shape_of(RESTORE.format("`a` = 1", "1, 2")) == shape_of(RESTORE.format("`a` = 1", "1, 2, 3, 4"))
    assert shape_of(one) == shape_of(other) == shape_of(wider)
    pairs = "SELECT {} FROM DUAL WHERE @fixpack_state = 'apply';"
    assert shape_of(pairs.format("'x' AS `a`, NULL AS `b`, 1 AS `c`, 'y' AS `d`")) == shape_of(
        pairs.format("NULL AS `a`, 2 AS `b`, x'00' AS `c`, NULL AS `d`, 7 AS `e`, 'z' AS `f`")
    )


def test_a_compared_null_and_the_structure_are_kept() -> None:
    assert "= NULL" in shape_of("SELECT `a` FROM `t` WHERE `b` = NULL;")  # sqlfluff CV05 still sees it
    inner = shape_of(RESTORE.format("`a` = IF(`b` = NULL, 1, 2)", "1"))
    assert "`c3` = NULL" in inner  # a comparison inside a SET value is not a row's value
    assert shape_of("SELECT `a` FROM `t`;") != shape_of("SELECT `a` FROM `t` AS `t2`;")
    assert shape_of("SELECT COUNT(*) FROM `t`;") == "SELECT COUNT(*) FROM `c1`;\n"  # no space added


def test_comments_and_extra_whitespace_are_dropped() -> None:
    text = "SELECT `a` -- the key\n  ,   `b`\nFROM `t`  WHERE `a` IN ( 1,2 ,3 );"
    assert shape_of(text) == "SELECT `c1`, `c2` FROM `c3` WHERE `c1` IN (0, 0);\n"
