"""render/sqlfile.py: chunks, guarded steps, and the precheck/apply/verify/rollback file bodies."""

from __future__ import annotations

from functools import cache

from generator.ops.operations import DeleteRows
from generator.plan import builders as b
from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from generator.render.sql import render_sql
from generator.render.sqlfile import build_chunks, reverse_chunks
from tests.unit import world as w

TAG = w.row("nova", "tags", resource_id=w.INSTANCE, tag="web")


def _plan():
    cell = {"instance_metadata": [w.metadata(1, "a"), w.metadata(2, "b")], "tags": [TAG]}
    return plan_vm(w.vm(cell_rows=cell), VmOptions(op="soft-delete"))


def _files(plan=None, chunk_rows: int = 1000):
    return dict(_rendered(chunk_rows)) if plan is None else _texts(plan, chunk_rows)


@cache
def _rendered(chunk_rows: int) -> tuple[tuple[str, str], ...]:
    return tuple(_texts(_plan(), chunk_rows).items())


def _texts(plan, chunk_rows: int) -> dict[str, str]:
    files, _ = render_sql(plan, chunk_rows)
    return {f.phase: f.text for f in files}


def _db(plan):
    return plan.database("nova")


def test_a_delete_split_in_pieces_expects_fewer_rows_in_scope_for_each_later_piece():
    rows = tuple(w.metadata(i, f"k{i}") for i in (1, 2, 3))
    scope = b.scope_where("s", b.eq("instance_uuid", w.INSTANCE))
    op = DeleteRows("nova", "instance_metadata", ("id",), "p", rows=rows, scope=scope)
    chunks = build_chunks((op,), _db(_plan()), 2)
    assert [(s.guard.scope_expect, s.guard.scope_initial) for c in chunks for s in c.steps] == [
        (3, 3),
        (1, 3),
    ]


def test_an_update_that_stays_in_scope_expects_the_whole_scope_for_every_piece():
    op = w.one_op(_plan(), "instances")
    chunks = build_chunks((op,), _db(_plan()), 1)
    assert [s.guard.scope_expect for c in chunks for s in c.steps] == [1]


def test_chunks_never_exceed_the_row_limit_and_keep_the_plans_order():
    plan = _plan()
    chunks = build_chunks(plan.operations_for("nova"), _db(plan), 2)
    assert [[(s.op.table, s.op.row_count) for s in c.steps] for c in chunks] == [
        [("instance_metadata", 2)], [("tags", 1), ("instances", 1)],
    ]  # fmt: skip


def test_rollback_chunks_are_the_apply_chunks_reversed_parents_first():
    plan = _plan()
    back = reverse_chunks(build_chunks(plan.operations_for("nova"), _db(plan), 2), _db(plan))
    assert [[s.op.table for s in c.steps] for c in back] == [["instances", "tags"], ["instance_metadata"]]


def test_rollback_of_a_chunk_restores_pre_images_one_row_per_statement():
    rollback = _files()["rollback"]
    assert rollback.count("UPDATE `instance_metadata`") == 2
    metadata = [s for s in w.flat(rollback).split(";") if s.strip().startswith("UPDATE `instance_metadata`")]
    assert len(metadata) == 2 and all("`deleted` = 0 WHERE" in s for s in metadata)


def test_rollback_re_inserts_hard_deleted_rows_with_their_key():
    rollback = w.flat(_files()["rollback"])
    assert "INSERT INTO `tags` (`resource_id`, `tag`)" in rollback


def test_rollback_that_found_nothing_applied_says_so_in_words():
    assert "nothing to roll back: this bundle has not been applied" in _files()["rollback"]


def test_apply_wraps_each_chunk_in_one_transaction_that_reports_its_result():
    apply = _files(chunk_rows=2)["apply"]
    assert apply.count("START TRANSACTION;") == 2 == apply.count("COMMIT;")
    assert "'already done; nothing changed'" in apply


def test_apply_header_forbids_running_with_force_or_source():
    assert "NEVER with --force or `source` at a prompt" in _files()["apply"]


def test_each_step_is_announced_by_a_describe_banner():
    assert (
        "-- describe(): step 1/3 — update 2 rows of instance_metadata: soft-delete as instance_destroy"
        in (_files()["apply"])
    )


def test_each_step_checks_its_row_count_and_its_planned_result():
    apply = _files()["apply"]
    assert (
        "'step 1: instance_metadata: changed 2 row(s) if pending, none if done; rows now match the pl"
        in apply
    )


def test_precheck_is_read_only_and_takes_no_locks():
    precheck = _files()["precheck"]
    assert "SET TRANSACTION READ ONLY;\nSTART TRANSACTION;" in precheck
    assert "FOR UPDATE" not in precheck
    assert "UPDATE `" not in precheck and "DELETE FROM" not in precheck


def test_verify_checks_every_postcondition_of_its_database():
    verify = _files()["verify"]
    for post in _plan().postconditions:
        assert f"-- postcondition: {post.description}" in verify


def test_a_check_step_locks_and_compares_without_changing_anything():
    plan = plan_vm(w.rehost_world(placement=False), VmOptions(op="rehost", to_host="cmp-02"))
    apply = _files(plan)["apply"]
    assert "check (no change) 1 row of services" in apply
    assert "UPDATE `services`" not in apply
    assert "'step 1: services: rows unchanged since generation' AS `guard`" in apply
