"""render/statements.py: the fixed statement shapes of a guarded SQL file."""

from __future__ import annotations

from sqlglot import exp

from generator.render import statements as st
from tests.unit import world as w


def test_guard_aborts_through_a_two_row_scalar_subquery_when_the_condition_fails():
    text = w.flat(st.guard("step 1: x", exp.EQ(this=st.var(st.RC), expression=exp.Literal.number(2))))
    assert text == (
        "SELECT 'step 1: x' AS `guard`, "
        "(SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_rc = 2)) AS `ok`;"
    )


def test_guard_label_is_made_safe_for_a_terminal():
    text = st.guard("bad\x1b[2Jlabel", exp.true())
    assert "\x1b" not in text


def test_read_only_transaction_binds_read_only_before_start():
    assert st.start_transaction(read_only=True) == "SET TRANSACTION READ ONLY;\nSTART TRANSACTION;"
    assert st.start_transaction() == "START TRANSACTION;"


def test_set_var_renders_a_session_variable_assignment():
    assert st.set_var(st.CHECK, exp.Literal.string("ok")) == "SET @fixpack_check = 'ok';"


def test_expected_rows_is_n_when_pending_and_zero_when_done():
    text = w.flat(st.set_var("x", st.expected_rows(3)))
    assert text == "SET @x = CASE WHEN @fixpack_state = 'pending' THEN 3 ELSE 0 END;"


def test_state_is_compares_null_safely_with_each_state():
    text = w.flat(st.set_var("x", st.state_is("pending", "done")))
    assert text == "SET @x = @fixpack_state <=> 'pending' OR @fixpack_state <=> 'done';"


def test_report_only_selects_named_values():
    assert st.report([("step", exp.Literal.string("s"))]) == "SELECT 's' AS `step`;"
