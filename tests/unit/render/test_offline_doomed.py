"""render/offline_doomed.py: the Nova cell capture lists the delete_on_termination volumes."""

from __future__ import annotations

from generator.plan.vm_common import VmOptions
from generator.plan.vm_offline import plan_vm_offline
from generator.render.offline_doomed import PREFIX, capture_lines, prefixes
from generator.render.sql import render_sql
from tests.unit import world as w


def test_the_lines_select_live_delete_on_termination_volume_bdms_of_the_instance_only():
    counted, listed = capture_lines(w.INSTANCE)
    for sql in (counted, listed):
        flat = " ".join(sql.split())
        assert f"`instance_uuid` = '{w.INSTANCE}'" in flat
        assert "`deleted` = 0 AND `delete_on_termination` = 1 AND NOT `volume_id` IS NULL" in flat
        # a value is printed as it is only with exactly a UUID's 36 characters; else as hex
        assert "CHAR_LENGTH(`volume_id`) = 36" in flat and "HEX(`volume_id`)" in flat
    count, volume, _ = prefixes(w.INSTANCE)
    joined = [" ".join(sql.split()).replace("', '", "") for sql in (counted, listed)]  # CONCAT pieces
    assert f"'{count}'" in joined[0] and f"'{volume}'" in joined[1]


def test_only_the_nova_capture_of_a_with_cinder_plan_lists_them():
    for with_cinder in (True, False):
        plan = plan_vm_offline(w.INSTANCE, VmOptions(op="soft-delete", with_cinder=with_cinder), w.RELEASE)
        assert plan.controller is not None and plan.controller.volumes_from_capture is with_cinder
        files, _ = render_sql(plan)
        for f in files:
            if f.produces:
                wanted = with_cinder and f.target == "db:nova"
                assert (PREFIX in f.text) is wanted, f.path


def test_a_batch_capture_lists_each_instance_for_its_own_controller_script():
    from generator.plan.batch import merge_plans

    other = "9d4a6f41-3f7e-4c11-9a2b-4e5f60718293"
    plans = [
        plan_vm_offline(u, VmOptions(op="soft-delete", with_cinder=True), w.RELEASE)
        for u in (w.INSTANCE, other)
    ]
    merged = merge_plans(plans)
    assert merged.controller is None and [c.instance_uuid for c in merged.extra_controllers] == [
        w.INSTANCE,
        other,
    ]
    files, _ = render_sql(merged)
    nova = next(f for f in files if f.produces and f.target == "db:nova")
    text = " ".join(nova.text.split()).replace("', '", "")
    assert all(f"'{prefixes(u)[0]}'" in text for u in (w.INSTANCE, other))
