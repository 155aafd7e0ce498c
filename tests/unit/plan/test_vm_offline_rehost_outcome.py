"""plan/vm_offline_rehost_outcome.py: the open move and its outcome, as SQL read at run time."""

from __future__ import annotations

from generator.plan import vm_offline_rehost_outcome as rt
from tests.unit import world as w

U = w.INSTANCE


def test_the_open_move_is_the_newest_unfinished_migration_of_the_instance():
    move_id, end, move_type = rt.session_values(U, "cmp-02", "n2")
    assert (move_id.name, end.name, move_type.name) == (rt.MOVE_ID, rt.MOVE_END, rt.MOVE_TYPE)
    assert {v.database for v in (move_id, end, move_type)} == {"nova"}
    text = w.sql_of(move_id.query)
    assert text.startswith(f"SELECT MAX(id) FROM migrations WHERE instance_uuid = '{U}' AND deleted = 0")
    assert "status IN ('queued'" in text and "'finished'" in text and "'error'" not in text
    assert rt.newest_open_id(U) == "@fixpack_move_id"


def test_the_open_moves_end_and_type_are_read_as_outcome_sql_decides():
    _, end, move_type = rt.session_values(U, "cmp-02", "n2")
    dest = "(dest_compute <=> 'cmp-02' AND (dest_node IS NULL OR dest_node <=> 'n2'))"
    source = "(source_compute <=> 'cmp-02' AND (source_node IS NULL OR source_node <=> 'n2'))"
    assert w.sql_of(end.query) == (
        f"SELECT CASE WHEN {dest} THEN 'completed' WHEN {source} THEN 'reverted' ELSE 'unknown' END "
        "FROM migrations WHERE id = @fixpack_move_id"
    )
    assert w.sql_of(move_type.query).startswith("SELECT COALESCE(migration_type, IF(old_instance_type_id")
    assert end.describe().startswith("@fixpack_move_end: how the open move ends for cmp-02 / n2")


def test_scopes_compare_the_variables_and_never_read_null():
    assert w.sql_of(rt.move_is(U, "completed", "h", "n", ("live-migration",))) == (
        "(@fixpack_move_end <=> 'completed' AND @fixpack_move_type IN ('live-migration'))"
    )
    assert w.sql_of(rt.move_is(U, "reverted", "h", "n")) == "(@fixpack_move_end <=> 'reverted')"
    the_move = w.sql_of(rt.the_move(U, "completed", "h", "n", ("resize",)))
    assert the_move.endswith(
        "AND id = @fixpack_move_id AND @fixpack_move_end <=> 'completed' AND @fixpack_move_type IN ('resize')"
    )
    assert "migrations" not in the_move  # no subquery: the variables were read once


def test_the_destination_wins_then_the_source_then_unknown():
    completed = rt.outcome_sql("completed", "cmp-02", "n2", alias="m")
    reverted = rt.outcome_sql("reverted", "cmp-02", "n2", alias="m")
    unknown = rt.outcome_sql("unknown", "cmp-02", "n2", alias="m")
    dest = "(m.dest_compute <=> 'cmp-02' AND (m.dest_node IS NULL OR m.dest_node <=> 'n2'))"
    source = "(m.source_compute <=> 'cmp-02' AND (m.source_node IS NULL OR m.source_node <=> 'n2'))"
    assert completed == dest
    assert reverted == f"NOT {dest} AND {source}"
    assert unknown == f"NOT {dest} AND NOT {source}"


def test_a_migration_without_a_type_is_a_resize_when_its_flavor_changed():
    text = rt.outcome_sql("completed", "h", "n", ("resize",))
    assert "COALESCE(migration_type, IF(old_instance_type_id <=> new_instance_type_id, 'migration', " in text
    assert text.endswith("IN ('resize')")


def test_values_are_quoted_once_for_sql():
    text = rt.outcome_sql("completed", "it's", "n")
    assert "dest_compute <=> _utf8mb4 x'69742773'" in text  # sql_literal: hex for anything but plain text


def test_reverted_vm_state_reads_the_stashed_old_vm_state():
    text = rt.reverted_vm_state(U)
    assert "`key` = 'old_vm_state' AND value = 'stopped'), 'stopped', 'active')" in text
    assert f"instance_uuid = '{U}'" in text


def test_flavor_values_come_from_the_old_or_new_flavor_object():
    assert "'$.old.\"nova_object.data\".memory_mb'" in rt.flavor_value(U, "old", "memory_mb")
