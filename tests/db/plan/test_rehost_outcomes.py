"""rehost after a failed or waiting resize, proven by running the bundles: the outcome
--to-host implies (destination: completed; source: reverted) gets what Nova writes for it
(compute/manager.py finish_resize / finish_revert_resize, report.py move_allocations);
apply, postconditions, nothing else changed, re-run, rollback identical; an old and a new
schema set."""

from __future__ import annotations

import json

import pytest

from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.scratch.deployment import Deployment
from generator.seed import Seeder
from generator.seed.shapes import dumps, nova_object, pci_request, pci_requests_obj
from tests.bundles import (
    BundleRun,
    all_states,
    allowed_changes,
    assert_all_ok,
    assert_identical,
    assert_only_planned_rows_changed,
    targets_for,
)

pytestmark = pytest.mark.db
RELEASES = ("xena", "2026.2")


def _seed(dep, *, status: str, vm_state: str):
    s = Seeder(dep, seed=23)
    h1, h2 = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    for i in range(6):
        s.instance(host=h1 if i % 2 else h2, volumes=i % 2)
    target = s.instance(
        host=h1, vm_state=vm_state, power_state=1 if vm_state != "error" else 4, migration="resize",
        migration_status=status, flavor="m1.small", new_flavor="m1.medium", volumes=1,
    )  # fmt: skip
    s.flush()
    return target


def _run(dep, tmp_path, uuid: str, to_host: str):
    before = all_states(dep)
    result = generate_vm(uuid, VmOptions(op="rehost", to_host=to_host), targets_for(dep), "auto",
                         OutputOptions(out_dir=tmp_path))  # fmt: skip
    assert result.lint.passed, [f.describe() for f in result.lint.findings]
    run = BundleRun(dep, result.path)
    assert_all_ok(run.run("precheck"))
    assert_all_ok(run.run("apply"))
    after = all_states(dep)
    assert assert_only_planned_rows_changed(before, after, allowed_changes(result.plan, dep, run)) > 0
    assert_all_ok(run.run("verify"))
    readme = (result.path / "README.md").read_text()
    # the runbook prescribes the supported fixes (before: "reboot --hard ... connects the volumes")
    assert "nova-manage volume_attachment refresh" in readme and "openstack port set --host" in readme
    assert "connects the volumes" not in readme
    return before, after, run


def _finish(dep, before, after, run) -> None:
    reruns = run.run("apply")
    assert_all_ok(reruns)
    assert all("already done; nothing changed" in r.stdout for r in reruns)
    assert_identical(after, all_states(dep))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))


def _flavor_id(dep, name: str) -> int:
    return dep.query("nova_api", "SELECT id FROM flavors WHERE name = %s", (name,))[0]["id"]


def _rp(dep, host: str) -> int:
    node = dep.query("nova", "SELECT uuid FROM compute_nodes WHERE host = %s AND deleted = 0", (host,))[0]
    return dep.query("placement", "SELECT id FROM resource_providers WHERE uuid = %s", (node["uuid"],))[0][
        "id"
    ]


def _allocs(dep, consumer: str) -> dict[tuple[int, int], int]:
    rows = dep.query(
        "placement", "SELECT resource_provider_id AS rp, resource_class_id AS rc, used FROM allocations "
        "WHERE consumer_id = %s", (consumer,),
    )  # fmt: skip
    return {(r["rp"], r["rc"]): r["used"] for r in rows}


def _state(dep, uuid: str):
    inst = dep.query("nova", "SELECT * FROM instances WHERE uuid = %s", (uuid,))[0]
    extra = dep.query(
        "nova", "SELECT * FROM instance_extra WHERE instance_uuid = %s AND deleted = 0", (uuid,)
    )[0]
    mig = dep.query("nova", "SELECT * FROM migrations WHERE instance_uuid = %s", (uuid,))[0]
    return inst, extra, mig


