"""Differential: a live VM purge bundle changes exactly the rows Nova's own code changes when
an instance is deleted and its rows are then archived and purged.

fixpack's purge (generator/plan/vm_purge.py) claims to leave what Nova's delete followed by
`nova-manage db archive_deleted_rows` and `nova-manage db purge` leave: no trace of the
instance in the cell database, nova_api or placement, and its volumes detached in Cinder.
Two twins of one 2026.2 deployment are seeded alike, the instance to purge among other
instances, in one of two states:
- 'deleting' (stuck): two attached volumes (one delete_on_termination) and the soft-deleted BDM
  of one detached earlier, two PCI VFs of one PF,
  a share mapping, tags, metadata, a console token, faults, actions with events, allocations,
  a server group membership, a volume_usage_cache row;
- 'deleted' (Nova deleted it: its rows soft-deleted, attachments ended), waiting for the archive.
Twin A runs the upstream code (nova 34.0.0 and cinder 29.0.0 from cached venvs, see
tests/differential.py). For 'deleting', Nova + Cinder's own delete first (tests/differential.py
upstream_delete: Cinder's attachment delete, Nova's `_shutdown_instance` share-mapping removal,
`_delete_instance`, the PCI tracker's free, `instance.destroy()`, placement's DELETE
/allocations); then, for both, `nova-manage db archive_deleted_rows --until-complete --purge`:
every soft-deleted row moved to its shadow table, following foreign keys (instance_actions and
their events too, which are never soft-deleted), the instance's instance_mappings, request_specs
and instance_group_member removed from nova_api, then every shadow table emptied (`purge --all`).
Twin B applies the fixpack purge bundle with the real client.

Every row change of every table of every database is compared: values exactly, timestamps as
"set" or "unchanged". The `shadow_*` tables are compared too: upstream fills and empties them in
the one command, so on both twins they end as they started (empty; fixpack's --include-shadow,
which deletes rows archived earlier, is not exercised). In the 'deleting' world nothing else is
soft-deleted, so the archive reaches only the instance's rows (asserted). The one deliberate
difference is FIXPACK_ONLY below. The bundle's rollback then restores twin B exactly.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from generator.catalog import catalog_snapshot
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.scratch.deployment import Deployment
from generator.seed import Seeder
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical, targets_for
from tests.differential import (
    assert_same_changes,
    changes,
    diff_release,
    dump,
    nova_conf,
    service_venv,
    upstream_delete,
)

pytestmark = [pytest.mark.db, pytest.mark.slow]
RELEASE = diff_release()

# Rows fixpack's purge removes and Nova never does: volume_usage_cache has no foreign key to the
# instance and instance_destroy does not soft-delete it, so neither archive_deleted_rows nor purge
# reaches it (bw_usage_cache alike; nothing fills it any more). fixpack removes them by design
# (docs: "no trace of the instance"); the test checks that this is the only difference.
FIXPACK_ONLY = ("nova.volume_usage_cache",)


def seed_twin(dep: Deployment, state: str) -> str:
    """The same world in each twin; returns the uuid of the instance to purge: stuck in 'deleting'
    (Nova still to delete it) or already deleted by Nova (its rows soft-deleted, left to archive)."""
    s = Seeder(dep, seed=31)
    h1, h2 = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    for i in range(4):
        s.instance(host=h1 if i % 2 else h2, vif_types=("ovs",), volumes=i % 3)
    deleting = state == "deleting"
    target = s.instance(
        host=h1, vm_state="error" if deleting else "deleted", task_state="deleting" if deleting else None,
        power_state=4 if deleting else 0, volumes=2, pci_devices=2 if deleting else 0, deleted=not deleting,
        vif_types=("ovs_hybrid", "ovs"), metadata={"role": "db"}, tags=("web", "db"), faults=2, actions=3,
    )  # fmt: skip
    s.flush()
    u = target.uuid
    bdm = dep.query(
        "nova",
        "SELECT id, volume_id FROM block_device_mapping WHERE instance_uuid = %s AND volume_id IS NOT NULL "
        "ORDER BY id LIMIT 1",
        (u,),
    )[0]
    # usage Nova's volume usage poll recorded (see FIXPACK_ONLY)
    dep.execute(
        "nova",
        "INSERT INTO volume_usage_cache (created_at, deleted, volume_id, tot_reads, tot_read_bytes, "
        "tot_writes, tot_write_bytes, curr_reads, curr_read_bytes, curr_writes, curr_write_bytes, "
        "instance_uuid, availability_zone) "
        "VALUES ('2026-01-02 03:04:05', 0, %s, 10, 4096, 3, 1024, 1, 512, 1, 512, %s, 'nova')",
        (bdm["volume_id"], u),
    )
    # a server group the instance is a member of (nova_api; archive_deleted_rows removes the membership)
    dep.execute(
        "nova_api",
        "INSERT INTO instance_groups (created_at, user_id, project_id, uuid, name) SELECT "
        "'2026-01-02 03:04:05', user_id, project_id, 'b6f3a0de-7c1e-4f0a-8f55-2e9d4c1a7b30', 'db-group' "
        "FROM instance_mappings WHERE instance_uuid = %s",
        (u,),
    )
    dep.execute(
        "nova_api",
        "INSERT INTO instance_group_member (created_at, instance_uuid, group_id) SELECT "
        "'2026-01-02 03:04:05', %s, id FROM instance_groups WHERE name = 'db-group'",
        (u,),
    )
    if not deleting:
        return u
    dep.execute(
        "nova", "UPDATE block_device_mapping SET delete_on_termination = 1 WHERE id = %s", (bdm["id"],)
    )
    # a volume detached from it earlier: its BDM soft-deleted (BlockDeviceMapping.destroy())
    dep.execute(
        "nova",
        "INSERT INTO block_device_mapping (created_at, updated_at, deleted_at, deleted, device_name, "
        "delete_on_termination, volume_id, volume_size, instance_uuid, source_type, destination_type, "
        "device_type, disk_bus, attachment_id, uuid, encrypted) VALUES ('2026-01-02 03:04:05', "
        "'2026-01-03 03:04:05', '2026-01-03 03:04:05', 0, '/dev/vdz', 0, "
        "'5a8e0f1c-9b2d-4c6e-8f3a-1d2c3b4a5e6f', 1, %s, 'volume', 'volume', 'disk', 'virtio', "
        "'7e2d4c1b-3a5f-4e6d-9c8b-0a1f2e3d4c5b', '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a', 0)",
        (u,),
    )
    dep.execute("nova", "UPDATE block_device_mapping SET deleted = id WHERE device_name = '/dev/vdz'")
    # the share Nova's delete denies and forgets (2025.1+; the table exists from 2024.1)
    if "share_mapping" in catalog_snapshot(dep.release, "nova").table_names:
        dep.execute(
            "nova",
            "INSERT INTO share_mapping (created_at, uuid, instance_uuid, share_id, status, tag, "
            "export_location, share_proto) VALUES ('2026-01-02 03:04:05', "
            "'6c1e7a36-4a86-4c3e-9a3e-5b0f3f0b2a11', %s, '0f5b8e0c-3f5e-4e8b-a0c4-8d7e3d2a9b61', "
            "'active', 'data', '192.0.2.5:/s', 'NFS')",
            (u,),
        )
    # the PF of the instance's two VFs: 'unavailable' while a VF is in use, available once both are free
    dep.execute(
        "nova",
        "INSERT INTO pci_devices (created_at, updated_at, deleted, compute_node_id, address, product_id, "
        "vendor_id, dev_type, dev_id, label, status, extra_info, instance_uuid, request_id, numa_node, "
        "parent_addr, uuid) SELECT '2026-01-02 03:04:05', NULL, 0, compute_node_id, '0000:81:00.0', '1572', "
        "'8086', 'type-PF', 'pci_0000_81_00_0', 'label_8086_1572', 'unavailable', '{}', NULL, NULL, 0, NULL, "
        "'3d0c1f4e-2b7a-4e55-9c61-7f1a2b3c4d5e' FROM pci_devices WHERE instance_uuid = %s LIMIT 1",
        (u,),
    )
    return u


def soft_deleted(dep: Deployment) -> dict[str, int]:
    """Rows with deleted != 0 per cell table (what archive_deleted_rows would move)."""
    out = {}
    for table in dep.query(
        "nova",
        "SELECT table_name AS t FROM information_schema.columns WHERE table_schema = DATABASE() "
        "AND column_name = 'deleted' AND table_name NOT LIKE 'shadow\\_%%'",
    ):
        n = dep.query("nova", f"SELECT COUNT(*) AS n FROM `{table['t']}` WHERE deleted != 0")[0]["n"]
        if n:
            out[table["t"]] = n
    return out


def archive_and_purge(dep: Deployment, tmp: Path, nova: Path) -> str:
    """`nova-manage db archive_deleted_rows --until-complete --purge` (exit 1: rows were archived)."""
    conf = nova_conf(dep, tmp / "nova-manage.conf")
    cmd = [str(nova / "bin" / "nova-manage"), "--config-file", str(conf), "db", "archive_deleted_rows"]
    done = subprocess.run(
        [*cmd, "--until-complete", "--purge", "--verbose"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("state", ["deleting", "deleted"])
def test_vm_purge_matches_nova_delete_archive_and_purge(make_deployment, tmp_path, state) -> None:
    nova, cinder = service_venv("nova", RELEASE), service_venv("cinder", RELEASE)
    twin_a, twin_b = make_deployment(RELEASE), make_deployment(RELEASE)
    uuid = seed_twin(twin_a, state)
    assert seed_twin(twin_b, state) == uuid
    if state == "deleting":
        # only the instance's detached BDM: the archive reaches no other instance's rows
        assert soft_deleted(twin_a) == {"block_device_mapping": 1}
    before_a, before_b = dump(twin_a), dump(twin_b)
    states_b = all_states(twin_b)

    (tmp_path / "a").mkdir()
    if state == "deleting":
        upstream_delete(twin_a, uuid, tmp_path / "a", nova, cinder)
    report = archive_and_purge(twin_a, tmp_path / "a", nova)
    assert "API_DB.instance_mappings" in report, report

    result = generate_vm(
        uuid, VmOptions(op="purge"), targets_for(twin_b), "auto", OutputOptions(out_dir=tmp_path / "b")
    )
    bundle = BundleRun(twin_b, result.path)
    assert_all_ok(bundle.run("apply"))

    upstream, fixpack = changes(before_a, dump(twin_a)), changes(before_b, dump(twin_b))
    assert list(upstream["nova.instances"].values()) == ["removed"], "one instance row, removed"
    assert {
        "nova.instance_actions_events",
        "nova_api.instance_mappings",
        "nova_api.instance_group_member",
    } <= (upstream.keys())
    if state == "deleting":
        assert {"placement.allocations", "cinder.volume_attachment", "nova.pci_devices"} <= upstream.keys()
    for table in FIXPACK_ONLY:
        assert table not in upstream, f"{table}: Nova changed it after all: {upstream[table]}"
        removed = fixpack.pop(table, {})
        assert removed and set(removed.values()) == {"removed"}, f"{table}: {removed}"
    assert_same_changes(upstream, fixpack, "nova delete+archive+purge")

    assert_all_ok(bundle.run("rollback"))
    assert_identical(states_b, all_states(twin_b))
