"""render/rollback_evidence.py: a rollback chunk counts, row by row, whether its apply chunk was committed."""

from __future__ import annotations

from generator.ops.operations import DeleteRows, InsertRows
from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from generator.render import rollback_evidence as ev
from generator.render.fingerprint import python_row_digest
from generator.render.sql import render_sql
from generator.render.sqlfile import build_chunks, reverse_chunks
from tests.unit import world as w

TAG = w.row("nova", "tags", resource_id=w.INSTANCE, tag="web")


def _plan():
    cell = {"instance_metadata": [w.metadata(1, "a"), w.metadata(2, "b")], "tags": [TAG]}
    return plan_vm(w.vm(cell_rows=cell), VmOptions(op="soft-delete"))


def _rollback_steps(table: str):
    plan = _plan()
    db = plan.database("nova")
    back = reverse_chunks(build_chunks(plan.operations_for("nova"), db, 1000), db)
    steps = [s for c in back for s in c.steps if s.op.table == table]
    return [(s.op, s.guard, db.schema.table(table)) for s in steps]


def test_an_update_counts_rows_as_the_apply_leaves_them_and_as_before_by_their_digests():
    ((op, guard, table),) = _rollback_steps("instance_metadata")
    text = w.flat("\n".join(ev.chunk_evidence([(op, guard, table)], 2)))
    assert op.changes is not None
    before = {python_row_digest(table, guard.done_columns, c.after) for c in op.changes}
    applied = {python_row_digest(table, guard.pending_columns, c.before) for c in op.changes}
    assert before.isdisjoint(applied)  # the soft-delete changed every row
    assert all(str(d) in text for d in before | applied)
    assert text.count("FOR UPDATE") == 2  # both counts lock the step's rows
    assert "SET @fixpack_skip = IF(@fixpack_applied_rows = 0 AND @fixpack_before_rows > 0 AND " in text
    assert "@fixpack_before_rows < 2, 1, 0)" in text


def test_a_missing_row_is_no_evidence_either_way():
    ((op, guard, table),) = _rollback_steps("tags")
    assert isinstance(op, InsertRows)  # the apply deletes the tag; the rollback re-inserts it
    text = w.flat("\n".join(ev.chunk_evidence([(op, guard, table)], 1)))
    assert "SET @fixpack_applied_rows = @fixpack_applied_rows +" not in text  # absent: not counted
    assert "SET @fixpack_before_rows = @fixpack_before_rows + (SELECT COUNT(*) FROM `tags`" in text
    back = DeleteRows("nova", "tags", op.key, "remove", rows=op.rows)  # an apply that inserted rows
    text = w.flat("\n".join(ev.chunk_evidence([(back, guard, table)], 1)))
    assert "@fixpack_applied_rows + (SELECT" in text and "@fixpack_before_rows + (SELECT" not in text


def test_skipped_chunks_pass_their_guards_and_name_their_state():
    assert w.sql_of(ev.unless_skipped(ev.skipping())) == "@fixpack_skip = 1 OR (@fixpack_skip = 1)"
    state = w.sql_of(ev.state_or_skip(ev.skipping()))
    assert state == "IF(@fixpack_skip = 1, 'not applied', @fixpack_skip = 1)"


def test_only_the_rollback_file_carries_the_evidence_and_says_not_applied():
    files, _ = render_sql(_plan(), 1000)
    texts = {f.phase: f.text for f in files if f.target == "db:nova"}
    assert "@fixpack_skip" in texts["rollback"] and "@fixpack_skip" not in texts["apply"]
    assert "not applied, nothing to undo (apply chunk 1 was never committed)" in texts["rollback"]
    assert "chunk(s) were never applied: nothing to undo there" in texts["rollback"]
