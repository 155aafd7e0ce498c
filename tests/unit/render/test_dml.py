"""render/dml.py: keyed, state-gated UPDATE/DELETE/INSERT of live operations."""

from __future__ import annotations

import datetime as dt

from generator.ops.operations import (
    ApplyTime,
    CopyColumn,
    DeleteRows,
    InsertRows,
    RowChange,
    SetValue,
    UpdateRows,
    apply_assignments,
)
from generator.render.dml import dml_for, insert_statement
from tests.unit import world as w

META = w.schema("nova").table("instance_metadata")
TAGS = w.schema("nova").table("tags")


def _update(rows, assignments):
    items = tuple(assignments.items())
    changes = tuple(RowChange(r, apply_assignments(META, r, items)) for r in rows)
    return UpdateRows("nova", "instance_metadata", ("id",), "p", assignments=items, changes=changes)


def _flat(statements):
    return [w.flat(s) for s in statements]


def test_uniform_update_is_one_statement_keyed_by_primary_key_and_gated_on_pending():
    op = _update([w.metadata(1, "a"), w.metadata(2, "b")], {"deleted": CopyColumn("id")})
    statements, expected = dml_for(op, META)
    update = _flat(statements)[0]
    assert update == (
        "UPDATE `instance_metadata` SET `deleted` = `id` WHERE "
        "(`id` IN (1, 2)) AND @fixpack_state = 'pending';"
    )
    assert expected == 2


def test_every_change_statement_is_followed_by_a_row_count_accumulation():
    op = _update([w.metadata(1, "a")], {"deleted": CopyColumn("id")})
    statements, _ = dml_for(op, META)
    assert _flat(statements)[1] == "SET @fixpack_rc = @fixpack_rc + ROW_COUNT();"


def test_apply_time_assignment_uses_the_transactions_fixpack_now():
    op = _update([w.metadata(1, "a")], {"deleted_at": ApplyTime()})
    assert "`deleted_at` = @fixpack_now" in _flat(dml_for(op, META)[0])[0]


def test_expected_count_leaves_out_rows_the_update_does_not_change():
    same = w.metadata(1, "a").replace(value="x")
    other = w.metadata(2, "b")
    op = _update([same, other], {"value": SetValue("x")})
    assert dml_for(op, META)[1] == 1  # ROW_COUNT() counts changed rows only


def test_per_row_update_writes_one_statement_per_row_with_text_as_hex():
    before = w.metadata(1, "a")
    op = UpdateRows("nova", "instance_metadata", ("id",), "p", assignments=None,
                    changes=(RowChange(before, before.replace(value="it's")),))  # fmt: skip
    update = _flat(dml_for(op, META)[0])[0]
    assert "SET `value` = _utf8mb4 x'69742773' WHERE" in update  # it's, as hex text
    assert "`id` IN (1)" in update


def test_delete_is_keyed_by_primary_key_and_expects_every_row():
    op = DeleteRows("nova", "instance_metadata", ("id",), "p", rows=(w.metadata(1, "a"), w.metadata(5, "b")))
    statements, expected = dml_for(op, META)
    assert _flat(statements)[0] == (
        "DELETE FROM `instance_metadata` WHERE (`id` IN (1, 5)) AND @fixpack_state = 'pending';"
    )
    assert expected == 2


def test_delete_with_a_composite_key_matches_each_row_on_every_key_column():
    rows = (
        w.row("nova", "tags", resource_id="u1", tag="a"),
        w.row("nova", "tags", resource_id="u1", tag="b"),
    )
    statement = _flat(dml_for(DeleteRows("nova", "tags", ("resource_id", "tag"), "p", rows=rows), TAGS)[0])[0]
    assert "(`resource_id` = 'u1' AND `tag` = 'a') OR (`resource_id` = 'u1'" in statement


def test_insert_restores_every_column_with_the_original_id_from_dual_when_pending():
    row = w.metadata(9, "k").replace(created_at=dt.datetime(2026, 1, 2, 3, 4, 5))
    text = w.flat(insert_statement(META, row))
    assert text.startswith("INSERT INTO `instance_metadata` (`created_at`, `updated_at`, `deleted_at`, `id`,")
    assert "9 AS `id`" in text and "FROM DUAL WHERE @fixpack_state = 'pending';" in text
    assert "'2026-01-02 03:04:05' AS `created_at`" in text


def test_insert_rows_yield_one_insert_per_row():
    op = InsertRows("nova", "instance_metadata", ("id",), "p", rows=(w.metadata(1, "a"), w.metadata(2, "b")))
    statements, expected = dml_for(op, META)
    assert [s.split()[0] for s in statements] == ["INSERT", "SET", "INSERT", "SET"]
    assert expected == 2


def test_common_assignments_with_a_value_of_its_own_per_row_write_each_row_with_both():
    rows = [w.metadata(1, "a"), w.metadata(2, "b")]
    items = (("deleted", CopyColumn("id")),)
    changes = tuple(
        RowChange(r, apply_assignments(META, r, items).replace(value=f"v{r['id']}")) for r in rows
    )
    op = UpdateRows("nova", "instance_metadata", ("id",), "p", assignments=items, changes=changes)
    statements, expected = dml_for(op, META)
    updates = [s for s in _flat(statements) if s.startswith("UPDATE")]
    assert updates == [
        "UPDATE `instance_metadata` SET `deleted` = `id`, `value` = _utf8mb4 x'7631' WHERE "
        "(`id` IN (1)) AND @fixpack_state = 'pending';",
        "UPDATE `instance_metadata` SET `deleted` = `id`, `value` = _utf8mb4 x'7632' WHERE "
        "(`id` IN (2)) AND @fixpack_state = 'pending';",
    ]
    assert expected == 2
