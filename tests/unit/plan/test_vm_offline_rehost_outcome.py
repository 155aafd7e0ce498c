"""plan/vm_offline_rehost_outcome.py: the open move and its outcome, as SQL read at run time."""

from __future__ import annotations

from generator.plan import vm_offline_rehost_outcome as rt
from tests.unit import world as w

U = w.INSTANCE


def test_the_open_move_is_the_newest_unfinished_migration_of_the_instance():
    text = rt.newest_open_id(U)
    assert text.startswith("(SELECT fixpack_move.id FROM (SELECT id, source_compute")
    assert f"instance_uuid = '{U}' AND deleted = 0 AND status IN ('queued'" in text
    assert "'finished'" in text and "'error'" not in text
    assert text.endswith("ORDER BY id DESC LIMIT 1) AS fixpack_move)")


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
