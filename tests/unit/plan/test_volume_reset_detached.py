"""plan/volume_reset_detached.py: close a volume's attachments the way Cinder's detach does."""

from __future__ import annotations

import pytest

from generator.errors import TargetProblem
from generator.plan.volume_common import VolumeOptions
from generator.plan.volume_reset_detached import plan_reset_detached
from tests.unit import world as w

A1 = "a1b2c3d4-0000-4000-8000-000000000002"
A2 = "a1b2c3d4-0000-4000-8000-000000000003"


def _plan(facts, **options):
    return plan_reset_detached(facts, VolumeOptions(op="reset-detached", **options))


def _facts(attachments=None, cells=(), **vol):
    atts = attachments if attachments is not None else [w.attachment(A1)]
    return w.volume(vol=w.volume_row(**vol), tables={"volume_attachment": atts}, cells=cells)


def test_reset_detached_closes_the_attachment_as_cinder_does():
    op = w.one_op(_plan(_facts()), "volume_attachment")
    after = op.changes[0].after
    assert (after["attach_status"], after["deleted"]) == ("detached", 1)
    assert {"deleted_at", "detach_time"} <= op.apply_time_columns


def test_reset_detached_with_no_attachment_left_makes_the_volume_available_detached():
    after = w.one_op(_plan(_facts()), "volumes").changes[0].after
    assert (after["status"], after["attach_status"]) == ("available", "detached")


def test_reset_detached_of_one_multiattach_instance_keeps_the_volume_in_use():
    facts = _facts([w.attachment(A1), w.attachment(A2, w.OTHER_INSTANCE)], multiattach=1)
    plan = _plan(facts, instances=(w.ATTACHED_TO,))
    closed = w.one_op(plan, "volume_attachment")
    assert [c.before["id"] for c in closed.changes] == [A1]
    assert closed.scope_count == 2  # both attachments are in the scope the guard recounts
    assert any("other live attachment(s) stay" in f for f in plan.findings)
    post = [p.description for p in plan.postconditions]
    assert "the volume is in-use/attached" in post


def test_reset_detached_soft_deletes_the_attached_mode_admin_metadata():
    meta = w.row("cinder", "volume_admin_metadata", id=3, volume_id=w.VOLUME, key="attached_mode", value="rw",
                 deleted=0)  # fmt: skip
    facts = w.volume(vol=w.volume_row(), tables={"volume_attachment": [w.attachment(A1)],
                                               "volume_admin_metadata": [meta]})  # fmt: skip
    op = w.one_op(_plan(facts), "volume_admin_metadata")
    assert op.changes[0].after["deleted"] == 1


def test_reset_detached_migrates_legacy_specs_into_the_connector_before_closing():
    """Loading the attachment (attachment_delete does) moves pre-Queens specs into `connector`."""
    specs = [
        w.row("cinder", "attachment_specs", id=n, attachment_id=A1, key=k, value=v, deleted=0)
        for n, k, v in ((5, "host", "cmp-01"), (6, "multipath", "False"))
    ]
    facts = w.volume(vol=w.volume_row(), tables={"volume_attachment": [w.attachment(A1)],
                                               "attachment_specs": specs})  # fmt: skip
    plan = _plan(facts)
    (close,) = w.ops_on(plan, "volume_attachment")  # one change of the row: the close writes it
    assert close.changes[0].after["connector"] == '{"host": "cmp-01", "multipath": "False"}'
    assert close.changes[0].after["deleted"] == 1
    assert all(c.after["deleted"] == 1 for c in w.one_op(plan, "attachment_specs").changes)


def test_reset_detached_of_a_volume_already_detached_has_nothing_to_do():
    with pytest.raises(TargetProblem, match="nothing to reset"):
        _plan(_facts([], status="available", attach_status="detached"))


def test_reset_detached_refuses_a_volume_detaching_for_less_than_an_hour():
    facts = _facts(updated_at=w.NOW)
    with pytest.raises(TargetProblem, match="status 'detaching'"):
        _plan(facts)


def test_reset_detached_refuses_a_volume_being_migrated():
    with pytest.raises(TargetProblem, match="migration_status 'migrating'"):
        _plan(_facts(migration_status="migrating"))


def test_reset_detached_refuses_while_an_active_instance_holds_a_live_bdm():
    cell = w.nova_cell([w.instance_row(w.ATTACHED_TO, vm_state="active", host="cmp-01")], [w.bdm(8)])
    with pytest.raises(TargetProblem, match="the guest may be using the disk"):
        _plan(_facts(cells=[cell]))


def test_reset_detached_with_detach_nova_soft_deletes_the_bdm_and_logs_out_of_the_iscsi_target():
    cell = w.nova_cell([w.instance_row(w.ATTACHED_TO, vm_state="error", host="cmp-01")], [w.bdm(8)])
    plan = _plan(_facts(cells=[cell]), detach_nova=True)
    bdm = w.one_op(plan, "block_device_mapping", "nova")
    assert bdm.changes[0].after["deleted"] == 8
    (cleanup,) = plan.compute
    assert cleanup.volumes_only and cleanup.host == "cmp-01"
    assert cleanup.volumes[0].iscsi_targets == ((w.IQN, "192.0.2.10:3260", 1),)
    assert [d.role for d in plan.databases] == ["cinder", "nova"]


def test_reset_detached_without_detach_nova_only_warns_about_live_bdms():
    cell = w.nova_cell([w.instance_row(w.ATTACHED_TO, vm_state="error")], [w.bdm(8)])
    plan = _plan(_facts(cells=[cell]))
    assert not w.ops_on(plan, "block_device_mapping")
    assert any("pass --detach-nova" in x for x in plan.warnings)


def test_reset_detached_without_nova_warns_the_instance_side_was_not_checked():
    assert any("no Nova database was given" in x for x in _plan(_facts()).warnings)


def test_reset_detached_api_first_lists_cinder_attachment_delete_per_attachment():
    cmds = [c.command for c in _plan(_facts()).api_first]
    assert any(c.endswith(f"attachment-delete {A1}") for c in cmds)
    assert any("reset-state --state available --attach-status detached" in c for c in cmds)


def test_reset_detached_detach_nova_refuses_the_root_bdm_of_a_live_instance():
    cell = w.nova_cell(
        [w.instance_row(w.ATTACHED_TO, vm_state="error", host="cmp-01")], [w.bdm(8, boot_index=0)]
    )
    with pytest.raises(TargetProblem, match=r"root device .*refusing to reset-detached --detach-nova"):
        _plan(_facts(cells=[cell]), detach_nova=True)


def test_reset_detached_instance_keeps_an_uploading_volumes_status_as_attachment_delete():
    # --instance is Cinder's attachment_delete per attachment (volume_detached): with none left, a volume
    # being uploaded keeps its status; without --instance it is reset-state's, which sets available first
    stuck = {"status": "uploading", "updated_at": w.NOW.replace(year=w.NOW.year - 1)}
    kept = w.one_op(_plan(_facts(**stuck), instances=(w.ATTACHED_TO,)), "volumes").changes[0].after
    assert (kept["status"], kept["attach_status"]) == ("uploading", "detached")
    reset = w.one_op(_plan(_facts(**stuck)), "volumes").changes[0].after
    assert (reset["status"], reset["attach_status"]) == ("available", "detached")
