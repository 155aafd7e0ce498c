"""plan/vm_rehost_context.py: the migration context side Nova applies when the move ends."""

from __future__ import annotations

import json

from tests.unit import world as w
from tests.unit.plan.test_vm_rehost_outcome import SMALL, _instance, _plan


def _numa(cell: int) -> dict:
    return {"nova_object.name": "InstanceNUMATopology", "nova_object.data": {"cells": [{"id": cell}]}}


def _pci(alias: str) -> dict:
    req = {"nova_object.data": {"count": 1, "spec": [{"vendor_id": "8086"}], "alias_name": alias,
                                "request_id": None, "numa_policy": None, "requester_id": None}}  # fmt: skip
    return {"nova_object.name": "InstancePCIRequests", "nova_object.data": {"requests": [req]}}


RESOURCES = {"nova_object.name": "ResourceList", "nova_object.data": {"objects": []}}
CONTEXT = {"nova_object.data": {
    "migration_id": 4, "old_numa_topology": _numa(0), "new_numa_topology": _numa(1),
    "old_pci_requests": _pci("nic-a"), "new_pci_requests": _pci("nic-b"), "new_resources": RESOURCES,
}}  # fmt: skip


def _world(mig, context: object = CONTEXT):
    extra = w.row(
        "nova", "instance_extra", id=9, instance_uuid=w.INSTANCE, deleted=0, numa_topology=None,
        pci_requests="[]", resources=None, flavor=json.dumps({"cur": SMALL, "old": SMALL, "new": SMALL}),
        migration_context=context if isinstance(context, str) else json.dumps(context),
    )  # fmt: skip
    return w.rehost_world(migrations=[mig], instance=_instance(), extra=[extra])


def _extra_after(plan) -> dict:
    return w.one_op(plan, "instance_extra").changes[0].after


def test_a_completed_move_applies_the_new_side_as_nova_saves_it():
    # before: numa_topology, pci_requests and resources stayed the source's
    after = _extra_after(_plan(_world(w.migration(4, "running", kind="live-migration"))))
    assert json.loads(after["numa_topology"]) == _numa(1)
    # InstancePCIRequests.to_json(): a plain list of seven keys, is_new defaulting to False
    assert json.loads(after["pci_requests"]) == [
        {"count": 1, "spec": [{"vendor_id": "8086"}], "alias_name": "nic-b", "is_new": False,
         "numa_policy": None, "request_id": None, "requester_id": None},
    ]  # fmt: skip
    assert json.loads(after["resources"]) == RESOURCES and after["migration_context"] is None


def test_a_reverted_resize_reverts_to_the_old_side_and_a_missing_side_is_null():
    mig = w.migration(4, "error", kind="resize", source="cmp-02", dest="cmp-01")
    after = _extra_after(_plan(_world(mig)))
    assert json.loads(after["numa_topology"]) == _numa(0)
    assert [r["alias_name"] for r in json.loads(after["pci_requests"])] == ["nic-a"]
    assert "resources" not in after or after["resources"] is None  # no old_resources: None, as before


def test_a_rolled_back_live_migration_only_drops_the_context():
    mig = w.migration(4, "running", kind="live-migration", source="cmp-02", dest="cmp-01")
    after = _extra_after(_plan(_world(mig)))
    assert after["migration_context"] is None and after["numa_topology"] is None
    assert after["pci_requests"] == "[]"


def test_an_unreadable_context_leaves_the_columns_and_says_so():
    plan = _plan(_world(w.migration(4, "running", kind="live-migration"), context="{not json"))
    assert _extra_after(plan)["numa_topology"] is None
    assert any("migration_context is unreadable" in x for x in plan.warnings)
