"""plan/vm_cinder.py: the Cinder side of a VM delete (Cinder's attachment_delete per volume BDM)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from generator.errors import TargetProblem
from generator.ops.operations import ApplyTime, SetValue
from generator.plan.vm import plan_vm
from generator.plan.vm_cinder import plan_cinder_side
from generator.plan.vm_common import VmOptions
from tests.unit import world as w

A1 = "a1b2c3d4-0000-4000-8000-000000000001"
A2 = "a1b2c3d4-0000-4000-8000-000000000002"
OTHERS = "a1b2c3d4-0000-4000-8000-000000000003"


def _facts(*, multiattach: bool = False, dot: bool = True, specs: bool = False):
    """The instance with two volumes: VOLUME (delete_on_termination) and OTHER_VOLUME."""
    atts = [
        w.attachment(A1, w.INSTANCE, volume_id=w.VOLUME),
        w.attachment(A2, w.INSTANCE, volume_id=w.OTHER_VOLUME),
    ]
    if multiattach:
        atts.append(w.attachment(OTHERS, w.OTHER_INSTANCE, volume_id=w.OTHER_VOLUME))
    vols = [
        w.volume_row(id=w.VOLUME, status="in-use", attach_status="attached"),
        w.volume_row(id=w.OTHER_VOLUME, status="in-use", attach_status="attached"),
    ]
    mode = [
        w.row(
            "cinder", "volume_admin_metadata", id=n, volume_id=v, key="attached_mode", value="rw", deleted=0
        )
        for n, v in ((1, w.VOLUME), (2, w.OTHER_VOLUME))
    ]
    spec_rows = (
        [w.row("cinder", "attachment_specs", id=7, attachment_id=A1, key="host", value="cmp-01", deleted=0)]
        if specs
        else []
    )
    return w.vm(
        cell_rows={
            "block_device_mapping": [
                w.bdm(1, w.INSTANCE, w.VOLUME, attachment_id=A1, delete_on_termination=int(dot)),
                w.bdm(2, w.INSTANCE, w.OTHER_VOLUME, attachment_id=A2, delete_on_termination=0),
            ]
        },
        cinder_rows={
            "volume_attachment": atts,
            "volumes": vols,
            "volume_admin_metadata": mode,
            "attachment_specs": spec_rows,
        },
    )


def test_ends_each_attachment_of_the_instance_as_volume_detached_does():
    side = plan_cinder_side(_facts(), skip_cinder=False)
    (op,) = [o for o in side.operations if o.table == "volume_attachment"]
    assert sorted(c.before["id"] for c in op.changes) == [A1, A2]
    assigned = dict(op.assignments)
    assert assigned["attach_status"] == SetValue("detached")
    assert assigned["deleted"] == SetValue(True)
    # the ORM's onupdate fires although VolumeAttachment.delete() passes the old value
    assert assigned["updated_at"] == ApplyTime()
    assert assigned["detach_time"] == ApplyTime()


def test_volumes_become_available_and_attached_mode_is_forgotten():
    side = plan_cinder_side(_facts(), skip_cinder=False)
    vols = [o for o in side.operations if o.table == "volumes"]
    assert sorted(o.changes[0].before["id"] for o in vols) == sorted([w.VOLUME, w.OTHER_VOLUME])
    for op in vols:
        assert dict(op.assignments)["status"] == SetValue("available")
        assert dict(op.assignments)["attach_status"] == SetValue("detached")
    (meta,) = [o for o in side.operations if o.table == "volume_admin_metadata"]
    assert len(meta.changes) == 2
    assert "updated_at" not in dict(meta.assignments)  # volume_admin_metadata_delete keeps it


def test_a_multiattach_volume_stays_in_use_for_the_other_instance():
    side = plan_cinder_side(_facts(multiattach=True), skip_cinder=False)
    (vol,) = [o for o in side.operations if o.table == "volumes"]
    assert vol.changes[0].before["id"] == w.VOLUME  # OTHER_VOLUME stays in-use/attached: not written
    assert any("1 other live attachment(s) stay" in f for f in side.findings)


def test_legacy_attachment_specs_are_soft_deleted_with_updated_at_kept():
    side = plan_cinder_side(_facts(specs=True), skip_cinder=False)
    (op,) = [o for o in side.operations if o.table == "attachment_specs"]
    assert [c.before["id"] for c in op.changes] == [7]
    assert "updated_at" not in dict(op.assignments)
    # loading the attachment first migrates the specs into its connector (online data migration):
    # the close writes it, so each attachment row changes once (one guard per row)
    (close,) = [o for o in side.operations if o.table == "volume_attachment"]
    after = {c.before["id"]: c.after for c in close.changes}
    assert after[A1]["connector"] == '{"host": "cmp-01"}' and after[A1]["attach_status"] == "detached"


def test_delete_on_termination_volumes_go_to_controller_sh_in_the_plan():
    plan = plan_vm(_facts(), VmOptions(op="soft-delete"))
    assert plan.controller.volumes_to_delete == (w.VOLUME,)
    assert plan.controller.volumes_to_detach == ()
    assert [d.role for d in plan.databases][-1] == "cinder"
    assert any(o.database == "cinder" for o in plan.operations)


def test_purge_ends_the_attachments_too():
    plan = plan_vm(_facts(dot=False), VmOptions(op="purge"))
    assert w.one_op(plan, "volume_attachment", "cinder")
    assert plan.controller.volumes_to_delete == ()


def test_no_cinder_database_refuses_an_instance_with_volumes_naming_skip_cinder():
    facts = w.vm(cell_rows={"block_device_mapping": [w.bdm(1, w.INSTANCE, w.VOLUME, attachment_id=A1)]})
    with pytest.raises(TargetProblem, match="--skip-cinder"):
        plan_vm(facts, VmOptions(op="soft-delete"))


def test_skip_cinder_lists_the_api_commands_to_finish():
    facts = w.vm(
        cell_rows={
            "block_device_mapping": [
                w.bdm(1, w.INSTANCE, w.VOLUME, attachment_id=A1, delete_on_termination=1)
            ]
        }
    )
    plan = plan_vm(facts, VmOptions(op="soft-delete", skip_cinder=True))
    commands = [c.command for c in plan.api_first]
    assert f"cinder --os-volume-api-version 3.27 attachment-delete {A1}" in commands
    assert f"openstack volume delete {w.VOLUME}" in commands
    assert any("--skip-cinder" in x and w.VOLUME in x for x in plan.warnings)
    assert not any(o.database == "cinder" for o in plan.operations)


def test_an_instance_without_volumes_needs_no_cinder():
    plan = plan_vm(w.vm(), VmOptions(op="soft-delete"))
    assert not any(o.database == "cinder" for o in plan.operations)


def test_cinder_keeps_its_own_release_when_nova_runs_another():
    facts = _facts()
    tables = {t: list(r.rows) for t, r in facts.cinder.tables.items()}
    older = w.database("cinder", "cinder", tables, label="Cinder database", release="2024.1")
    plan = plan_vm(replace(facts, cinder=older), VmOptions(op="soft-delete"))
    releases = {d.role: d.release for d in plan.databases}
    assert releases["cinder"] == "2024.1" and releases["nova"] == w.RELEASE != "2024.1"
    assert w.one_op(plan, "volume_attachment", "cinder")
