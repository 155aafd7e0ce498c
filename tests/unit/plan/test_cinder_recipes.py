"""plan/cinder_recipes.py: Cinder's detach declared once, valid on every release's schema, and the
live and offline plans of volume reset-detached and the VM Cinder group change the same rows."""

from __future__ import annotations

import pytest
from sqlglot import exp

from generator.catalog import catalog_snapshot, release_names
from generator.ops.operations import SetValue
from generator.plan.cinder_recipes import (
    ATTACHED_MODE,
    CLOSE_OF_INSTANCE,
    SPECS,
    bdm_soft_delete,
    close_of_volume,
    volume_status,
)
from generator.plan.recipe import offline_step
from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from generator.plan.vm_offline import plan_vm_offline
from generator.plan.volume_common import VolumeOptions
from generator.plan.volume_offline import plan_volume_offline
from generator.plan.volume_reset_detached import plan_reset_detached
from generator.sqlgen.dialect import to_sql
from generator.sqlgen.evaluate import matches
from tests.unit import world as w
from tests.unit.plan.test_vm_cinder import _facts as vm_facts

A1 = "a1b2c3d4-0000-4000-8000-000000000002"
STEPS = (
    CLOSE_OF_INSTANCE,
    close_of_volume(),
    close_of_volume((w.ATTACHED_TO,)),
    SPECS,
    ATTACHED_MODE,
    volume_status(SetValue("available"), SetValue("detached")),
    bdm_soft_delete((w.ATTACHED_TO,), "why"),
)
# the column each step is bound on (live: the ids read; offline: the same, or a query selecting them)
TARGET_COLUMN = {
    "volume_attachment": "volume_id",
    "attachment_specs": "attachment_id",
    "volume_admin_metadata": "volume_id",
    "volumes": "id",
    "block_device_mapping": "volume_id",
}


@pytest.mark.parametrize("release", release_names())
def test_every_column_a_step_names_or_assigns_exists_where_its_table_does(release):
    for step in STEPS:
        schema = catalog_snapshot(release, step.role)
        if not schema.has_table(step.table):
            continue
        columns = set(schema.table(step.table).column_names)
        named = {c.name for c in step.where(["u"]).find_all(exp.Column)}
        assigned = {c for c, _ in step.assignments}
        assert named | assigned <= columns, (release, step.table, (named | assigned) - columns)
        assert offline_step(step, schema, ["u"]).operations


def _unbound(scope, column: str) -> str:
    """The scope with its target written back as `column = :target` (ids, a query or one value)."""

    def strip(node: exp.Expr) -> exp.Expr:
        if (
            isinstance(node, exp.EQ | exp.In)
            and isinstance(node.this, exp.Column)
            and node.this.name == column
        ):
            return exp.EQ(this=exp.column(column), expression=exp.Placeholder(this="target"))
        return node

    return to_sql(scope.tree().transform(strip))


def _agree(live, offline, tables, column=TARGET_COLUMN):
    for table in tables:
        (lop,) = [o for o in live.operations if o.table == table]
        (oop,) = [o for o in offline.operations if o.table == table]
        one, other = _unbound(lop.scope, column[table]), _unbound(oop.scope, column[table])
        if table == "volumes":  # offline also skips a volume whose status is already what the apply computes
            assert other.startswith(one + " AND `deleted` = 0 AND (NOT `status` <=> "), (one, other)
        else:
            assert one == other, (table, one, other)


def _volume_facts():
    specs = [w.row("cinder", "attachment_specs", id=5, attachment_id=A1, key="host", value="h", deleted=0)]
    mode = [
        w.row(
            "cinder",
            "volume_admin_metadata",
            id=3,
            volume_id=w.VOLUME,
            key="attached_mode",
            value="rw",
            deleted=0,
        )
    ]
    cell = w.nova_cell([w.instance_row(w.ATTACHED_TO, vm_state="error", host="cmp-01")], [w.bdm(8)])
    tables = {
        "volume_attachment": [w.attachment(A1)],
        "attachment_specs": specs,
        "volume_admin_metadata": mode,
    }
    return w.volume(vol=w.volume_row(), tables=tables, cells=[cell])


@pytest.mark.parametrize("instances", [(), (w.ATTACHED_TO,)])
def test_live_and_offline_reset_detached_change_the_same_rows(instances):
    options = VolumeOptions(op="reset-detached", instances=instances, detach_nova=True)
    facts = _volume_facts()
    live = plan_reset_detached(facts, options)
    offline = plan_volume_offline(w.VOLUME, options, w.RELEASE)
    tables = ["attachment_specs", "volume_admin_metadata", "volumes"]
    # live names the BDMs' instances it read; offline, only those --instance names
    _agree(live, offline, tables + (["block_device_mapping"] if instances else []))
    # live closes the rows the offline scope selects; its guard recounts every live attachment of the
    # volume (the status it computed depends on those that stay)
    close, offline_close = w.one_op(live, "volume_attachment"), w.one_op(offline, "volume_attachment")
    closed = {ch.before["id"] for ch in close.changes}
    rows = facts.cinder.rows("volume_attachment")
    assert closed == {r["id"] for r in rows if matches(offline_close.scope.condition, r)}
    assert close.scope.sql == close_of_volume().scope_for([w.VOLUME]).sql


def test_live_and_offline_vm_cinder_groups_change_the_same_rows():
    live = plan_vm(vm_facts(specs=True), VmOptions(op="soft-delete"))
    offline = plan_vm_offline(w.INSTANCE, VmOptions(op="soft-delete", with_cinder=True), w.RELEASE)
    by_instance = {**TARGET_COLUMN, "volume_attachment": "instance_uuid"}
    tables = ["volume_attachment", "attachment_specs", "volume_admin_metadata"]
    _agree(live, offline, tables, by_instance)
    # one status update per volume live (values computed there), one scope over the instance's volumes offline
    for op in (o for o in live.operations if o.table == "volumes"):
        one = _unbound(op.scope, "id")
        assert _unbound(w.one_op(offline, "volumes", "cinder").scope, "id").startswith(
            one + " AND `deleted` = 0"
        )
