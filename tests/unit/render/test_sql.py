"""render/sql.py: a live plan's SQL files per database and phase, and the guard index."""

from __future__ import annotations

from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from generator.render.sql import render_sql
from tests.unit import world as w
from tests.unit.golden import check_golden

TAG = w.row("nova", "tags", resource_id=w.INSTANCE, tag="web")


def _plan(**dbs):
    cell = {"instance_metadata": [w.metadata(1, "a"), w.metadata(2, "b")], "tags": [TAG]}
    return plan_vm(w.vm(cell_rows=cell, **dbs), VmOptions(op="soft-delete"))


def _with_placement():
    return _plan(
        api_rows={"instance_mappings": [w.row("nova_api", "instance_mappings", id=1, instance_uuid=w.INSTANCE,
                                              cell_id=2, queued_for_delete=0)]},
        placement_rows={"allocations": [w.allocation(1, w.INSTANCE, 1)],
                        "consumers": [w.consumer(1, w.INSTANCE)]},
    )  # fmt: skip


def test_files_sort_in_run_order_and_rollback_databases_come_back_in_reverse():
    files, _ = render_sql(_with_placement())
    assert [f.path for f in files] == [
        "sql/10-precheck-nova.sql", "sql/11-precheck-nova_api.sql", "sql/12-precheck-placement.sql",
        "sql/20-apply-nova.sql", "sql/21-apply-nova_api.sql", "sql/22-apply-placement.sql",
        "sql/30-verify-nova.sql", "sql/31-verify-nova_api.sql", "sql/32-verify-placement.sql",
        "sql/90-rollback-placement.sql", "sql/91-rollback-nova_api.sql", "sql/92-rollback-nova.sql",
    ]  # fmt: skip


def test_each_file_names_its_phase_and_database_target():
    files, _ = render_sql(_plan())
    assert [(f.phase, f.target) for f in files] == [
        ("precheck", "db:nova"), ("apply", "db:nova"), ("verify", "db:nova"), ("rollback", "db:nova"),
    ]  # fmt: skip


def test_apply_file_counts_the_rows_it_changes():
    files, _ = render_sql(_plan())
    apply = next(f for f in files if f.phase == "apply")
    assert apply.rows == 4  # two metadata rows, one tag, the instance
    assert "change 4 row(s)" in apply.purpose


def test_guard_index_lists_every_apply_step_with_its_purpose_and_queries():
    _, guards = render_sql(_plan())
    steps = guards["databases"]["nova"]["apply"]
    assert [(s["step"], s["table"]) for s in steps] == [
        (1, "instance_metadata"),
        (2, "tags"),
        (3, "instances"),
    ]
    assert steps[0]["purpose"].startswith("soft-delete as instance_destroy does")
    assert steps[0]["scope_expect"] == 2


def test_small_chunk_size_splits_the_apply_into_several_transactions():
    files, guards = render_sql(_plan(), chunk_rows=1)
    apply = next(f for f in files if f.phase == "apply").text
    assert apply.count("START TRANSACTION;") == 4 == apply.count("COMMIT;")
    assert [s["chunk"] for s in guards["databases"]["nova"]["apply"]] == [1, 2, 3, 4]


def test_golden_apply_file_of_a_soft_delete():
    files, _ = render_sql(_plan())
    check_golden("live-soft-delete-apply-nova.sql", next(f for f in files if f.phase == "apply").text)
