"""plan/vm_rehost_spec.py: a reverted resize points the RequestSpec back at the old flavor."""

from __future__ import annotations

import dataclasses
import json

from tests.unit import world as w
from tests.unit.plan.test_vm_rehost_outcome import MEDIUM, SMALL, _extra, _instance, _plan


def _spec_row(flavor: dict, numa: object = None) -> w.Row:
    data = {"flavor": flavor, "numa_topology": numa, "image": {"nova_object.data": {"properties": {}}}}
    return w.row("nova_api", "request_specs", id=5, instance_uuid=w.INSTANCE,
                 spec=json.dumps({"nova_object.name": "RequestSpec", "nova_object.data": data}))  # fmt: skip


def _reverted_with_spec(spec: w.Row | None, old: dict = SMALL):
    mig = w.migration(4, "error", kind="resize", source="cmp-02", dest="cmp-01")
    inst = _instance(instance_type_id=3, vcpus=2, memory_mb=4096)
    facts = w.rehost_world(migrations=[mig], instance=inst, extra=[_extra(MEDIUM, old=old)])
    if spec is not None:
        api = w.database("nova_api", "nova_api", {"request_specs": [spec]}, label="Nova API database")
        facts = dataclasses.replace(facts, api=api)
    return _plan(facts)


def test_a_reverted_resize_points_the_request_spec_back_at_the_old_flavor():
    # before: request_specs.spec kept the new flavor the conductor saved (Nova's revert_resize
    # restores old_flavor and its NUMA constraints), so the next move was scheduled for m1.medium
    plan = _reverted_with_spec(_spec_row(MEDIUM, numa={"stale": True}))
    assert "nova_api" in [d.role for d in plan.databases]
    after = json.loads(w.one_op(plan, "request_specs", "nova_api").changes[0].after["spec"])[
        "nova_object.data"
    ]
    assert after["flavor"] == SMALL and after["numa_topology"] is None


def test_a_numa_flavor_keeps_the_stored_numa_topology_and_says_so():
    numa_small = json.loads(json.dumps(SMALL))
    numa_small["nova_object.data"]["extra_specs"] = {"hw:cpu_policy": "dedicated"}
    plan = _reverted_with_spec(_spec_row(MEDIUM, numa={"cells": []}), old=numa_small)
    after = json.loads(w.one_op(plan, "request_specs", "nova_api").changes[0].after["spec"])[
        "nova_object.data"
    ]
    assert after["flavor"] == numa_small and after["numa_topology"] == {"cells": []}
    assert any("NUMA topology" in m for m in plan.warnings)


def test_a_cold_migration_or_unknown_api_leaves_the_request_spec():
    plan = _reverted_with_spec(_spec_row(SMALL))  # same flavor: nothing to restore
    assert w.ops_on(plan, "request_specs", "nova_api") == []
    plan = _reverted_with_spec(None)
    assert any("request_specs.spec may still name" in m for m in plan.warnings)
