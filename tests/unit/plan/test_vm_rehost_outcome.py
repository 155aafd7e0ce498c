"""plan/vm_rehost_outcome.py: the outcome --to-host implies, and what Nova does for it."""

from __future__ import annotations

import json

import pytest

from generator.errors import TargetProblem
from generator.ops.operations import ApplyTime, DeleteRows, UpdateRows
from generator.plan.overrides import Overrides
from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from generator.plan.vm_rehost_outcome import COMPLETED, REVERTED, open_move
from tests.unit import world as w


def _flavor(fid: int, name: str, vcpus: int, mem: int, root: int) -> dict:
    data = {"id": fid, "name": name, "vcpus": vcpus, "memory_mb": mem, "root_gb": root, "ephemeral_gb": 0}
    return {"nova_object.name": "Flavor", "nova_object.data": data}


SMALL, MEDIUM = _flavor(2, "m1.small", 1, 2048, 20), _flavor(3, "m1.medium", 2, 4096, 40)
CONTEXT = json.dumps({"nova_object.data": {"migration_id": 4}})


def _extra(cur: dict, old: dict | None = SMALL, new: dict | None = MEDIUM) -> w.Row:
    return w.row(
        "nova", "instance_extra", id=9, instance_uuid=w.INSTANCE, deleted=0,
        flavor=json.dumps({"cur": cur, "old": old, "new": new}), migration_context=CONTEXT,
    )  # fmt: skip


def _plan(facts, *allow: str):
    return plan_vm(facts, VmOptions(op="rehost", to_host="cmp-02", allow=Overrides.of(*allow)))


def _instance(**values):
    base = dict(vm_state="error", task_state=None, power_state=1, instance_type_id=2, vcpus=1, memory_mb=2048)
    base.update(values)
    return w.instance_row(**base)


def _statuses(plan) -> list[tuple[int, str]]:
    return sorted(
        (c.before["id"], c.after["status"]) for o in w.ops_on(plan, "migrations") for c in o.changes
    )


def test_a_failed_resize_whose_destination_is_the_target_completed_and_waits_for_confirm():
    # before: migration closed 'error', flavor/vm_state untouched, migration allocations freed
    facts = w.rehost_world(migrations=[w.migration(4, "error", kind="resize")], instance=_instance(),
                           extra=[_extra(SMALL)])  # fmt: skip
    plan = _plan(facts)
    assert _statuses(plan) == [(4, "finished")]
    after = w.one_op(plan, "instances").changes[0].after
    assert (after["vm_state"], after["instance_type_id"], after["vcpus"], after["memory_mb"]) == (
        "resized", 3, 2, 4096,
    )  # fmt: skip
    extra = w.one_op(plan, "instance_extra").changes[0].after
    doc = json.loads(extra["flavor"])
    assert doc["cur"] == MEDIUM and doc["old"] == SMALL and doc["new"] == MEDIUM
    assert extra["migration_context"] == CONTEXT  # confirm_resize drops it later
    freed = [
        r for o in w.ops_on(plan, "allocations", "placement") if isinstance(o, DeleteRows) for r in o.rows
    ]
    assert w.MIGRATION not in {r["consumer_id"] for r in freed}


def test_a_resize_reverted_to_the_source_restores_old_flavor_and_moves_migration_allocations_back():
    # before: rehost kept the instance's (new flavor) allocations, dropped the migration's, kept flavor
    mig = w.migration(4, "error", kind="resize", source="cmp-02", dest="cmp-01")
    inst = _instance(instance_type_id=3, vcpus=2, memory_mb=4096)
    plan = _plan(w.rehost_world(migrations=[mig], instance=inst, extra=[_extra(MEDIUM)]))
    assert _statuses(plan) == [(4, "reverted")]
    after = w.one_op(plan, "instances").changes[0].after
    assert (after["vm_state"], after["task_state"], after["instance_type_id"], after["vcpus"]) == (
        "active", None, 2, 1,
    )  # fmt: skip
    extra = w.one_op(plan, "instance_extra").changes[0].after
    assert json.loads(extra["flavor"]) == {"cur": SMALL, "old": None, "new": None}
    assert extra["migration_context"] is None
    allocs = w.ops_on(plan, "allocations", "placement")
    deleted = [r for o in allocs if isinstance(o, DeleteRows) for r in o.rows]
    moved = [c for o in allocs if isinstance(o, UpdateRows) for c in o.changes]
    assert {r["consumer_id"] for r in deleted} == {w.INSTANCE}
    assert [(c.before["consumer_id"], c.after["consumer_id"]) for c in moved] == [(w.MIGRATION, w.INSTANCE)]
    gone = [r["uuid"] for o in w.ops_on(plan, "consumers") if isinstance(o, DeleteRows) for r in o.rows]
    assert gone == [w.MIGRATION]
    assert any("holds the migration's source allocations" in t for t in w.post_texts(plan.postconditions))


