"""plan/volume_purge.py: hard-delete a volume and every Cinder row referencing it."""

from __future__ import annotations

from generator.ops.operations import DeleteRows
from generator.plan.volume_common import VolumeOptions
from generator.plan.volume_purge import plan_purge
from tests.unit import world as w


def _plan(facts, **options):
    return plan_purge(facts, VolumeOptions(op="purge", **options))


def _backup(id: str, deleted: int):
    return w.row("cinder", "backups", id=id, volume_id=w.VOLUME, project_id="p1", size=5, deleted=deleted,
                 status="available" if not deleted else "deleted")  # fmt: skip


def _facts(tables=None):
    vol = w.volume_row(status="deleted", attach_status="detached", deleted=1)
    return w.volume(vol=vol, tables=tables or {})


DEAD = "3c4d5e6f-7081-4d9e-8fb0-213c4d5e6f70"


def test_purge_deletes_closed_attachments_before_the_volume_row_last():
    att = w.attachment("a1b2c3d4-0000-4000-8000-000000000002", deleted=1, attach_status="detached")
    plan = _plan(_facts({"volume_attachment": [att]}))
    assert [o.table for o in plan.operations] == ["volume_attachment", "volumes"]
    assert all(isinstance(o, DeleteRows) for o in plan.operations)


def test_purge_deletes_attachment_specs_before_their_attachment():
    att = w.attachment("a1b2c3d4-0000-4000-8000-000000000002", deleted=1, attach_status="detached")
    spec = w.row("cinder", "attachment_specs", id=1, attachment_id=att["id"], key="k", value="v", deleted=1)
    tables = [
        o.table for o in _plan(_facts({"volume_attachment": [att], "attachment_specs": [spec]})).operations
    ]
    assert tables.index("attachment_specs") < tables.index("volume_attachment")


def test_purge_keeps_live_backups_and_deletes_deleted_ones():
    plan = _plan(_facts({"backups": [_backup(w.BACKUP, 0), _backup(DEAD, 1)]}))
    op = w.one_op(plan, "backups")
    assert [r["id"] for r in op.rows] == [DEAD]
    assert w.sql_of(op.scope.condition) == f"volume_id = '{w.VOLUME}' AND deleted = 1"


def test_purge_with_cascade_deletes_live_backups_and_warns_their_data_stays():
    plan = _plan(_facts({"backups": [_backup(w.BACKUP, 0)]}), cascade=True)
    assert [r["id"] for r in w.one_op(plan, "backups").rows] == [w.BACKUP]
    assert any("backup store" in x for x in plan.warnings)


def test_purge_postcondition_says_no_row_of_the_volume_remains():
    texts = w.post_texts(_plan(_facts()).postconditions)
    expected = f"(SELECT COUNT(*) FROM volumes WHERE id = '{w.VOLUME}') = 0"
    assert f"cinder: no volumes rows of the volume remain: {expected}" in texts


def test_purge_scope_of_workers_covers_the_volume_and_its_snapshots():
    worker = w.row("cinder", "workers", id=1, resource_type="Volume", resource_id=w.VOLUME, status="deleting",
                   deleted=0)  # fmt: skip
    op = w.one_op(_plan(_facts({"workers": [worker]})), "workers")
    scope = w.sql_of(op.scope.condition)
    assert "resource_type IN ('Volume', 'Snapshot')" in scope and "FROM snapshots" in scope
