"""Offline volume bundles (no database at generation), proven by running them on real schemas.

Every distinct schema set is executed once (tests/db/plan/test_offline_schema_sets.py shows the other
releases of a set render the same SQL); that includes the release boundaries that change what
Cinder does: Xena (snapshots not in volume_destroy, the long quota filter), Yoga (snapshots
destroyed with the volume), 2023.2 / 2024.x (use_quota alone from 2024.1) and the newest release.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from generator.connect.sources import ConnectionOptions, resolve
from generator.errors import FixpackError
from generator.jobs_volume import generate_volume
from generator.pipeline import OutputOptions
from generator.plan.volume_common import VolumeOptions
from generator.seed import Seeder
from tests.bundles import (
    BundleRun,
    all_states,
    allowed_changes,
    assert_all_ok,
    assert_identical,
    assert_only_planned_rows_changed,
    assert_values_as_planned,
    run_offline,
    targets_for,
)
from tests.conftest import SCHEMA_SET_RELEASES
from tests.db.plan.test_volume_bundles import check_semantics, count, generate
from tests.volume_world import WHEN, seed_world

pytestmark = pytest.mark.db

NO_DATABASE = resolve(ConnectionOptions(), env={})


def offline(volume_id: str, release: str, out, chunk_rows: int | None = None, **options):
    output = (
        OutputOptions(out_dir=out)
        if chunk_rows is None
        else OutputOptions(out_dir=out, chunk_rows=chunk_rows)
    )
    return generate_volume(volume_id, VolumeOptions(**options), NO_DATABASE, release, output)


@pytest.mark.parametrize("op", ["reset-detached", "soft-delete"])
@pytest.mark.parametrize("release", SCHEMA_SET_RELEASES)
def test_offline_volume_bundle_apply_rerun_rollback(make_deployment, tmp_path, release: str, op: str) -> None:
    dep = make_deployment(release)
    sc = seed_world(dep, op)
    result = offline(sc.volume.id, release, tmp_path, op=op, **sc.options)
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["mode"] == "offline" and result.lint.passed, [f.describe() for f in result.lint.findings]
    # oracle for "nothing else changed": the rows the live planner names for the same world
    live = generate(dep, sc, op, tmp_path / "live")
    allowed = allowed_changes(live.plan, dep, BundleRun(dep, live.path))
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    assert_all_ok(run_offline(run, "precheck"))  # includes the capture steps, which write the rollback
    assert_identical(before, all_states(dep))
    assert_all_ok(run_offline(run, "apply"))
    after = all_states(dep)
    assert assert_only_planned_rows_changed(before, after, allowed) > 0
    check_semantics(dep, op, sc, result, offline=True)
    assert assert_values_as_planned(live.plan, dep, BundleRun(dep, live.path)) > 0
    assert_all_ok(run_offline(run, "verify"))
    assert_all_ok(run_offline(run, "apply"))  # a re-run finds nothing left to change
    assert_identical(after, all_states(dep))
    assert_all_ok(run_offline(run, "rollback"))
    assert_identical(before, all_states(dep))


@pytest.mark.parametrize("case", ["unknown", "snapshots", "active"])
def test_offline_refuses_at_run_time_with_nothing_changed(make_deployment, tmp_path, case: str) -> None:
    release = SCHEMA_SET_RELEASES[-1]
    dep = make_deployment(release)
    s = Seeder(dep, seed=29)
    active = s.instance(host=s.compute_host("cmp-01"))
    with_snapshots = s.volume(snapshots=1)
    attached = s.volume(attach_to=active)
    s.flush()
    if case == "unknown":
        result = offline("0f0f0f0f-0000-4000-8000-000000000002", release, tmp_path, op="soft-delete")
    elif case == "snapshots":
        result = offline(with_snapshots.id, release, tmp_path, op="soft-delete")
    else:
        result = offline(attached.id, release, tmp_path, op="reset-detached", detach_nova=True)
    before = all_states(dep)
    runs = run_offline(BundleRun(dep, result.path), "apply")
    assert not runs[-1].ok and "ERROR 1242" in runs[-1].stderr
    assert_identical(before, all_states(dep))


@pytest.mark.parametrize("op", ["detach-from-nova", "purge"])
def test_offline_ops_that_need_live_rows_say_so(tmp_path, op: str) -> None:
    with pytest.raises(FixpackError, match=f"offline {op} is not supported"):
        offline("0f0f0f0f-0000-4000-8000-000000000003", "2024.1", tmp_path, op=op)


# Legacy specs that the SQL connector must quote exactly as json.dumps: quotes, backslashes, slashes,
# an empty and a blank key, trailing blanks, an empty and a NULL value (seed_world adds host, initiator).
TRICKY_SPECS = (
    ("os_type", 'linux "2" \\ a/b'),
    ("", ""),
    ("  ", "x86_64 "),
    ("platform", None),
    ("ip", "~`{}"),
)


def _add_specs(dep, attachment: str, specs) -> None:
    for key, value in specs:
        dep.execute(
            "cinder",
            "INSERT INTO attachment_specs (created_at, deleted, attachment_id, `key`, value) "
            "VALUES (%s, 0, %s, %s, %s)",
            (WHEN, attachment, key, value),
        )


@pytest.mark.parametrize("chunk_rows", [None, 3], ids=["one-round", "rounds-of-3-rows"])
def test_offline_reset_detached_writes_the_connector_cinder_would(
    make_deployment, tmp_path, chunk_rows
) -> None:
    # rounds of 3 rows: the close in round 1, the 7 specs soft-deleted 2 + 3 + 2 over rounds 1-3 (each its
    # own transaction), so the connector must have been written before any spec left
    release = SCHEMA_SET_RELEASES[-1]
    dep = make_deployment(release)
    sc = seed_world(dep, "reset-detached")
    closing = sc.volume.attachments[0]
    _add_specs(dep, closing, TRICKY_SPECS)
    specs = dep.query(
        "cinder", "SELECT `key`, value FROM attachment_specs WHERE attachment_id = %s ORDER BY id", (closing,)
    )
    expected = json.dumps({s["key"]: s["value"] for s in specs})  # attachment_specs_get + jsonutils.dumps
    assert len(specs) == 7 and '\\"2\\" \\\\ a/b' in expected and '"platform": null' in expected
    live = generate(dep, sc, "reset-detached", tmp_path / "live")
    result = offline(sc.volume.id, release, tmp_path, chunk_rows, op="reset-detached", **sc.options)
    assert result.lint.passed, [f.describe() for f in result.lint.findings]
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    assert_all_ok(run_offline(run, "precheck"))
    applied = run_offline(run, "apply")
    assert_all_ok(applied)
    if chunk_rows:
        assert "step 2: attachment_specs (round 3)\t2" in applied[-1].stdout, applied[-1].stdout
    row = dep.query("cinder", "SELECT connector, deleted FROM volume_attachment WHERE id = %s", (closing,))[0]
    assert (row["connector"], row["deleted"]) == (expected, 1)
    assert count(dep, "cinder", "attachment_specs WHERE attachment_id = %s AND deleted = 0", closing) == 0
    assert assert_values_as_planned(live.plan, dep, BundleRun(dep, live.path)) > 0  # as the live close
    assert_all_ok(run_offline(run, "rollback"))
    assert_identical(before, all_states(dep))


def failed_precondition(run) -> str:
    """The `-- precondition:` comment above the guard a client run stopped at (ERROR 1242 at line N)."""
    line = int(re.search(r"ERROR 1242 \(21000\) at line (\d+)", run.stderr).group(1))
    lines = Path(run.file).read_text().splitlines()[:line]
    start = max(i for i, text in enumerate(lines) if text.startswith("-- precondition:"))
    return " ".join(text.removeprefix("--").strip() for text in lines[start:] if text.startswith("--"))


@pytest.mark.parametrize(
    ("specs", "refusal"),
    [
        ((("host", "cmp-\u00e9"),), "printable ASCII only"),
        ((("multi\tpath", "true"),), "printable ASCII only"),
        ((("host", "cmp-02"),), "key twice"),
    ],
    ids=["non-ascii-value", "control-in-key", "key-twice"],
)
def test_offline_reset_detached_refuses_specs_sql_cannot_dump_exactly(
    make_deployment, tmp_path, specs, refusal: str
) -> None:
    release = SCHEMA_SET_RELEASES[-1]
    dep = make_deployment(release)
    sc = seed_world(dep, "reset-detached")
    _add_specs(dep, sc.volume.attachments[0], specs)
    # Cinder alone: with --detach-nova the cell file's apply runs (and commits) before the Cinder
    # file's guards, which is why the runbook runs every precheck first
    result = offline(sc.volume.id, release, tmp_path, op="reset-detached", instances=sc.options["instances"])
    before = all_states(dep)
    for phase in ("precheck", "apply"):
        runs = run_offline(BundleRun(dep, result.path), phase)
        assert not runs[-1].ok and "ERROR 1242" in runs[-1].stderr
        assert refusal in failed_precondition(runs[-1]), failed_precondition(runs[-1])
    assert_identical(before, all_states(dep))


@pytest.mark.parametrize(
    ("status", "migration", "allow"),
    [("uploading", None, ()), ("in-use", "migrating", ("migrating",)), ("in-use", "success", ())],
    ids=["uploading", "migrating", "migration-done"],
)
def test_reset_detached_instance_keeps_a_busy_volumes_status_as_attachment_delete(
    make_deployment, tmp_path, status: str, migration: str | None, allow: tuple[str, ...]
) -> None:
    # --instance ends those attachments as Cinder's attachment_delete does (volume_detached): once nothing
    # stays attached, a volume being uploaded to an image or migrated keeps its status (that flow sets
    # it later); attach_status still becomes 'detached'. A finished migration ('success') does not keep it.
    # Live and offline alike, the offline bundle deciding at run time. (Without --instance the bundle is
    # reset-state's: available.)
    from generator.plan.overrides import Overrides

    release = "2025.1"
    dep = make_deployment(release)
    sc = seed_world(dep, "reset-detached")
    dep.execute(  # the other instance's attachment already closed: the instance's is the last one
        "cinder",
        "UPDATE volume_attachment SET deleted = 1, deleted_at = %s, attach_status = 'detached' "
        "WHERE volume_id = %s AND instance_uuid = %s",
        (WHEN, sc.volume.id, sc.other_instance),
    )
    dep.execute(
        "cinder",
        "UPDATE volumes SET status = %s, migration_status = %s, updated_at = %s WHERE id = %s",
        (status, migration, WHEN, sc.volume.id),  # stuck for long: taken as stuck, not refused
    )
    options = {"instances": (sc.instance,), "allow": Overrides.of(*allow)}
    expected = (status if migration != "success" else "available", "detached")
    live = generate_volume(
        sc.volume.id,
        VolumeOptions(op="reset-detached", **options),
        targets_for(dep),
        "auto",
        OutputOptions(out_dir=tmp_path / "live"),
    )
    assert any(f"the volume is {expected[0]}/detached" == p.description for p in live.plan.postconditions)
    result = offline(sc.volume.id, release, tmp_path / "off", op="reset-detached", **options)
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    assert_all_ok(run_offline(run, "precheck"))
    assert_all_ok(run_offline(run, "apply"))
    after = all_states(dep)
    row = dep.query("cinder", "SELECT status, attach_status FROM volumes WHERE id = %s", (sc.volume.id,))[0]
    assert (row["status"], row["attach_status"]) == expected
    assert assert_values_as_planned(live.plan, dep, BundleRun(dep, live.path)) > 0
    assert_all_ok(run_offline(run, "verify"))
    assert_all_ok(run_offline(run, "apply"))  # a re-run finds nothing left to change
    assert_identical(after, all_states(dep))
    assert_all_ok(run_offline(run, "rollback"))
    assert_identical(before, all_states(dep))