def test_verify_resize_reverted_by_rehost_to_the_source_is_not_closed_as_error():
    # before: the 'finished' migration was closed as 'error' (no confirm, no revert possible)
    mig = w.migration(4, "finished", kind="resize", source="cmp-02", dest="cmp-01")
    inst = _instance(vm_state="resized", instance_type_id=3, vcpus=2, memory_mb=4096)
    plan = _plan(w.rehost_world(migrations=[mig], instance=inst, extra=[_extra(MEDIUM)]))
    assert _statuses(plan) == [(4, "reverted")]
    assert w.one_op(plan, "instances").changes[0].after["vm_state"] == "active"


def test_live_migration_rolled_back_is_failed_and_evacuation_completed_is_done():
    live = w.migration(4, "running", kind="live-migration", source="cmp-02", dest="cmp-01")
    assert _statuses(_plan(w.rehost_world(migrations=[live]))) == [(4, "failed")]
    evac = w.migration(4, "accepted", kind="evacuation")
    assert _statuses(_plan(w.rehost_world(migrations=[evac]))) == [(4, "done")]


def test_a_target_that_is_neither_end_of_the_move_is_refused_without_allow_unknown_outcome():
    mig = w.migration(4, "error", kind="resize", source="cmp-07", dest="cmp-08")
    with pytest.raises(TargetProblem, match="--allow-unknown-outcome"):
        _plan(w.rehost_world(migrations=[mig]))
    plan = _plan(w.rehost_world(migrations=[mig]), "unknown-outcome")
    assert _statuses(plan) == [(4, "error")]
    assert any(x.startswith("--allow-unknown-outcome") for x in plan.warnings)


def test_an_errored_migration_holding_nothing_and_not_in_the_context_is_not_the_open_move():
    facts = w.rehost_world(migrations=[w.migration(4, "error", uuid=None)])
    assert open_move(facts) is None
    facts = w.rehost_world(migrations=[w.migration(4, "error", kind="resize")])
    m = open_move(facts)
    assert m is not None and m["id"] == 4
    assert (COMPLETED, REVERTED) == ("completed", "reverted")


def test_a_target_without_room_is_refused_without_allow_over_capacity():
    # before: allocations were moved onto the target whatever its inventory said
    full = w.rehost_world(capacity=[w.inventory(2, 1, 1024, reserved=512)], usage=[w.usage(2, 1, 256)])
    with pytest.raises(
        TargetProblem, match=r"256 used \+ 512 is over the capacity 512.*--allow-over-capacity"
    ):
        _plan(full)
    plan = _plan(full, "over-capacity")
    assert any(x.startswith("--allow-over-capacity") for x in plan.warnings)


def test_max_unit_and_a_missing_resource_class_are_refused_and_the_ratio_counts():
    with pytest.raises(TargetProblem, match="over max_unit 256"):
        _plan(w.rehost_world(capacity=[w.inventory(2, 1, 4096, max_unit=256)]))
    facts = w.rehost_world(capacity=[w.inventory(2, 1, 512, ratio=1.5)], usage=[w.usage(2, 1, 200)])
    assert w.ops_on(_plan(facts), "allocations", "placement")  # 200 + 512 <= 768


def _zoned(zones):
    from dataclasses import replace

    facts = w.rehost_world(instance=_instance(availability_zone="az-old"))
    assert facts.target_host is not None
    return replace(facts, target_host=replace(facts.target_host, zones=zones))


