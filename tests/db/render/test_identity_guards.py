"""Every SQL file first proves it runs on the right service database, cell and schema.

Each refusal is proven by running the bundle's own file with the real client on
the wrong database of a real deployment: the client stops at an identity guard
(ERROR 1242) after printing what was expected and what was found, and no table
of any database changed. A re-run after success still passes the identity
checks and reports done.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.connect.sources import ConnectionOptions, resolve
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.rehearse.client import ClientRun, run_sql_file
from generator.rehearse.runner import guard_at
from generator.scratch.deployment import Deployment
from generator.seed import Seeder
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical, run_offline
from tests.conftest import ALL_RELEASES
from tests.db.plan.test_vm_bundles import generate, seed_world

pytestmark = pytest.mark.db

NO_DATABASE = resolve(ConnectionOptions(), env={})


def step_file(path: Path, phase: str, role: str) -> Path:
    manifest = json.loads((path / "manifest.json").read_text())
    for step in manifest["steps"]:
        mine = step["phase"] == phase and step["target"] == f"db:{role}" and step["kind"] == "sql"
        if mine and not step.get("produces"):
            return path / step["file"]
    raise AssertionError(f"no {phase} file for {role}")


def capture_file(path: Path, role: str) -> Path:
    manifest = json.loads((path / "manifest.json").read_text())
    return path / next(
        s["file"] for s in manifest["steps"] if s.get("produces") and s["target"] == f"db:{role}"
    )


def first_guard_line(path: Path) -> int:
    """The line of the first guard statement of a file (the client reports a statement's first line)."""
    lines = path.read_text().splitlines()
    return next(n for n in range(1, len(lines) + 1) if guard_at(path, n))


def stopped_at(run: ClientRun) -> tuple[int, str]:
    """(line, guard label) of the guard that stopped the client."""
    assert not run.ok, f"{run.file} ran to the end on the wrong database:\n{run.stdout[-600:]}"
    assert "ERROR 1242" in run.stderr, run.stderr
    line = int(run.stderr.split(" at line ", 1)[1].split(":", 1)[0])
    label = guard_at(Path(run.file), line)
    assert label is not None, run.stderr
    return line, label


def refuses(
    dep: Deployment, others: list[Deployment], wrong_role: str, file: Path, *, raw: bool = False
) -> ClientRun:
    """Run `file` on `dep`'s `wrong_role` database: it must stop at an identity guard, changing nothing."""
    before = [all_states(d) for d in [dep, *others]]
    run = run_sql_file(dep.url(wrong_role), file, raw=raw)
    _, label = stopped_at(run)
    assert label.startswith("identity: "), label
    for d, state in zip([dep, *others], before, strict=True):
        assert_identical(state, all_states(d))
    return run


# -- the wrong service database ------------------------------------------------------------
@pytest.mark.parametrize("mode", ["live", "offline"])
def test_nova_api_and_placement_files_swapped_stop_at_the_first_guard(
    make_deployment, tmp_path, mode
) -> None:
    dep = make_deployment("2025.1")
    target = seed_world(dep, op="soft-delete")
    if mode == "live":
        path = generate(dep, target.uuid, "soft-delete", tmp_path).path
    else:
        opts = VmOptions(op="soft-delete")
        path = generate_vm(target.uuid, opts, NO_DATABASE, "2025.1", OutputOptions(out_dir=tmp_path)).path
    for phase in ("precheck", "apply", "verify"):
        for role, wrong in (("nova_api", "placement"), ("placement", "nova_api"), ("nova", "nova_api")):
            file = step_file(path, phase, role)
            run = refuses(dep, [], wrong, file)
            line, label = stopped_at(run)
            assert line == first_guard_line(file), (file.name, label)  # the very first guard
            assert label.startswith("identity: the ") or label.startswith("identity: a Nova cell"), label
            assert "expected\tfound" in run.stdout and "service tables here: " in run.stdout
    # the placement apply on the nova_api database (which carries legacy allocations/consumers tables)
    run = refuses(dep, [], "nova_api", step_file(path, "apply", "placement"))
    source = (
        "the placement schema read at generation" if mode == "live" else "release 2025.1 (fixpack catalog)"
    )
    expected = f"the Placement database with the columns of {source}"
    assert f"{expected}\tservice tables here: cell_mappings" in run.stdout


# -- the wrong cell ------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["live", "offline"])
def test_cell_file_on_cell0_or_another_cell_stops_before_any_change(make_deployment, tmp_path, mode) -> None:
    dep = make_deployment("2025.1")
    other = make_deployment("2025.1")  # another cell of the same release, with instances of its own
    s = Seeder(other, seed=5)
    host = s.compute_host("cmp-09")
    for _ in range(3):
        s.instance(host=host, vm_state="error", task_state="deleting", power_state=4)
    s.flush()
    target = seed_world(dep, op="soft-delete")
    if mode == "live":
        path = generate(dep, target.uuid, "soft-delete", tmp_path).path
    else:
        opts = VmOptions(op="soft-delete")
        path = generate_vm(target.uuid, opts, NO_DATABASE, "2025.1", OutputOptions(out_dir=tmp_path)).path
    for phase in ("precheck", "apply", "verify"):
        file = step_file(path, phase, "nova")
        for where, role in ((dep, "nova_cell0"), (other, "nova")):
            run = refuses(dep, [other], role, file) if where is dep else refuses(other, [dep], role, file)
            _, label = stopped_at(run)
            assert label == f"identity: instance {target.uuid} is in this database"
            assert f"instance {target.uuid} in instances here" in run.stdout
            assert "0 row(s) in instances" in run.stdout
    if mode == "offline":  # the capture too, and the rollback it writes, refuse the wrong cell
        refuses(dep, [other], "nova_cell0", capture_file(path, "nova"), raw=True)


# -- the wrong release (offline) and a schema changed since generation (live) ---------------
def test_offline_xena_bundle_on_a_2026_2_database_stops_before_capture_or_apply(
    make_deployment, tmp_path
) -> None:
    dep = make_deployment("2026.2")
    target = seed_world(dep, op="soft-delete")
    opts = VmOptions(op="soft-delete")
    path = generate_vm(target.uuid, opts, NO_DATABASE, "xena", OutputOptions(out_dir=tmp_path)).path
    run_ = BundleRun(dep, path)
    before = all_states(dep)
    for phase in ("precheck", "apply"):
        runs = run_offline(run_, phase)
        assert runs and not runs[0].ok
        _, label = stopped_at(runs[0])
        assert label == "identity: a Nova cell database with the columns of release xena (fixpack catalog)"
        # each differing table is printed with the columns it has here: xena lacks these
        found = runs[0].stdout.split("\n")[-2]
        assert "instances: " in found and "compute_id bigint NULL" in found
        assert "block_device_mapping: " in found and "encrypted tinyint" in found
    capture = run_sql_file(dep.url("nova"), capture_file(path, "nova"), raw=True)
    _, label = stopped_at(capture)
    assert "with the columns of release xena" in label
    assert_identical(before, all_states(dep))


def test_live_bundle_stops_when_a_touched_table_gained_a_column(make_deployment, tmp_path) -> None:
    dep = make_deployment("2024.1")
    target = seed_world(dep, op="soft-delete")
    path = generate(dep, target.uuid, "soft-delete", tmp_path).path
    dep.execute("nova", "ALTER TABLE instance_metadata ADD COLUMN fixpack_extra INT NULL")
    run_ = BundleRun(dep, path)
    before = all_states(dep)
    for phase in ("precheck", "apply"):
        runs = run_.run(phase)
        nova = next(r for r in runs if r.file.endswith("-nova.sql"))
        _, label = stopped_at(nova)
        assert (
            label == "identity: a Nova cell database with the columns of the nova schema read at generation"
        )
        assert "instance_metadata: " in nova.stdout and "fixpack_extra int NULL" in nova.stdout
        assert "instances: " not in nova.stdout  # only the table that differs
    assert_identical(before, all_states(dep))


# -- a re-run after success passes the identity checks -------------------------------------
@pytest.mark.parametrize("op", ["soft-delete", "purge"])
def test_live_rerun_after_success_passes_identity_and_reports_done(make_deployment, tmp_path, op) -> None:
    dep = make_deployment("2025.2")
    target = seed_world(dep, op=op)
    run_ = BundleRun(dep, generate(dep, target.uuid, op, tmp_path).path)
    before = all_states(dep)
    assert_all_ok(run_.run("precheck"))
    assert_all_ok(run_.run("apply"))
    after = all_states(dep)
    again = run_.run("apply")
    assert_all_ok(again)
    assert all("already done; nothing changed" in r.stdout for r in again)
    # every file checked its database again, and the instance check held (a purged instance is
    # gone: its postconditions stand in for it)
    assert all(" with the columns of the " in r.stdout and "identity: " in r.stdout for r in again)
    assert f"identity: instance {target.uuid} is in this database\t1" in again[0].stdout
    assert_all_ok(run_.run("verify"))
    assert_identical(after, all_states(dep))
    assert_all_ok(run_.run("rollback"))
    assert_identical(before, all_states(dep))


def test_offline_rerun_after_success_passes_identity_and_rollback_checks_its_database(
    make_deployment, tmp_path
) -> None:
    dep = make_deployment("2025.2")
    target = seed_world(dep, op="soft-delete")
    opts = VmOptions(op="soft-delete")
    path = generate_vm(target.uuid, opts, NO_DATABASE, "2025.2", OutputOptions(out_dir=tmp_path)).path
    run_ = BundleRun(dep, path)
    before = all_states(dep)
    assert_all_ok(run_offline(run_, "precheck"))
    assert_all_ok(run_offline(run_, "apply"))
    after = all_states(dep)
    again = run_offline(run_, "apply")
    assert_all_ok(again)
    assert all("apply finished" in r.stdout for r in again)
    assert_identical(after, all_states(dep))
    # the rollback the capture wrote starts with the same identity checks: it refuses cell0 ...
    manifest = json.loads((path / "manifest.json").read_text())
    rollback = path / next(
        s["file"] for s in manifest["steps"] if s["phase"] == "rollback" and s["target"] == "db:nova"
    )
    text = rollback.read_text()
    assert text.index("identity 1/2") < text.index("identity 2/2") < text.index("START TRANSACTION;")
    refuses(dep, [], "nova_cell0", rollback)
    # ... and restores the right one
    assert_all_ok(run_offline(run_, "rollback"))
    assert_identical(before, all_states(dep))


@pytest.mark.parametrize("mode", ["live", "offline"])
def test_purge_rollback_refuses_the_wrong_cell_after_the_instance_is_gone(
    make_deployment, tmp_path, mode
) -> None:
    # After a purge no row of the instance is left anywhere: only the database's name (at generation,
    # or where the capture ran) still tells its cell from cell0, where the rollback must not insert it.
    dep = make_deployment("2024.2")
    target = seed_world(dep, op="purge")
    if mode == "live":
        path = generate(dep, target.uuid, "purge", tmp_path).path
    else:
        opts = VmOptions(op="purge")
        path = generate_vm(target.uuid, opts, NO_DATABASE, "2024.2", OutputOptions(out_dir=tmp_path)).path
    run_ = BundleRun(dep, path)
    before = all_states(dep)
    assert_all_ok(run_offline(run_, "precheck"))
    assert_all_ok(run_offline(run_, "apply"))
    assert not dep.query("nova", "SELECT id FROM instances WHERE uuid = %s", (target.uuid,))
    rollback = next(
        path / s["file"]
        for s in run_.manifest["steps"]
        if s["phase"] == "rollback" and s["target"] == "db:nova"
    )
    run = refuses(dep, [], "nova_cell0", rollback)
    assert "or another database" in run.stdout
    assert not dep.query("nova_cell0", "SELECT id FROM instances WHERE uuid = %s", (target.uuid,))
    assert_all_ok(run_offline(run_, "rollback"))
    assert_identical(before, all_states(dep))


# -- every catalog release ------------------------------------------------------------------
def test_service_marker_tables_tell_every_database_apart_in_every_release() -> None:
    from generator.catalog import catalog_snapshot
    from generator.render.identity import SERVICES

    for release in ALL_RELEASES:
        tables = {role: set(catalog_snapshot(release, role).table_names) for role in SERVICES}
        for role, service in SERVICES.items():
            assert set(service.markers) <= tables[role], (release, role)
            for other in set(SERVICES) - {role}:
                assert not set(service.markers) <= tables[other], (release, role, other)


@pytest.mark.parametrize("release", ALL_RELEASES)
def test_service_and_schema_checks_hold_on_a_fresh_database_of_every_release(
    make_deployment, tmp_path, release
) -> None:
    # An offline bundle's checks against the real schema of its release: service and schema pass (no false
    # refusal from type spelling), and the files stop only at the target check — the target is absent.
    from generator.jobs_volume import generate_volume
    from generator.plan.volume_common import VolumeOptions

    dep = make_deployment(release)
    ghost = "0f0f0f0f-0000-4000-8000-000000000002"
    out = OutputOptions(out_dir=tmp_path)
    paths = [
        generate_vm(ghost, VmOptions(op=op), NO_DATABASE, release, out).path
        for op in ("soft-delete", "purge")
    ]
    opts = VolumeOptions(op="reset-detached", detach_nova=True)
    paths.append(generate_volume(ghost, opts, NO_DATABASE, release, out).path)
    before = all_states(dep)
    for path in paths:
        manifest = json.loads((path / "manifest.json").read_text())
        for step in manifest["steps"]:
            if step["kind"] != "sql" or step["phase"] == "rollback":
                continue
            role = step["target"].removeprefix("db:")
            raw = bool(step.get("produces"))
            run = run_sql_file(dep.url(role), path / step["file"], raw=raw)
            # service and schema held (the guards printed their rows); only the target may be missing
            if not raw:
                assert f" with the columns of release {release} (fixpack catalog)\t1" in run.stdout
            if not run.ok:
                _, label = stopped_at(run)
                # after a purge the target is absent by design: there the capture's own refusal ("the
                # apply has already run") is what stops it, which is as right on an empty database
                refused = raw and "purge" in path.name and "capture guard: the apply has not run" in label
                assert " is in this database" in label or refused, (step["file"], label)
    assert_identical(before, all_states(dep))
