"""render/offline.py: offline SQL that finds its rows when it runs."""

from __future__ import annotations

import re
from functools import cache

import pytest

from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from generator.plan.volume_common import VolumeOptions
from generator.plan.volume_offline import plan_volume_offline
from generator.render.offline_rounds import OFFLINE_ROW_LIMIT
from generator.render.sql import render_sql
from generator.render.writeset import rounds_for
from tests.unit import world as w
from tests.unit.golden import check_golden


def _vm(op: str):
    return w.offline_vm_rendered(op)


def _text(op: str, path: str) -> str:
    return w.offline_vm_rendered(op)[1][path].text


@cache
def _volume():
    plan = plan_volume_offline(w.VOLUME, VolumeOptions(op="reset-detached"), w.RELEASE)
    files, _ = render_sql(plan)
    return plan, {f.path: f for f in files}


def test_offline_files_are_precheck_capture_apply_verify_and_a_captured_rollback():
    _, files, _ = _vm("soft-delete")
    assert list(files)[:7] == [
        "sql/10-precheck-nova.sql", "sql/11-precheck-nova_api.sql", "sql/12-precheck-placement.sql",
        "sql/15-capture-nova.sql", "sql/16-capture-nova_api.sql", "sql/17-capture-placement.sql",
        "sql/20-apply-nova.sql",
    ]  # fmt: skip
    rollback = files["captured/92-rollback-nova.sql"]
    assert rollback.text == "" and rollback.produced_by == "sql/15-capture-nova.sql"
    assert files["sql/15-capture-nova.sql"].produces == "captured/92-rollback-nova.sql"


def test_offline_guard_index_is_empty_there_are_no_fingerprints():
    assert _vm("soft-delete")[2] == {"mode": "offline", "databases": {}}


def test_offline_apply_runs_in_rounds_with_preconditions_and_limits_before_any_step():
    apply = _text("soft-delete", "sql/20-apply-nova.sql")
    rounds = rounds_for(1000)
    assert apply.count("START TRANSACTION;") == rounds == apply.count("COMMIT;") == 2
    assert apply.index("-- precondition: instance") < apply.index("-- step 1:")
    # the Galera limits are read and checked before the first write
    first_write = apply.index("UPDATE `")
    galera = apply.index("'Galera write-set limits: a chunk of 1000 row(s) fits (or wsrep is off)'")
    assert apply.index("EXECUTE fixpack_ws_read;") < galera < first_write


def test_offline_step_refuses_more_rows_than_one_target_can_have():
    apply = _text("soft-delete", "sql/20-apply-nova.sql")
    assert f"at most {OFFLINE_ROW_LIMIT} rows (offline bundles repair one target)" in apply


def test_offline_step_changes_rows_through_its_scope_and_checks_none_is_left():
    apply = w.flat(_text("soft-delete", "sql/20-apply-nova.sql"))
    assert re.search(
        re.escape(
            "UPDATE `instance_metadata` SET `deleted` = `id`, "
            "`deleted_at` = @fixpack_now WHERE "
            f"`instance_uuid` = '{w.INSTANCE}' AND `deleted` = 0 "
            "AND `id` <= @fixpack_hi_"
        )
        + r"\d+_0;",
        apply,
    )
    assert re.search(r"'step \d+: instance_metadata: no row is left needing the change' AS `guard`", apply)


def test_offline_grandchild_delete_is_a_multi_table_delete_joined_to_its_parent():
    apply = w.flat(_text("purge", "sql/20-apply-nova.sql"))
    assert (
        "DELETE `instance_actions_events` FROM `instance_actions_events` INNER JOIN `instance_actions` "
        "ON `instance_actions_events`.`action_id` = `instance_actions`.`id` "
        f"WHERE `instance_actions`.`instance_uuid` = '{w.INSTANCE}' "
        "AND `instance_actions_events`.`id` <= @fixpack_hi_"
    ) in apply


def test_offline_unindexed_scope_turns_safe_updates_off_for_that_one_statement_only():
    apply = _text("purge", "sql/20-apply-nova.sql")
    off = apply.index("SET SESSION sql_safe_updates = 0;")
    assert apply[off:].index("DELETE FROM `volume_usage_cache`") < apply[off:].index(
        "SET SESSION sql_safe_updates = 1;"
    )
    assert apply.count("SET SESSION sql_safe_updates = 0;") == rounds_for(1000)  # once per round


def test_offline_precheck_reports_how_many_rows_each_step_will_change():
    precheck = _text("soft-delete", "sql/10-precheck-nova.sql")
    assert "AS `rows_to_change`" in precheck and "FOR UPDATE" not in precheck


def test_offline_nova_precheck_prints_the_instance_host_side():
    precheck = _text("soft-delete", "sql/10-precheck-nova.sql")
    assert "'host side' AS `fixpack`" in precheck
    assert "'port' AS `fixpack`" in precheck and "'volume' AS `fixpack`" in precheck


def test_offline_cinder_precheck_prints_the_volumes_attachments():
    precheck = _volume()[1]["sql/10-precheck-cinder.sql"].text
    assert "'attachment' AS `fixpack`" in precheck


def test_offline_verify_checks_the_postconditions():
    plan, files = _volume()
    verify = files["sql/30-verify-cinder.sql"].text
    for post in plan.postconditions:
        assert f"-- postcondition: {post.description}" in verify


def test_offline_rendering_refuses_an_operation_without_a_scope():
    live = plan_vm(w.vm(), VmOptions(op="soft-delete"))
    from dataclasses import replace

    unscoped = replace(
        live, mode="offline", operations=tuple(replace(o, scope=None) for o in live.operations)
    )
    with pytest.raises(TypeError, match="offline plans need scoped updates/deletes"):
        render_sql(unscoped)


def test_golden_offline_apply_file_of_a_volume_reset_detached():
    check_golden("offline-reset-detached-apply-cinder.sql", _volume()[1]["sql/20-apply-cinder.sql"].text)
