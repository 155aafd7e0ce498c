"""The scope evaluator judges a row as the server's WHERE would (three-valued, _ci strings)."""

from __future__ import annotations

import pytest
from sqlglot import exp

from generator.sqlgen.builders import eq, is_null, isin, not_, parse
from generator.sqlgen.evaluate import UnsupportedScope, matches

ROW = {"uuid": "AbC", "deleted": 0, "task_state": None, "id": 7, "status": "claimed"}


@pytest.mark.parametrize(
    ("condition", "kept"),
    [
        (eq("uuid", "abc"), True),  # the services' _ci collations
        (eq("uuid", "abd"), False),
        (exp.and_(eq("uuid", "abc"), eq("deleted", 0)), True),
        (exp.and_(eq("uuid", "abc"), eq("deleted", 7)), False),
        (exp.or_(eq("deleted", 1), is_null("task_state")), True),
        (isin("status", ["allocated", "claimed"]), True),
        (isin("status", []), False),  # IN () is written FALSE
        (parse("deleted = id"), False),
        (parse("deleted <> id"), True),
        (parse("id = '7'"), True),  # a number and a string compare as numbers
    ],
)
def test_a_row_is_kept_exactly_when_the_where_is_true(condition, kept):
    assert matches(condition, ROW) is kept


def test_a_comparison_with_null_is_unknown_and_so_is_its_negation():
    assert not matches(eq("task_state", "deleting"), ROW)
    assert not matches(not_(eq("task_state", "deleting")), ROW)
    assert matches(exp.or_(eq("task_state", "x"), eq("deleted", 0)), ROW)  # unknown OR true


def test_sql_it_cannot_judge_is_refused_never_guessed():
    with pytest.raises(UnsupportedScope, match="cannot evaluate"):
        matches(parse("id IN (SELECT id FROM instances)"), ROW)
    with pytest.raises(UnsupportedScope, match="cannot evaluate"):
        matches(parse("updated_at < NOW()"), ROW)
