"""VM bundles, proven by running them: apply, nothing else changed, re-run, rollback, identical.

Every catalog release, every VM operation, against seeded deployments with
many other instances; the SQL runs through the real mariadb client exactly as
the runbook says.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.seed import Seeder
from tests.bundles import (
    BundleRun,
    all_states,
    allowed_changes,
    assert_all_ok,
    assert_identical,
    assert_only_planned_rows_changed,
    targets_for,
)
from tests.conftest import ALL_RELEASES

pytestmark = pytest.mark.db


def seed_world(dep, *, op: str):
    s = Seeder(dep, seed=11)
    h1, h2 = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    vif_cycle = ("ovs_hybrid", "ovs", "bridge", "vhostuser")
    for i in range(10):
        s.instance(host=h1 if i % 2 else h2, vif_types=(vif_cycle[i % 4],), volumes=i % 3)
    target = s.instance(
        host=h1,
        vm_state="error",
        task_state="deleting" if op != "rehost" else None,
        power_state=4,
        volumes=2,
        pci_devices=1,
        vif_types=("ovs_hybrid", "ovs"),
        migration="resize" if op == "rehost" else None,
        tags=("web", "it's; $(x)"),
        metadata={"role": "db\n'quoted'"},
    )
    s.flush()
    return target


def generate(dep, uuid: str, op: str, out: Path, **options):
    opts = VmOptions(op=op, to_host="cmp-02" if op == "rehost" else None, **options)
    return generate_vm(uuid, opts, targets_for(dep), "auto", OutputOptions(out_dir=out))


def check_semantics(dep, op: str, uuid: str) -> None:
    if op == "soft-delete":
        inst = dep.query("nova", "SELECT * FROM instances WHERE uuid = %s", (uuid,))[0]
        assert inst["deleted"] == inst["id"] and inst["vm_state"] == "deleted"
        assert inst["task_state"] is None and inst["power_state"] == 0 and inst["terminated_at"] is not None
        assert inst["deleted_at"] is not None
        for table in (
            "block_device_mapping",
            "instance_metadata",
            "instance_system_metadata",
            "instance_info_caches",
            "instance_extra",
            "virtual_interfaces",
            "instance_faults",
        ):
            live = dep.query(
                "nova", f"SELECT COUNT(*) AS n FROM {table} WHERE instance_uuid = %s AND deleted = 0", (uuid,)
            )
            assert live[0]["n"] == 0, table
            soft = dep.query(
                "nova",
                f"SELECT COUNT(*) AS n FROM {table} WHERE instance_uuid = %s AND deleted = id",
                (uuid,),
            )
            assert soft[0]["n"] > 0, table
        assert (
            dep.query("nova", "SELECT COUNT(*) AS n FROM tags WHERE resource_id = %s", (uuid,))[0]["n"] == 0
        )
        assert (
            dep.query("nova", "SELECT COUNT(*) AS n FROM instance_actions WHERE instance_uuid = %s", (uuid,))[
                0
            ]["n"]
            > 0
        ), "instance actions are kept"
        mapping = dep.query(
            "nova_api", "SELECT queued_for_delete FROM instance_mappings WHERE instance_uuid = %s", (uuid,)
        )
        assert mapping[0]["queued_for_delete"] == 1
    if op in ("soft-delete", "purge"):
        assert (
            dep.query("placement", "SELECT COUNT(*) AS n FROM allocations WHERE consumer_id = %s", (uuid,))[
                0
            ]["n"]
            == 0
        )
        assert (
            dep.query("placement", "SELECT COUNT(*) AS n FROM consumers WHERE uuid = %s", (uuid,))[0]["n"]
            == 0
        )
        pci = dep.query("nova", "SELECT COUNT(*) AS n FROM pci_devices WHERE instance_uuid = %s", (uuid,))
        assert pci[0]["n"] == 0
    if op == "purge":
        for table in ("instances",):
            assert (
                dep.query("nova", f"SELECT COUNT(*) AS n FROM {table} WHERE uuid = %s", (uuid,))[0]["n"] == 0
            )
        cols = dep.query(
            "nova",
            "SELECT TABLE_NAME AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
            "DATABASE() AND COLUMN_NAME = 'instance_uuid' AND TABLE_NAME NOT LIKE 'shadow%%' "
            "AND TABLE_NAME <> 'pci_devices'",
        )
        for row in cols:
            n = dep.query("nova", f"SELECT COUNT(*) AS n FROM `{row['t']}` WHERE instance_uuid = %s", (uuid,))
            assert n[0]["n"] == 0, row["t"]
        for table in ("instance_mappings", "request_specs"):
            assert (
                dep.query("nova_api", f"SELECT COUNT(*) AS n FROM {table} WHERE instance_uuid = %s", (uuid,))[
                    0
                ]["n"]
                == 0
            )
    if op == "rehost":
        inst = dep.query("nova", "SELECT * FROM instances WHERE uuid = %s", (uuid,))[0]
        node = dep.query("nova", "SELECT * FROM compute_nodes WHERE host = 'cmp-02'")[0]
        assert inst["host"] == "cmp-02" and inst["node"] == node["hypervisor_hostname"]
        if "compute_id" in inst:
            assert inst["compute_id"] == node["id"]
        rp = dep.query("placement", "SELECT id FROM resource_providers WHERE uuid = %s", (node["uuid"],))[0][
            "id"
        ]
        allocs = dep.query(
            "placement", "SELECT resource_provider_id FROM allocations WHERE consumer_id = %s", (uuid,)
        )
        assert allocs and {a["resource_provider_id"] for a in allocs} == {rp}


@pytest.mark.parametrize("op", ["soft-delete", "purge", "rehost"])
@pytest.mark.parametrize("release", ALL_RELEASES)
def test_vm_bundle_apply_rerun_rollback(make_deployment, tmp_path, release: str, op: str) -> None:
    dep = make_deployment(release)
    target = seed_world(dep, op=op)
    before = all_states(dep)
    result = generate(dep, target.uuid, op, tmp_path)
    assert result.lint.passed, [f.describe() for f in result.lint.findings]
    run = BundleRun(dep, result.path)

    assert_all_ok(run.run("precheck"))
    assert_identical(before, all_states(dep))  # prechecks change nothing
    assert_all_ok(run.run("apply"))
    after = all_states(dep)
    changed = assert_only_planned_rows_changed(before, after, allowed_changes(result.plan, dep, run))
    assert changed > 0
    check_semantics(dep, op, target.uuid)
    assert_all_ok(run.run("verify"))

    reruns = run.run("apply")
    assert_all_ok(reruns)
    assert all("already done; nothing changed" in r.stdout for r in reruns)
    assert_identical(after, all_states(dep))

    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))
