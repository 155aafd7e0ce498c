"""render/offline_doomed.py: the Nova cell capture lists the delete_on_termination volumes."""

from __future__ import annotations

from generator.plan.vm_common import VmOptions
from generator.plan.vm_offline import plan_vm_offline
from generator.render.offline_doomed import PREFIX, capture_lines
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
    assert f"'{PREFIX}s: '" in counted and f"'{PREFIX}: '" in listed


def test_only_the_nova_capture_of_a_with_cinder_plan_lists_them():
    for with_cinder in (True, False):
        plan = plan_vm_offline(w.INSTANCE, VmOptions(op="soft-delete", with_cinder=with_cinder), w.RELEASE)
        assert plan.controller is not None and plan.controller.volumes_from_capture is with_cinder
        files, _ = render_sql(plan)
        for f in files:
            if f.produces:
                wanted = with_cinder and f.target == "db:nova"
                assert (PREFIX in f.text) is wanted, f.path