@pytest.mark.parametrize("release", RELEASES)
def test_failed_resize_rehosted_to_its_source_is_reverted_as_nova_does(make_deployment, tmp_path, release):
    # before: rehost to the source was refused ("already points at cmp-01") though the instance
    # held the new flavor's allocations on cmp-02 and the migration the old ones on cmp-01
    dep = make_deployment(release)
    target = _seed(dep, status="error", vm_state="error")
    held = _allocs(dep, target.migration)
    assert held and {rp for rp, _ in held} == {_rp(dep, "cmp-01")}
    before, after, run = _run(dep, tmp_path, target.uuid, "cmp-01")
    inst, extra, mig = _state(dep, target.uuid)
    assert (inst["host"], inst["instance_type_id"], inst["vm_state"]) == (
        "cmp-01",
        _flavor_id(dep, "m1.small"),
        "active",
    )
    assert mig["status"] == "reverted"
    assert _allocs(dep, target.uuid) == held and _allocs(dep, target.migration) == {}
    assert (
        dep.query("placement", "SELECT COUNT(*) AS n FROM consumers WHERE uuid = %s", (target.migration,))[0][
            "n"
        ]
        == 0
    )
    doc = json.loads(extra["flavor"])
    assert doc["old"] is None and doc["new"] is None and doc["cur"]["nova_object.data"]["name"] == "m1.small"
    assert extra["migration_context"] is None
    _finish(dep, before, after, run)


def host_in_zone(dep, host: str, zone: str) -> None:
    """Put `host` in an aggregate whose availability_zone is `zone` (Nova's AZ of a host)."""
    dep.execute("nova_api", "INSERT INTO aggregates (id, uuid, name) VALUES (900, UUID(), %s)", (zone,))
    dep.execute(
        "nova_api", "INSERT INTO aggregate_hosts (id, host, aggregate_id) VALUES (900, %s, 900)", (host,)
    )
    dep.execute(
        "nova_api",
        "INSERT INTO aggregate_metadata (id, aggregate_id, `key`, value) "
        "VALUES (900, 900, 'availability_zone', %s)",
        (zone,),
    )


def _numa(uuid: str, cpus: list[int], cell: int) -> dict:
    """An InstanceNUMATopology (1.3) of one dedicated-CPU cell, as the move claim records it."""
    data = {"id": cell, "cpuset": [], "pcpuset": cpus, "cpuset_reserved": None, "memory": 2048,
            "pagesize": None, "cpu_topology": None, "cpu_pinning_raw": {str(c): c + 8 for c in cpus},
            "cpu_policy": "dedicated", "cpu_thread_policy": None}  # fmt: skip
    return nova_object("InstanceNUMATopology", "1.3", {
        "instance_uuid": uuid, "cells": [nova_object("InstanceNUMACell", "1.6", data)],
        "emulator_threads_policy": None,
    })  # fmt: skip


def _pci(alias: str, request_id: str) -> dict:
    return pci_requests_obj(
        [nova_object("InstancePCIRequest", "1.4", pci_request(request_id, alias, "8086", "154d"))]
    )


def pinned_context(dep: Deployment, uuid: str, applied: bool) -> None:
    """The instance's migration context with a different NUMA pinning and PCI request on each end
    (old: cell 0, alias 'nic-a'; new: cell 1, alias 'nic-b'), and instance_extra holding the
    source's (`applied`: the destination's, as finish_resize's apply_migration_context leaves them
    once a later step fails and the error handler saves the instance)."""
    row = dep.query("nova", "SELECT id, migration_context FROM instance_extra WHERE instance_uuid = %s",
                    (uuid,))[0]  # fmt: skip
    ctx = json.loads(row["migration_context"])
    data = ctx["nova_object.data"]
    data.update(old_numa_topology=_numa(uuid, [0, 1], 0), new_numa_topology=_numa(uuid, [2, 3], 1),
                old_pci_requests=_pci("nic-a", "0b6a4c1e-6b59-4c41-9f0e-2d6ad0c1a001"),
                new_pci_requests=_pci("nic-b", "0b6a4c1e-6b59-4c41-9f0e-2d6ad0c1a002"))  # fmt: skip
    side = "new_" if applied else "old_"
    pci = [r["nova_object.data"] for r in data[side + "pci_requests"]["nova_object.data"]["requests"]]
    dep.execute(
        "nova", "UPDATE instance_extra SET migration_context = %s, numa_topology = %s, pci_requests = %s "
        "WHERE id = %s", (dumps(ctx), dumps(data[side + "numa_topology"]), dumps(pci), row["id"]),
    )  # fmt: skip


