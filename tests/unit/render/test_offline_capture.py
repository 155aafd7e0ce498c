"""render/offline_capture.py: the capture file that prints an offline bundle's rollback."""

from __future__ import annotations

from generator.render.offline_capture import restore_statement, rows_in_scope
from generator.sqlgen.dialect import to_sql
from tests.unit import world as w


def _files(op: str = "soft-delete"):
    plan, files, _ = w.offline_vm_rendered(op)
    return plan, {path: f.text for path, f in files.items()}


def _capture(op: str = "soft-delete", role: str = "nova") -> str:
    index = {"nova": 15, "nova_api": 16, "placement": 17}[role]
    return _files(op)[1][f"sql/{index}-capture-{role}.sql"]


def test_capture_is_a_read_only_transaction():
    capture = _capture()
    assert "SET TRANSACTION READ ONLY;\nSTART TRANSACTION;" in capture
    assert "\nUPDATE " not in capture and "\nDELETE " not in capture


def test_capture_refuses_in_the_target_database_once_the_apply_has_run():
    capture = w.unsplit(_capture())
    assert "-- capture refused: the apply has already run in this database" in capture
    assert "'-- capture guard: the apply has not run here yet' AS `guard`" in capture


def test_capture_in_a_database_without_the_target_has_no_refusal():
    assert "capture refused" not in _capture(role="placement")


def test_capture_prints_the_rollback_steps_in_reverse_apply_order():
    capture = _capture()
    first = capture.index("-- capture for rollback step 1: instances")
    assert first < capture.index("capture for rollback step 2: pci_devices")


def test_captured_rollback_restores_an_update_by_key_only_the_columns_the_apply_set():
    plan = _files()[0]
    op = w.one_op(plan, "instance_metadata")
    text = restore_statement(op, plan.database("nova").schema.table("instance_metadata"), 3)
    printed = " ".join(w.unsplit(text).replace("\\n", " ").split())
    assert "'UPDATE `instance_metadata` SET `deleted` = " in printed
    assert "`deleted_at` = " in printed
    assert "`key` =" not in printed  # only the columns the apply set
    assert "rollback step 3: instance_metadata" in printed


def test_captured_rollback_re_inserts_a_deleted_row_with_every_column():
    plan = _files("purge")[0]
    op = w.one_op(plan, "instance_metadata")
    table = plan.database("nova").schema.table("instance_metadata")
    text = restore_statement(op, table, 1)
    assert "INSERT INTO `instance_metadata`" in text
    for column in table.column_names:
        assert f"AS `{column}`" in text


def test_captured_rollback_guards_each_row_by_row_count():
    assert "ROW_COUNT() <=> @fixpack_todo" in w.flat(_capture())


def test_captured_rollback_says_when_there_was_nothing_to_restore():
    assert "nothing to restore: the capture found no rows" in w.unsplit(_capture())


def test_rows_in_scope_sums_every_steps_scope_count():
    plan = _files()[0]
    ops = plan.operations_for("placement")
    text = w.flat(to_sql(rows_in_scope(ops)))
    assert text.count("SELECT COUNT(*) FROM") == len(ops) == 2