def test_the_availability_zone_follows_the_target_hosts_aggregate_else_the_default_or_the_option():
    # before: availability_zone stayed 'az-old' whatever the target host's zone
    def zone(facts, **options):
        after = w.one_op(plan_vm(facts, VmOptions(op="rehost", to_host="cmp-02", **options)), "instances")
        return after.changes[0].after["availability_zone"]

    assert zone(_zoned(("az2", "az9"))) == "az2"
    assert zone(_zoned(())) == "nova"
    assert zone(_zoned(("az2",)), availability_zone="edge-1") == "edge-1"
    plan = _plan(_zoned(None))
    assert w.one_op(plan, "instances").changes[0].after["availability_zone"] == "az-old"
    assert any("availability_zone is left as it is" in x for x in plan.warnings)
    assert any("availability_zone = 'az2'" in t for t in w.post_texts(_plan(_zoned(("az2",))).postconditions))


def test_the_runbook_prescribes_port_rebind_and_volume_attachment_refresh_not_a_hard_reboot_for_volumes():
    # before: "run `openstack server reboot --hard` ... connects the volumes" and nothing for the ports
    port = "5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    cache = w.row("nova", "instance_info_caches", id=1, instance_uuid=w.INSTANCE, deleted=0,
                  network_info=w.network_info(port))  # fmt: skip
    facts = w.rehost_world(more_cell_rows={
        "instance_info_caches": [cache], "block_device_mapping": [w.bdm(1, instance_uuid=w.INSTANCE)]
    })  # fmt: skip
    text = " ".join(_plan(facts).warnings)
    assert f"`openstack port set --host cmp-02 {port}`" in text
    assert f"`nova-manage volume_attachment refresh {w.INSTANCE} {w.VOLUME} connector.json`" in text
    assert "get_connector" in text and "connects the volumes" not in text


# -- found by tests/db/plan/test_differential_rehost.py against nova 34.0.0 / placement 16.0.0 ----------


def _bumps(plan, table: str) -> dict[int, tuple[int, object]]:
    """Per row id: (new generation, the updated_at assignment) of the generation bumps."""
    out = {}
    for op in w.ops_on(plan, table, "placement"):
        if not isinstance(op, UpdateRows):
            continue
        assigned = dict(op.assignments or ())
        for c in op.changes:
            out[c.before["id"]] = (c.after["generation"], assigned.get("updated_at"))
    return out


def test_a_completed_live_migration_drops_console_tokens_and_bumps_the_emptied_provider():
    # before: the tokens (naming the old host) stayed, though _post_live_migration cleans them, and
    # freeing the migration's allocations bumped no provider, though placement's PUT of {} does
    token = w.row("nova", "console_auth_tokens", id=7, instance_uuid=w.INSTANCE, host="cmp-01")
    facts = w.rehost_world(
        migrations=[w.migration(4, "running", kind="live-migration")],
        instance=_instance(vm_state="active", task_state="migrating", progress=42),
        target_allocations=[w.allocation(9, w.INSTANCE, 2, 0, 2), w.allocation(10, w.INSTANCE, 2, 1, 512)],
        more_cell_rows={"console_auth_tokens": [token]},
    )
    plan = _plan(facts)
    (drop,) = w.ops_on(plan, "console_auth_tokens")
    assert isinstance(drop, DeleteRows) and [r["id"] for r in drop.rows] == [7]
    assert _bumps(plan, "resource_providers") == {2: (6, ApplyTime())}


def test_a_reverted_resize_pops_old_vm_state_and_bumps_generations_with_updated_at():
    # before: system_metadata old_vm_state stayed (finish_revert_resize pops it, a hard delete), and
    # the generation bumps left updated_at, which placement's increment_generation sets
    mig = w.migration(4, "error", kind="resize", source="cmp-02", dest="cmp-01")
    stashed = w.row("nova", "instance_system_metadata", id=11, instance_uuid=w.INSTANCE, key="old_vm_state",
                    value="active", deleted=0)  # fmt: skip
    other = w.row("nova", "instance_system_metadata", id=12, instance_uuid=w.INSTANCE, key="image_min_ram",
                  value="0", deleted=0)  # fmt: skip
    inst = _instance(instance_type_id=3, vcpus=2, memory_mb=4096)
    plan = _plan(w.rehost_world(migrations=[mig], instance=inst, extra=[_extra(MEDIUM)],
                                more_cell_rows={"instance_system_metadata": [stashed, other]}))  # fmt: skip
    (drop,) = w.ops_on(plan, "instance_system_metadata")
    assert isinstance(drop, DeleteRows) and [r["id"] for r in drop.rows] == [11]
    assert _bumps(plan, "resource_providers") == {2: (6, ApplyTime())}
    assert _bumps(plan, "consumers") == {1: (2, ApplyTime())}
