"""plan/vm_recipes.py: the soft-delete declared once, valid on every release's schema."""

from __future__ import annotations

import pytest
from sqlglot import exp

from generator.catalog import catalog_snapshot, release_names
from generator.plan.recipe import offline_step
from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from generator.plan.vm_offline import plan_vm_offline
from generator.plan.vm_recipes import (
    RELEASE_ALLOCATIONS,
    SOFT_DELETE_API,
    SOFT_DELETE_CELL_RELATED,
    SOFT_DELETE_INSTANCE,
)
from tests.unit import world as w

STEPS = (*SOFT_DELETE_API, *SOFT_DELETE_CELL_RELATED, SOFT_DELETE_INSTANCE, *RELEASE_ALLOCATIONS)
ROLE_KIND = {"nova": "nova", "nova_api": "nova_api", "placement": "placement"}


@pytest.mark.parametrize("release", release_names())
def test_every_column_a_step_names_exists_where_its_table_does(release):
    for step in STEPS:
        schema = catalog_snapshot(release, ROLE_KIND[step.role])
        if not schema.has_table(step.table):
            continue
        table = schema.table(step.table)
        named = {c.name for c in step.where(["u"]).find_all(exp.Column)}
        assert named <= set(table.column_names), (release, step.table, named - set(table.column_names))
        assert offline_step(step, schema, ["u"]).operations


def test_live_and_offline_soft_delete_change_the_same_tables_with_the_same_scopes():
    live = plan_vm(w.vm(cell_rows={"instance_metadata": [w.metadata(1, "a")]}), VmOptions(op="soft-delete"))
    offline = plan_vm_offline(w.INSTANCE, VmOptions(op="soft-delete"), w.RELEASE)
    scopes = {(op.database, op.table): op.scope.sql for op in offline.operations}
    for op in live.operations:
        if op.table in ("pci_devices", "allocations", "consumers") or op.database == "cinder":
            continue  # PCI relatives and migration consumers are known live only
        assert scopes[(op.database, op.table)] == op.scope.sql, op.table
