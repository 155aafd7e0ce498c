"""Differential: a live VM purge bundle changes exactly the rows Nova's own code changes when
an instance is deleted and its rows are then archived and purged.

fixpack's purge (generator/plan/vm_purge.py) claims to leave what Nova's delete followed by
`nova-manage db archive_deleted_rows` and `nova-manage db purge` leave: no trace of the
instance in the cell database, nova_api or placement, and its volumes detached in Cinder.
Two twins of one 2026.2 deployment are seeded alike: an instance stuck in 'deleting' with two
attached volumes (one delete_on_termination), tags, metadata, a console token, faults, actions
with events, a share mapping, allocations, among other instances.
- Twin A runs the upstream code (nova 34.0.0, cinder 29.0.0 from cached venvs, see
  tests/differential.py): Nova + Cinder's own delete (tests/differential.py upstream_delete:
  Cinder's attachment delete, Nova's `_delete_instance`/`instance.destroy()`, placement's
  DELETE /allocations), then `nova-manage db archive_deleted_rows --until-complete --purge`,
  which moves every soft-deleted row of the instance (and, following foreign keys, its
  instance_actions and their events) into the shadow tables, removes its instance_mappings,
  request_specs and instance_group_member rows from nova_api, and then empties the shadow
  tables (`purge --all`).
- Twin B applies the fixpack purge bundle with the real client.
Every row change of every table of every database is compared: values exactly, timestamps as
"set" or "unchanged". The `shadow_*` tables are compared too: upstream fills them and purges
them again in one command, so both twins end with them as they were (empty). Nothing else in
the seeded world is soft-deleted, so the archive touches only the instance's rows (asserted).
The bundle's rollback then restores twin B exactly.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.scratch.deployment import Deployment
from generator.seed import Seeder

from .bundles import BundleRun, all_states, assert_all_ok, assert_identical, targets_for
from .differential import (
    assert_same_changes,
    changes,
    dump,
    nova_conf,
    service_venv,
    upstream_delete,
)

pytestmark = [pytest.mark.db, pytest.mark.slow]
RELEASE = "2026.2"


def seed_twin(dep: Deployment) -> str:
    """The same world in each twin; returns the uuid of the instance to purge."""
    s = Seeder(dep, seed=31)
    h1, h2 = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    for i in range(4):
        s.instance(host=h1 if i % 2 else h2, vif_types=("ovs",), volumes=i % 3)
    target = s.instance(
        host=h1, vm_state="error", task_state="deleting", power_state=4, volumes=2,
        vif_types=("ovs_hybrid", "ovs"), metadata={"role": "db"}, tags=("web", "db"), faults=2, actions=3,
    )  # fmt: skip
    s.flush()
    bdm = dep.query(
        "nova",
        "SELECT id FROM block_device_mapping WHERE instance_uuid = %s AND deleted = 0 "
        "AND volume_id IS NOT NULL ORDER BY id LIMIT 1",
        (target.uuid,),
    )
    dep.execute(
        "nova", "UPDATE block_device_mapping SET delete_on_termination = 1 WHERE id = %s", (bdm[0]["id"],)
    )
    dep.execute(
        "nova",
        "INSERT INTO share_mapping (created_at, uuid, instance_uuid, share_id, status, tag, export_location, "
        "share_proto) VALUES ('2026-01-02 03:04:05', '6c1e7a36-4a86-4c3e-9a3e-5b0f3f0b2a11', %s, "
        "'0f5b8e0c-3f5e-4e8b-a0c4-8d7e3d2a9b61', 'active', 'data', '192.0.2.5:/s', 'NFS')",
        (target.uuid,),
    )
    return target.uuid


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


def test_vm_purge_matches_nova_delete_archive_and_purge(make_deployment, tmp_path) -> None:
    nova, cinder = service_venv("nova", RELEASE), service_venv("cinder", RELEASE)
    twin_a, twin_b = make_deployment(RELEASE), make_deployment(RELEASE)
    uuid = seed_twin(twin_a)
    assert seed_twin(twin_b) == uuid
    assert soft_deleted(twin_a) == {}, "the archive would move rows of other instances too"
    before_a, before_b = dump(twin_a), dump(twin_b)
    states_b = all_states(twin_b)

    (tmp_path / "a").mkdir()
    upstream_delete(twin_a, uuid, tmp_path / "a", nova, cinder)
    report = archive_and_purge(twin_a, tmp_path / "a", nova)
    assert "API_DB.instance_mappings" in report, report

    result = generate_vm(
        uuid, VmOptions(op="purge"), targets_for(twin_b), "auto", OutputOptions(out_dir=tmp_path / "b")
    )
    bundle = BundleRun(twin_b, result.path)
    assert_all_ok(bundle.run("apply"))

    upstream, fixpack = changes(before_a, dump(twin_a)), changes(before_b, dump(twin_b))
    assert upstream.get("nova.instances") == {k: "removed" for k in upstream["nova.instances"]}
    assert {
        "nova_api.instance_mappings",
        "placement.allocations",
        "cinder.volume_attachment",
    } <= upstream.keys()
    assert_same_changes(upstream, fixpack, "nova delete+archive+purge")

    assert_all_ok(bundle.run("rollback"))
    assert_identical(states_b, all_states(twin_b))
