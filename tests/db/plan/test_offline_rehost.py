"""Offline rehost decides the move's outcome at run time and writes what the live rehost writes.

Per outcome (a completed live migration, a reverted cold migration, a reverted resize) two twin
deployments are seeded alike; the offline bundle (generated with no database) runs on one as its
runbook says, the live bundle on the other, and every row of the Nova cell database must end the
same (updated_at: stamped on the same rows). Then: re-run changes nothing, rollback restores every
row. A --to-host matching neither end of the move stops the offline precheck (the live planner
refuses at generation), unless --allow-unknown-outcome was given.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from generator.catalog import catalog_snapshot
from generator.connect.sources import ConnectionOptions, resolve
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.overrides import Overrides
from generator.plan.vm_common import VmOptions
from generator.seed import Seeder
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical, run_offline, targets_for

pytestmark = pytest.mark.db
NO_DATABASE = resolve(ConnectionOptions(), env={})
RELEASE = "2025.1"
ALLOW = Overrides.of("recent-transition")


def _seed(dep, move: str, status: str = "finished"):
    s = Seeder(dep, seed=31)
    h1, h2 = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    s.compute_host("cmp-03")
    for i in range(4):
        s.instance(host=h1 if i % 2 else h2, volumes=i % 2)
    if move == "live-migration":  # running on cmp-01 -> cmp-02, the instance still on its source
        target = s.instance(host=h1, task_state="migrating", migration="live-migration",
                            migration_status="running", volumes=1)  # fmt: skip
    else:  # 'finished' (VERIFY_RESIZE): the instance already points at the destination
        target = s.instance(host=h1, vm_state="resized" if status == "finished" else "error",
                            migration=move, migration_status=status,
                            flavor="m1.small", new_flavor="m1.medium" if move == "resize" else None,
                            volumes=1)  # fmt: skip
    s.flush()
    return target


def _without_pci_requests(dep, target):
    """The context's PCI requests emptied on both sides (and instance_extra's list with them), its
    NUMA pinnings kept: what an offline rehost copies in SQL."""
    row = dep.query("nova", "SELECT id, migration_context FROM instance_extra WHERE instance_uuid = %s",
                    (target.uuid,))[0]  # fmt: skip
    ctx = json.loads(row["migration_context"])
    for side in ("old_", "new_"):
        reqs = ctx["nova_object.data"].get(side + "pci_requests")
        if reqs:
            reqs["nova_object.data"]["requests"] = []
    dep.execute("nova", "UPDATE instance_extra SET migration_context = %s, pci_requests = '[]' WHERE id = %s",
                (json.dumps(ctx), row["id"]))  # fmt: skip
    return target


def _stopped_by(runs) -> str:
    """The precondition that stopped the last file run, as its runbook says to find it: `ERROR 1242
    at line N` is the guard whose `-- precondition:` comment is above line N (words, one space)."""
    assert not runs[-1].ok and "ERROR 1242" in runs[-1].stderr
    line = int(re.search(r"at line (\d+)", runs[-1].stderr).group(1))
    above = Path(runs[-1].file).read_text().splitlines()[:line]
    said = " ".join(above[max(i for i, t in enumerate(above) if "-- precondition:" in t) :])
    return " ".join(said.replace("--", " ").split())


def _ends(dep, uuid: str) -> dict:
    return dep.query("nova", "SELECT source_compute, dest_compute FROM migrations WHERE instance_uuid = %s",
                     (uuid,))[0]  # fmt: skip


def _node(dep, host: str) -> str:
    return dep.query("nova", "SELECT hypervisor_hostname FROM compute_nodes WHERE host = %s", (host,))[0][
        "hypervisor_hostname"
    ]


def _rows(dep) -> dict[str, list[dict]]:
    """Every row of every Nova cell table, in primary-key order."""
    snap = catalog_snapshot(dep.release, "nova")
    out = {}
    for name in snap.table_names:
        key = ", ".join(f"`{k}`" for k in snap.table(name).primary_key) or "1"
        out[name] = dep.query("nova", f"SELECT * FROM `{name}` ORDER BY {key}")
    return out


STAMPS = ("updated_at", "launched_at")  # set to the time each twin's apply ran


def _compare(before_a, after_a, before_b, after_b) -> int:
    """Same rows on both twins, STAMPS aside; each stamp changed on the same rows. Returns rows."""
    compared = 0
    for table in after_a:
        rows_a, rows_b = after_a[table], after_b[table]
        assert len(rows_a) == len(rows_b), f"{table}: {len(rows_a)} rows offline, {len(rows_b)} live"
        old_a = {r.get("id"): r for r in before_a[table]}
        old_b = {r.get("id"): r for r in before_b[table]}
        for a, b in zip(rows_a, rows_b, strict=True):
            for col in STAMPS:  # stamped offline, live
                stamped = (
                    a.get(col) != old_a.get(a.get("id"), {}).get(col),
                    b.get(col) != old_b.get(b.get("id"), {}).get(col),
                )
                assert stamped[0] == stamped[1], f"{table} {a.get('id')}: {col} stamped {stamped}"
            strip = {k: v for k, v in a.items() if k not in STAMPS}
            assert strip == {k: v for k, v in b.items() if k not in STAMPS}, f"{table} {a.get('id')} differs"
            compared += 1
    return compared


def _offline(uuid: str, host: str, node: str, out, allow: Overrides = ALLOW):
    result = generate_vm(uuid, VmOptions(op="rehost", to_host=host, to_node=node, allow=allow), NO_DATABASE,
                         RELEASE, OutputOptions(out_dir=out))  # fmt: skip
    assert result.lint.passed, [f.describe() for f in result.lint.findings]
    return result


@pytest.mark.parametrize(
    ("move", "seeded", "end", "migration_status"),
    [
        ("live-migration", "running", "dest_compute", "completed"),
        ("migration", "finished", "source_compute", "reverted"),
        ("resize", "finished", "source_compute", "reverted"),
        ("resize", "migrating", "dest_compute", "finished"),  # waits for confirm/revert
    ],
    ids=["live-migration-completed", "cold-migration-reverted", "resize-reverted", "resize-completed"],
)
def test_offline_rehost_ends_the_move_as_the_live_bundle(
    make_deployment, tmp_path, move, seeded, end, migration_status
):
    _twins(make_deployment, tmp_path, lambda dep: _seed(dep, move, seeded), end, migration_status)


def _twins(make_deployment, tmp_path, seed, end: str, migration_status: str) -> None:
    """Seed two twins with `seed`, run the offline bundle on one and the live one on the other
    (--to-host the move's `end`), compare every row, then re-run and roll back offline."""
    off, live = make_deployment(RELEASE), make_deployment(RELEASE)
    target, twin = seed(off), seed(live)
    assert target.uuid == twin.uuid
    to = _ends(off, target.uuid)[end]
    node = _node(off, to)
    result = _offline(target.uuid, to, node, tmp_path / "off")
    live_result = generate_vm(target.uuid, VmOptions(op="rehost", to_host=to, allow=ALLOW), targets_for(live),
                              "auto", OutputOptions(out_dir=tmp_path / "live"))  # fmt: skip
    before_off, before_live = _rows(off), _rows(live)
    states = all_states(off)
    run = BundleRun(off, result.path)
    assert_all_ok(run_offline(run, "precheck"))
    assert_identical(states, all_states(off))
    assert_all_ok(run_offline(run, "apply"))
    live_run = BundleRun(live, live_result.path)
    assert_all_ok(live_run.run("precheck"))
    assert_all_ok(live_run.run("apply"))
    after_off = _rows(off)
    mig = off.query("nova", "SELECT status FROM migrations WHERE instance_uuid = %s", (target.uuid,))
    assert [m["status"] for m in mig] == [migration_status]
    assert _compare(before_off, after_off, before_live, _rows(live)) > 100
    assert_all_ok(run_offline(run, "verify"))
    applied = all_states(off)
    assert_all_ok(run_offline(run, "apply"))  # re-run: nothing left to change
    assert_identical(applied, all_states(off))
    assert_all_ok(run_offline(run, "rollback"))
    assert_identical(states, all_states(off))


@pytest.mark.parametrize("vm_state", ["active", "stopped"])
def test_offline_rehost_ends_a_completed_evacuation_as_the_live_bundle(make_deployment, tmp_path, vm_state):
    # the rebuild's end (vm_state, power_state, launched_at, migration 'done') and the context's
    # new NUMA pinning (its PCI requests removed: offline stops on any, see the test below)
    from tests.db.plan.test_rehost_outcomes import seed_evacuation

    seed = lambda dep: _without_pci_requests(dep, seed_evacuation(dep, vm_state=vm_state))  # noqa: E731
    _twins(make_deployment, tmp_path, seed, "dest_compute", "done")


def test_offline_rehost_reverts_a_stopped_resize_as_the_live_bundle(make_deployment, tmp_path):
    # revert_migration_context (the old pinning; no PCI request offline) and power_state 4 (stop_instance)
    from tests.db.plan.test_rehost_outcomes import pinned_context

    def seed(dep):
        target = _seed(dep, "resize", "finished")
        dep.execute(
            "nova",
            "INSERT INTO instance_system_metadata (created_at, deleted, instance_uuid, `key`, value) "
            "VALUES ('2026-01-02 03:04:05', 0, %s, 'old_vm_state', 'stopped')",
            (target.uuid,),
        )
        pinned_context(dep, target.uuid, applied=True)
        return _without_pci_requests(dep, target)

    _twins(make_deployment, tmp_path, seed, "source_compute", "reverted")


def test_offline_rehost_to_neither_end_stops_at_the_precheck(make_deployment, tmp_path):
    from generator.errors import TargetProblem

    dep = make_deployment(RELEASE)
    target = _seed(dep, "resize")
    ends = _ends(dep, target.uuid)
    other = next(h for h in ("cmp-01", "cmp-02", "cmp-03") if h not in ends.values())
    with pytest.raises(TargetProblem, match="unknown-outcome"):  # the live planner, for the same answer
        generate_vm(target.uuid, VmOptions(op="rehost", to_host=other, allow=ALLOW), targets_for(dep),
                    "auto", OutputOptions(out_dir=tmp_path / "live"))  # fmt: skip
    result = _offline(target.uuid, other, _node(dep, other), tmp_path / "off")
    states = all_states(dep)
    runs = run_offline(BundleRun(dep, result.path), "apply")
    assert "whether it completed or reverted is unknown" in _stopped_by(runs)
    assert_identical(states, all_states(dep))
    # the named override at generation: the move is closed as 'error', as the live planner does
    forced = _offline(target.uuid, other, _node(dep, other), tmp_path / "forced",
                      Overrides.of("recent-transition", "unknown-outcome"))  # fmt: skip
    run = BundleRun(dep, forced.path)
    assert_all_ok(run_offline(run, "precheck"))
    assert_all_ok(run_offline(run, "apply"))
    mig = dep.query("nova", "SELECT status FROM migrations WHERE instance_uuid = %s", (target.uuid,))
    assert [m["status"] for m in mig] == ["error"]
    assert_all_ok(run_offline(run, "rollback"))
    assert_identical(states, all_states(dep))


def test_offline_rehost_stops_on_a_context_sql_cannot_copy_as_nova_writes_it(make_deployment, tmp_path):
    # a context spaced otherwise than json.dumps (here compact): JSON_EXTRACT would copy its
    # spacing, Nova's save re-dumps it; the precheck stops before any change

    dep = make_deployment(RELEASE)
    target = _seed(dep, "resize")
    row = dep.query("nova", "SELECT id, migration_context FROM instance_extra WHERE instance_uuid = %s",
                    (target.uuid,))[0]  # fmt: skip
    compact = json.dumps(json.loads(row["migration_context"]), separators=(",", ":"))
    dep.execute("nova", "UPDATE instance_extra SET migration_context = %s WHERE id = %s",
                (compact, row["id"]))  # fmt: skip
    source = _ends(dep, target.uuid)["source_compute"]
    result = _offline(target.uuid, source, _node(dep, source), tmp_path / "off")
    assert any("json.dumps form" in w for w in result.plan.warnings)
    states = all_states(dep)
    for mode in ("precheck", "apply"):  # the apply's steps copy without checking: its guard stops it
        runs = run_offline(BundleRun(dep, result.path), mode)
        assert "in json.dumps form" in _stopped_by(runs)
        assert_identical(states, all_states(dep))


def test_offline_rehost_stops_on_a_context_with_pci_requests(make_deployment, tmp_path):
    # to_json of each PCI request rebuilt in SQL costs ~100 lines per request in every statement
    # reading it (vm_offline_rehost_context.py): offline leaves such an instance to the live rehost
    from tests.db.plan.test_rehost_outcomes import pinned_context

    dep = make_deployment(RELEASE)
    target = _seed(dep, "resize")
    pinned_context(dep, target.uuid, applied=True)
    source = _ends(dep, target.uuid)["source_compute"]
    result = _offline(target.uuid, source, _node(dep, source), tmp_path / "off")
    states = all_states(dep)
    runs = run_offline(BundleRun(dep, result.path), "precheck")
    assert "without PCI requests" in _stopped_by(runs)
    assert_identical(states, all_states(dep))