@pytest.mark.parametrize("release", RELEASES)
def test_verify_resize_rehosted_to_its_source_restores_old_flavor_and_allocations(
    make_deployment, tmp_path, release
):
    # before: the 'finished' migration was closed as 'error', vcpus/memory/instance_type_id and
    # instance_extra.flavor kept the new flavor, and the migration's (old flavor) allocations were dropped
    dep = make_deployment(release)
    target = _seed(dep, status="finished", vm_state="resized")
    held = _allocs(dep, target.migration)
    host_in_zone(dep, "cmp-01", "az-west")  # the source host (before: availability_zone stayed 'nova')
    before, after, run = _run(dep, tmp_path, target.uuid, "cmp-01")
    inst, _extra, mig = _state(dep, target.uuid)
    small = dep.query("nova_api", "SELECT * FROM flavors WHERE name = 'm1.small'")[0]
    assert (inst["host"], inst["vcpus"], inst["memory_mb"], inst["instance_type_id"]) == (
        "cmp-01", small["vcpus"], small["memory_mb"], small["id"],
    )  # fmt: skip
    assert (mig["status"], inst["vm_state"], inst["task_state"]) == ("reverted", "active", None)
    assert inst["availability_zone"] == "az-west"
    assert _allocs(dep, target.uuid) == held
    _finish(dep, before, after, run)


@pytest.mark.parametrize("release", RELEASES)
def test_failed_resize_rehosted_to_its_destination_waits_for_confirm(make_deployment, tmp_path, release):
    # before: migration closed as 'error' (no confirm/revert), its source allocations freed, and the
    # instance kept the old flavor's columns while holding the new flavor's allocations
    dep = make_deployment(release)
    target = _seed(dep, status="error", vm_state="error")
    pinned_context(dep, target.uuid, applied=False)
    held = _allocs(dep, target.migration)
    launched = dep.query("nova", "SELECT launched_at FROM instances WHERE uuid = %s", (target.uuid,))[0]
    before, after, run = _run(dep, tmp_path, target.uuid, "cmp-02")
    inst, extra, mig = _state(dep, target.uuid)
    # before: launched_at stayed the source's spawn (finish_migration spawns the guest anew), and
    # numa_topology and pci_requests the source's (finish_resize applies the context)
    assert inst["launched_at"] != launched["launched_at"]
    ctx = json.loads(extra["migration_context"])["nova_object.data"]
    assert json.loads(extra["numa_topology"]) == ctx["new_numa_topology"]
    assert [r["alias_name"] for r in json.loads(extra["pci_requests"])] == ["nic-b"]
    assert (inst["host"], inst["vm_state"], inst["instance_type_id"]) == (
        "cmp-02",
        "resized",
        _flavor_id(dep, "m1.medium"),
    )
    assert mig["status"] == "finished" and extra["migration_context"] is not None
    assert _allocs(dep, target.migration) == held
    assert {rp for rp, _ in _allocs(dep, target.uuid)} == {_rp(dep, "cmp-02")}
    _finish(dep, before, after, run)


@pytest.mark.parametrize("release", RELEASES)
def test_a_target_without_room_is_refused_and_the_override_lets_it_through(
    make_deployment, tmp_path, release
):
    # before: the allocations were moved onto a provider with no room (exit 0, a bundle)
    from generator.errors import TargetProblem
    from generator.plan.overrides import Overrides

    dep = make_deployment(release)
    s = Seeder(dep, seed=5)
    h1, _ = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    target = s.instance(host=h1, vm_state="error", power_state=4)
    s.flush()
    rp = _rp(dep, "cmp-02")
    dep.execute(
        "placement",
        "UPDATE inventories SET reserved = total, allocation_ratio = 1.0 WHERE resource_provider_id = %s "
        "AND resource_class_id = 0",
        (rp,),
    )
    with pytest.raises(TargetProblem, match=r"over the capacity.*--allow-over-capacity"):
        generate_vm(target.uuid, VmOptions(op="rehost", to_host="cmp-02"), targets_for(dep), "auto",
                    OutputOptions(out_dir=tmp_path / "refused"))  # fmt: skip
    opts = VmOptions(op="rehost", to_host="cmp-02", allow=Overrides.of("over-capacity"))
    result = generate_vm(target.uuid, opts, targets_for(dep), "auto", OutputOptions(out_dir=tmp_path))
    assert any(w.startswith("--allow-over-capacity") for w in result.plan.warnings)


