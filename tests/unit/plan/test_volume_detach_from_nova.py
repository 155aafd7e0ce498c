"""plan/volume_detach_from_nova.py: Nova's stale BDMs of a volume Cinder says is detached."""

from __future__ import annotations

import pytest

from generator.errors import TargetProblem
from generator.plan.overrides import Overrides
from generator.plan.volume_common import VolumeOptions
from generator.plan.volume_detach_from_nova import plan_detach_from_nova
from tests.unit import world as w


def _plan(facts, **options):
    return plan_detach_from_nova(facts, VolumeOptions(op="detach-from-nova", **options))


def _facts(attachments=(), vm_state="error", **bdm):
    cell = w.nova_cell([w.instance_row(w.ATTACHED_TO, vm_state=vm_state)], [w.bdm(8, **bdm)])
    vol = w.volume_row(status="available", attach_status="detached")
    return w.volume(vol=vol, tables={"volume_attachment": list(attachments)}, cells=[cell])


def test_detach_from_nova_soft_deletes_the_stale_bdm_with_deleted_equal_id():
    op = w.one_op(_plan(_facts()), "block_device_mapping")
    assert op.database == "nova"
    assert op.changes[0].after["deleted"] == 8
    assert w.sql_of(op.scope.condition) == (
        f"volume_id = '{w.VOLUME}' AND instance_uuid IN ('{w.ATTACHED_TO}') AND deleted = 0"
    )


def test_detach_from_nova_changes_nothing_in_cinder():
    plan = _plan(_facts())
    assert [d.role for d in plan.databases] == ["nova"]
    assert {o.database for o in plan.operations} == {"nova"}


def test_detach_from_nova_keeps_a_bdm_cinder_still_shows_attached():
    facts = _facts([w.attachment("a1b2c3d4-0000-4000-8000-000000000002")])
    with pytest.raises(TargetProblem, match="nothing to detach from Nova"):
        _plan(facts)


def test_detach_from_nova_refuses_a_named_instance_cinder_still_shows_attached():
    facts = _facts([w.attachment("a1b2c3d4-0000-4000-8000-000000000002")])
    with pytest.raises(TargetProblem, match="still has a live attachment"):
        _plan(facts, instances=(w.ATTACHED_TO,))


def test_detach_from_nova_needs_the_nova_databases():
    facts = w.volume(vol=w.volume_row(status="available", attach_status="detached"), nova_given=False)
    with pytest.raises(TargetProblem, match="needs the Nova databases"):
        _plan(facts)


def test_detach_from_nova_of_a_purged_volume_is_refused_without_its_flag():
    facts = w.volume(missing=True, cells=[w.nova_cell([w.instance_row(w.ATTACHED_TO)], [w.bdm(8)])])
    with pytest.raises(TargetProblem, match="not found in the Cinder database"):
        _plan(facts)


def test_detach_from_nova_refuses_when_the_instance_may_still_use_the_disk():
    with pytest.raises(TargetProblem, match=r"the guest may be using the disk.*without --allow-active-user"):
        _plan(_facts(vm_state="active"))
    plan = _plan(_facts(vm_state="active"), allow=Overrides.of("active-user"))
    assert any(
        x.startswith("--allow-active-user: ") and "the guest may be using the disk" in x
        for x in plan.warnings
    )


def test_detach_from_nova_of_an_rbd_volume_has_no_compute_script():
    rbd = '{"driver_volume_type": "rbd", "data": {"name": "volumes/volume-x"}}'
    plan = _plan(_facts(connection_info=rbd))
    assert plan.compute == ()
    assert any("rbd connection: nothing to clean up" in f for f in plan.findings)


def test_detach_from_nova_of_a_purged_volume_with_its_flag_still_soft_deletes_the_bdm():
    facts = w.volume(missing=True, cells=[w.nova_cell([w.instance_row(w.ATTACHED_TO)], [w.bdm(8)])])
    plan = _plan(facts, allow=Overrides.of("missing-volume"))
    assert w.one_op(plan, "block_device_mapping").changes[0].after["deleted"] == 8
    assert any(
        x.startswith("--allow-missing-volume: not found in the Cinder database") for x in plan.warnings
    )


def test_detach_from_nova_refuses_the_root_bdm_of_a_live_instance():
    # Nova's detach API: bdm.is_root -> "Cannot detach a root device volume"; no flag lifts it
    with pytest.raises(
        TargetProblem, match=r"root device .*boot_index 0.*Cannot detach a root device volume"
    ):
        _plan(_facts(boot_index=0))
    with pytest.raises(TargetProblem, match="root device"):
        _plan(_facts(boot_index=0), allow=Overrides.of("active-user", "attached", "missing-volume"))


def test_detach_from_nova_drops_the_root_bdm_of_a_deleted_instance():
    cell = w.nova_cell([w.instance_row(w.ATTACHED_TO, deleted=5)], [w.bdm(8, boot_index=0)])
    vol = w.volume_row(status="available", attach_status="detached")
    plan = _plan(w.volume(vol=vol, tables={"volume_attachment": []}, cells=[cell]))
    assert w.one_op(plan, "block_device_mapping").changes[0].after["deleted"] == 8
    assert any("root device of instance" in f and "deleted" in f for f in plan.findings)


def test_detach_from_nova_of_a_second_disk_is_not_a_root_refusal():
    plan = _plan(_facts(boot_index=1))
    assert w.one_op(plan, "block_device_mapping").changes[0].after["deleted"] == 8
