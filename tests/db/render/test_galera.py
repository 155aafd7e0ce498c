"""Bundles on a real Galera node (galera-4 provider, wsrep_on=ON, gcomm://, loopback ports).

Galera refuses a transaction that writes more than wsrep_max_ws_rows rows (ERROR 1180)
and loses it whole. Reproduced first: a bundle cut into the default 1,000-row chunks,
as fixpack did before it read the limits, stops on its first big chunk. Then: live
generation reads the limits and sizes every chunk below them — the apply succeeds,
re-runs as a no-op, and the rollback restores every table exactly.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from generator.connect.sources import ConnectionOptions, resolve
from generator.pipeline import OutputOptions, assemble, generate_vm
from generator.plan.vm_common import VmOptions
from generator.rehearse.tables import diff_states
from generator.scratch.deployment import create_deployment
from generator.seed import Seeder
from tests.bundles import (
    BundleRun,
    all_states,
    allowed_changes,
    assert_all_ok,
    assert_identical,
    assert_only_planned_rows_changed,
    run_offline,
    targets_for,
)
from tests.galera_node import running_galera_node, set_limits

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def galera_node():
    with running_galera_node() as node:
        yield node


RELEASE = "2024.2"
LIMIT = 500


def _world(node, metadata_rows: int = 1200, value_size: int = 0):
    dep = create_deployment(node.url, RELEASE, prefix="gal")
    s = Seeder(dep, seed=5)
    h1 = s.compute_host("cmp-01")
    for _ in range(3):
        s.instance(host=h1)
    target = s.instance(
        host=h1,
        vm_state="error",
        task_state="deleting",
        power_state=4,
        volumes=1,
        metadata={f"key-{i:05d}": f"value {i} ".ljust(value_size, "v") for i in range(metadata_rows)},
    )
    s.flush()
    return dep, target


def old_chunk_rows(bundle, number: int) -> int:
    """Rows of one chunk, from the `-- ==== chunk N/M: S step(s), R row(s) ====` banner of the apply."""
    text = next((bundle / "sql").glob("2*-apply-nova.sql")).read_text()
    banner = next(ln for ln in text.splitlines() if ln.startswith(f"-- ==== chunk {number}/"))
    return int(banner.split(", ")[1].split(" ")[0])


def _generate(dep, uuid: str, out, chunk_rows: int = 1000):
    return generate_vm(
        uuid,
        VmOptions(op="soft-delete"),
        targets_for(dep),
        "auto",
        OutputOptions(out_dir=out, chunk_rows=chunk_rows),
    )


def _blind(result, out):
    """The bundle as fixpack rendered it before reading the limits: 1,000-row chunks."""
    plan = replace(result.plan, databases=tuple(replace(db, write_set=None) for db in result.plan.databases))
    return assemble(plan, OutputOptions(out_dir=out))


def test_default_chunks_fail_on_galera_without_the_limits(galera_node, tmp_path, monkeypatch) -> None:
    """Before the fix: chunks ignore wsrep_max_ws_rows and nothing checks it; chunk 2 fails, chunk 1
    stays committed."""
    import generator.render.sql as render_sql

    set_limits(galera_node, rows=0)
    dep, target = _world(galera_node)
    try:
        set_limits(galera_node, rows=LIMIT)
        result = _generate(dep, target.uuid, tmp_path / "read")
        with monkeypatch.context() as m:
            m.setattr(render_sql, "galera_check", lambda chunks, what: [])  # no run-time check either
            old = _blind(result, tmp_path / "blind")
        before = all_states(dep)
        runs = BundleRun(dep, old.path).run("apply")
        assert not runs[-1].ok
        assert "ERROR 1180" in runs[-1].stderr and "wsrep_max_ws_rows exceeded" in runs[-1].stderr
        # chunk 1 (one small step) committed; chunk 2 (1,000 rows) was lost whole
        committed = [ln for ln in runs[-1].stdout.splitlines() if ln.endswith("\tapplied")]
        assert [ln.split("\t")[0] for ln in committed] == ["apply chunk 1/3"]
        now = all_states(dep)
        changed = sum(len(d.keys) for role in before for d in diff_states(before[role], now[role]).values())
        assert changed == old_chunk_rows(old.path, 1)
        assert_all_ok(BundleRun(dep, old.path).run("rollback"))  # what committed is restored
        assert_identical(before, all_states(dep))
    finally:
        set_limits(galera_node, rows=0)
        dep.drop()


def test_a_live_bundle_whose_chunks_exceed_the_limits_stops_before_its_first_write(
    galera_node, tmp_path
) -> None:
    """Generated where the limits were not read (or were higher): the run-time check refuses it."""
    set_limits(galera_node, rows=0)
    dep, target = _world(galera_node)
    try:
        set_limits(galera_node, rows=LIMIT)
        old = _blind(_generate(dep, target.uuid, tmp_path / "read"), tmp_path / "blind")
        before = all_states(dep)
        runs = BundleRun(dep, old.path).run("apply")
        assert not runs[-1].ok and "ERROR 1242" in runs[-1].stderr
        said = runs[-1].stdout
        assert "ERROR: this apply changes up to 1000 row(s) per transaction" in said
        assert "wsrep_max_ws_rows=500" in said and "Regenerate the bundle with --chunk-rows 500" in said
        assert "apply chunk 1/" not in said
        assert_identical(before, all_states(dep))
    finally:
        set_limits(galera_node, rows=0)
        dep.drop()


def test_live_generation_reads_the_limits_and_the_bundle_applies(galera_node, tmp_path) -> None:
    set_limits(galera_node, rows=0)
    dep, target = _world(galera_node)
    try:
        set_limits(galera_node, rows=LIMIT)
        result = _generate(dep, target.uuid, tmp_path)
        assert result.lint.passed
        readme = (result.path / "README.md").read_text()
        assert "wsrep\\_on=ON, wsrep\\_max\\_ws\\_rows=500" in readme or "wsrep_max_ws_rows=500" in readme
        assert f"chunks of at most {LIMIT} row(s)" in readme
        assert any("--chunk-rows 1000 lowered to 500" in w for w in result.plan.warnings)
        run = BundleRun(dep, result.path)
        before = all_states(dep)
        assert_all_ok(run.run("precheck"))
        applied = run.run("apply")
        assert_all_ok(applied)
        assert sum(line.endswith("applied") for r in applied for line in r.stdout.splitlines()) >= 3
        after = all_states(dep)
        allowed = allowed_changes(result.plan, dep, run)
        assert assert_only_planned_rows_changed(before, after, allowed) > 1200
        assert_all_ok(run.run("verify"))
        assert_all_ok(run.run("apply"))  # re-run: every chunk already done
        assert_identical(after, all_states(dep))
        assert_all_ok(run.run("rollback"))
        assert_identical(before, all_states(dep))
    finally:
        set_limits(galera_node, rows=0)
        dep.drop()


# -- offline bundles: chunked, and the limits checked at run time ------------------------------------
NO_DATABASE = resolve(ConnectionOptions(), env={})


def _offline(uuid: str, out, chunk_rows: int):
    return generate_vm(
        uuid,
        VmOptions(op="soft-delete"),
        NO_DATABASE,
        RELEASE,
        OutputOptions(out_dir=out, chunk_rows=chunk_rows),
    )


def test_offline_chunks_too_big_for_galera_refuse_before_the_first_write(galera_node, tmp_path) -> None:
    set_limits(galera_node, rows=0)
    dep, target = _world(galera_node, metadata_rows=800)
    try:
        set_limits(galera_node, rows=LIMIT)
        run = BundleRun(dep, _offline(target.uuid, tmp_path, 1000).path)
        before = all_states(dep)
        assert_all_ok(run_offline(run, "precheck"))
        runs = run_offline(run, "apply")
        assert not runs[-1].ok and "ERROR 1242" in runs[-1].stderr
        said = runs[-1].stdout
        assert "ERROR: this offline apply changes up to 1000 row(s) per transaction" in said
        assert "wsrep_max_ws_rows=500" in said and "Regenerate the bundle with --chunk-rows 500" in said
        assert "apply round 1/" not in said  # stopped before the first write
        assert_identical(before, all_states(dep))
    finally:
        set_limits(galera_node, rows=0)
        dep.drop()


def test_offline_chunks_that_fit_apply_and_roll_back_exactly(galera_node, tmp_path) -> None:
    set_limits(galera_node, rows=0)
    dep, target = _world(galera_node, metadata_rows=800)
    try:
        set_limits(galera_node, rows=LIMIT)
        result = _offline(target.uuid, tmp_path, LIMIT)
        assert result.lint.passed
        run = BundleRun(dep, result.path)
        before = all_states(dep)
        assert_all_ok(run_offline(run, "precheck"))  # the capture writes the chunked rollback
        rollback = next(result.path.glob("captured/*-rollback-nova.sql")).read_text()
        assert rollback.count("START TRANSACTION;") >= 2  # 800+ rows: more than one chunk
        applied = run_offline(run, "apply")
        assert_all_ok(applied)
        rounds = [ln for r in applied for ln in r.stdout.splitlines() if ln.startswith("apply round")]
        changed = [int(ln.split("\t")[1]) for ln in rounds]
        assert max(changed) <= LIMIT and sum(changed) > 800 and changed[1] > 0
        after = all_states(dep)
        assert after != before
        assert_all_ok(run_offline(run, "verify"))
        assert_all_ok(run_offline(run, "apply"))  # re-run: nothing left to change
        assert_identical(after, all_states(dep))
        assert_all_ok(run_offline(run, "rollback"))
        assert_identical(before, all_states(dep))
    finally:
        set_limits(galera_node, rows=0)
        dep.drop()


# -- wsrep_max_ws_size: the write set's bytes ------------------------------------------------------------
SIZE = 262144  # 256 KiB: 500 rows of 250-byte metadata values (before and after image) are more


def test_live_chunks_are_sized_below_wsrep_max_ws_size(galera_node, tmp_path) -> None:
    set_limits(galera_node, rows=0)
    dep, target = _world(galera_node, metadata_rows=1200, value_size=250)
    try:
        set_limits(galera_node, rows=LIMIT, size=SIZE)
        result = _generate(dep, target.uuid, tmp_path)
        readme = (result.path / "README.md").read_text()
        assert f"at most {SIZE} estimated write-set bytes" in readme
        banners = [
            ln
            for ln in next((result.path / "sql").glob("2*-apply-nova.sql")).read_text().splitlines()
            if ln.startswith("-- ==== chunk ")
        ]
        assert len(banners) > 4  # by bytes, not only by the 500 rows
        run = BundleRun(dep, result.path)
        before = all_states(dep)
        assert_all_ok(run.run("apply"))  # the estimate is above the real write sets
        assert_all_ok(run.run("verify"))
        assert_all_ok(run.run("rollback"))
        assert_identical(before, all_states(dep))
        # the same rows in 500-row chunks really exceed the limit (the bytes matter)
        with_rows_only = replace(result.plan, databases=tuple(
            replace(db, write_set=replace(db.write_set, max_ws_size=0)) if db.write_set else db
            for db in result.plan.databases
        ))  # fmt: skip
        rows_only = assemble(with_rows_only, OutputOptions(out_dir=tmp_path / "rows-only"))
        runs = BundleRun(dep, rows_only.path).run("apply")
        assert not runs[-1].ok and "ERROR: this apply changes up to 500 row(s)" in runs[-1].stdout
        assert "wsrep_max_ws_size=262144" in runs[-1].stdout
        assert_identical(before, all_states(dep))
    finally:
        set_limits(galera_node, rows=0)
        dep.drop()


def test_offline_write_set_bytes_are_checked_at_run_time(galera_node, tmp_path) -> None:
    set_limits(galera_node, rows=0)
    dep, target = _world(galera_node, metadata_rows=600, value_size=250)
    try:
        set_limits(galera_node, rows=LIMIT, size=SIZE)
        run = BundleRun(dep, _offline(target.uuid, tmp_path / "big", LIMIT).path)
        before = all_states(dep)
        assert_all_ok(run_offline(run, "precheck"))
        runs = run_offline(run, "apply")
        assert not runs[-1].ok and "wsrep_max_ws_size=262144" in runs[-1].stdout
        assert_identical(before, all_states(dep))
        suggested = int(runs[-1].stdout.split("Regenerate the bundle with --chunk-rows ")[1].split()[0])
        assert 0 < suggested < LIMIT
        run = BundleRun(dep, _offline(target.uuid, tmp_path / "fits", suggested).path)
        assert_all_ok(run_offline(run, "precheck"))
        assert_all_ok(run_offline(run, "apply"))
        assert_all_ok(run_offline(run, "verify"))
        assert_all_ok(run_offline(run, "rollback"))
        assert_identical(before, all_states(dep))
    finally:
        set_limits(galera_node, rows=0)
        dep.drop()