@pytest.mark.parametrize("release", RELEASES)
def test_reverted_resize_of_a_stopped_instance_stays_stopped_and_powered_off(
    make_deployment, tmp_path, release
):
    # before: vm_state 'stopped' but power_state still 1 (running): Nova's revert stops the guest
    dep = make_deployment(release)
    target = _seed(dep, status="finished", vm_state="resized")
    dep.execute(
        "nova",
        "INSERT INTO instance_system_metadata (created_at, deleted, instance_uuid, `key`, value) "
        "VALUES ('2026-01-02 03:04:05', 0, %s, 'old_vm_state', 'stopped')",
        (target.uuid,),
    )
    pinned_context(dep, target.uuid, applied=True)
    before, after, run = _run(dep, tmp_path, target.uuid, "cmp-01")
    inst, extra, mig = _state(dep, target.uuid)
    assert (inst["vm_state"], inst["power_state"], inst["task_state"], mig["status"]) == (
        "stopped", 4, None, "reverted",
    )  # fmt: skip
    # revert_migration_context: the source's pinning and PCI request back
    assert json.loads(extra["numa_topology"])["nova_object.data"]["cells"][0]["nova_object.data"]["id"] == 0
    assert [r["alias_name"] for r in json.loads(extra["pci_requests"])] == ["nic-a"]
    assert extra["migration_context"] is None
    _finish(dep, before, after, run)


def seed_evacuation(dep, *, vm_state: str):
    """An evacuation cmp-01 -> cmp-02 whose rebuild spawned the guest on cmp-02, nova-compute failing
    before it saved: migration 'pre-migrating', task_state 'rebuild_spawning', the instance holding
    both nodes' allocations (an evacuation has no migration consumer)."""
    s = Seeder(dep, seed=31)
    h1, h2 = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    for i in range(4):
        s.instance(host=h1 if i % 2 else h2, volumes=i % 2)
    target = s.instance(
        host=h1, vm_state=vm_state, power_state=4 if vm_state == "stopped" else 1, migration="live-migration",
        migration_status="running", flavor="m1.small", volumes=1,
    )  # fmt: skip
    s.flush()
    u, m = target.uuid, target.migration
    dep.execute("nova", "UPDATE migrations SET migration_type = 'evacuation', status = 'pre-migrating' "
                "WHERE uuid = %s", (m,))  # fmt: skip
    dep.execute("nova", "UPDATE instances SET task_state = 'rebuild_spawning' WHERE uuid = %s", (u,))
    dep.execute("placement", "UPDATE allocations SET consumer_id = %s WHERE consumer_id = %s", (u, m))
    dep.execute("placement", "DELETE FROM consumers WHERE uuid = %s", (m,))
    pinned_context(dep, u, applied=False)
    return target


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("vm_state", ["active", "stopped"])
def test_evacuation_rehosted_to_its_destination_ends_as_the_rebuild_does(
    make_deployment, tmp_path, release, vm_state
):
    # before: task_state stayed 'rebuild_spawning' (the instance locked out of every action),
    # numa_topology/pci_requests the source's, launched_at the source's spawn
    dep = make_deployment(release)
    target = seed_evacuation(dep, vm_state=vm_state)
    launched = dep.query("nova", "SELECT launched_at FROM instances WHERE uuid = %s", (target.uuid,))[0]
    before, after, run = _run(dep, tmp_path, target.uuid, "cmp-02")
    inst, extra, mig = _state(dep, target.uuid)
    power = 4 if vm_state == "stopped" else 1
    assert (inst["host"], inst["vm_state"], inst["task_state"], inst["power_state"], mig["status"]) == (
        "cmp-02", vm_state, None, power, "done",
    )  # fmt: skip
    assert inst["launched_at"] != launched["launched_at"]  # the rebuild spawned the guest anew
    assert [r["alias_name"] for r in json.loads(extra["pci_requests"])] == ["nic-b"]
    assert extra["migration_context"] is None
    assert {rp for rp, _ in _allocs(dep, target.uuid)} == {_rp(dep, "cmp-02")}
    _finish(dep, before, after, run)
