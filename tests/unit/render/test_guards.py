"""render/guards.py: what "still as seen" and "already done" mean for one step."""

from __future__ import annotations

from generator.ops.operations import (
    ApplyTime,
    CheckRows,
    CopyColumn,
    DeleteRows,
    InsertRows,
    RowChange,
    UpdateRows,
    apply_assignments,
)
from generator.plan import builders as b
from generator.render.fingerprint import python_fingerprint
from generator.render.guards import EMPTY, guard_for
from generator.sqlgen.dialect import to_sql
from tests.unit import world as w

META = w.schema("nova").table("instance_metadata")
ROWS = (w.metadata(1, "a"), w.metadata(2, "b"))
SCOPE = b.scope_where("live metadata", b.eq("instance_uuid", w.INSTANCE), b.eq("deleted", 0))


def _soft_delete():
    items = (("deleted", CopyColumn("id")), ("deleted_at", ApplyTime()))
    changes = tuple(RowChange(r, apply_assignments(META, r, items)) for r in ROWS)
    return UpdateRows(
        "nova", "instance_metadata", ("id",), "p", assignments=items, changes=changes, scope=SCOPE
    )


def test_update_guard_expects_the_pre_image_of_every_column_when_pending():
    guard = guard_for(_soft_delete(), META, scope=SCOPE, scope_expect=2)
    core = python_fingerprint(META, guard.columns, ROWS)
    assert "deleted_at" not in guard.columns and guard.extra == ("deleted_at", "id")
    extra = python_fingerprint(META, guard.extra, ROWS).split(":")[1]
    assert guard.pending_expect == f"{core}:{extra}" and extra != "0"  # the key keeps rows apart


def test_update_guard_done_side_leaves_out_apply_time_columns():
    op = _soft_delete()
    guard = guard_for(op, META, scope=SCOPE, scope_expect=2)
    assert "deleted_at" not in guard.done_columns
    assert guard.done_expect == python_fingerprint(META, guard.done_columns, [c.after for c in op.changes])


def test_delete_guard_is_done_when_the_keyed_rows_are_gone():
    op = DeleteRows("nova", "instance_metadata", ("id",), "p", rows=ROWS)
    assert guard_for(op, META, scope=None, scope_expect=None).done_expect == EMPTY


def test_insert_guard_is_pending_while_the_keyed_rows_are_absent():
    op = InsertRows("nova", "instance_metadata", ("id",), "p", rows=ROWS)
    guard = guard_for(op, META, scope=None, scope_expect=None)
    assert guard.pending_expect == EMPTY and guard.done_expect != EMPTY


def test_check_guard_compares_only_the_stable_columns_and_says_ok_or_drift():
    op = CheckRows("nova", "instance_metadata", ("id",), "p", rows=ROWS[:1], columns=("id", "key"))
    guard = guard_for(op, META, scope=None, scope_expect=None)
    assert guard.check_only and guard.pending_columns == ("id", "key")
    state = w.flat(to_sql(guard.state_expression()))
    assert "THEN 'ok' ELSE 'drift' END" in state


def test_state_is_pending_only_with_the_scope_count_and_the_pre_image_both_as_expected():
    guard = guard_for(_soft_delete(), META, scope=SCOPE, scope_expect=2)
    state = w.flat(to_sql(guard.state_expression()))
    assert state.startswith(
        f"CASE WHEN @fixpack_scope = 2 AND @fixpack_before = '{guard.pending_expect}' THEN 'pending'"
    )
    # the same measure: the done side knows no apply-time column, so compares its first two parts
    done = f"WHEN SUBSTRING_INDEX(@fixpack_before, ':', 2) = '{guard.done_expect}' THEN 'done'"
    assert done in state


def test_precheck_state_judges_the_scope_as_before_the_first_piece_ran():
    guard = guard_for(_soft_delete(), META, scope=SCOPE, scope_expect=1, scope_initial=2)
    assert "@fixpack_scope = 2" in w.flat(to_sql(guard.state_expression(initial=True)))
    assert "@fixpack_scope = 1" in w.flat(to_sql(guard.state_expression()))


def test_measure_locks_the_scope_and_the_keyed_rows_for_update():
    guard = guard_for(_soft_delete(), META, scope=SCOPE, scope_expect=2)
    statements = [w.flat(s) for s in guard.measure(META, lock=True)]
    assert statements[0].startswith("SET @fixpack_scope = (SELECT COUNT(*) FROM `instance_metadata` WHERE")
    assert statements[0].endswith("FOR UPDATE);")
    assert "`id` IN (1, 2) FOR UPDATE);" in statements[1]


def test_precheck_measure_takes_no_locks():
    guard = guard_for(_soft_delete(), META, scope=SCOPE, scope_expect=2)
    assert not any("FOR UPDATE" in s for s in guard.measure(META, lock=False))


def test_guard_index_entry_holds_the_queries_fixpack_verify_runs():
    entry = guard_for(_soft_delete(), META, scope=SCOPE, scope_expect=2).as_json(META)
    assert entry["scope_expect"] == 2 and entry["check_only"] is False
    assert "IN (1, 2)" in w.flat(entry["key_condition"])
    assert "FOR UPDATE" not in entry["pending_query"]


def test_a_delete_measures_its_rows_once():
    op = DeleteRows("nova", "instance_metadata", ("id",), "p", rows=ROWS)
    statements = guard_for(op, META, scope=None, scope_expect=None).measure(META, lock=True)
    assert sum("SHA2(" in s for s in statements) == 1 and statements[-1].startswith("SET @fixpack_before")


def test_an_update_measures_both_sides_in_one_statement():
    statements = guard_for(_soft_delete(), META, scope=SCOPE, scope_expect=2).measure(META, lock=True)
    assert [s.split(" =")[0] for s in statements] == ["SET @fixpack_scope", "SET @fixpack_before"]
    assert statements[1].count("SHA2(") == 2  # the columns both sides know, then the key + deleted_at


def test_a_rollback_update_compares_the_whole_measure_only_on_its_done_side():
    back = _soft_delete().reverse()
    assert back is not None
    guard = guard_for(back, META, scope=None, scope_expect=None)
    assert guard.pending_expect.count(":") == 1 and guard.done_expect.count(":") == 2
