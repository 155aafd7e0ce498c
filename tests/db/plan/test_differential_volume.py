"""Differential: fixpack's live volume `reset-detached` and `soft-delete` bundles change exactly
the rows Cinder's (and, for reset-detached, Nova's) own code changes.

Two twins of one 2026.2 deployment are seeded alike from tests/volume_world.py (one scenario
per operation, amid other projects' rows). Twin A runs the upstream code of the release from
the cached venvs (nova 34.0.0, cinder 29.0.0; tests/differential.py), twin B applies the
fixpack bundle with the real client. Every row change of every table of every database is
compared — values exactly, timestamps as "set" or "unchanged" — and the bundle's rollback then
restores twin B exactly.

- reset-detached (a multi-attach volume; the instance in error no longer uses it, its
  attachment carries legacy attachment_specs; `--instance` it `--detach-nova`): twin A runs
  Cinder's `attachment_delete` for that attachment (tests/upstream/cinder_detach.py: the specs'
  online migration, `volume_detached`, the `attached_mode` admin metadata), then Nova's
  `_detach_volume` `bdm.destroy()` (tests/upstream/nova_bdm_destroy.py).
- soft-delete (an encrypted volume stuck in error_deleting with two snapshots, metadata, a
  transfer, an image-cache entry and a cleanup worker; `--cascade`): twin A runs an admin's
  force + cascade delete through the API and the volume manager
  (tests/upstream/cinder_volume_delete.py: conditional updates to 'deleting', cache eviction,
  per snapshot `delete_snapshot` with its QUOTAS reserve/commit, `volume_destroy` with its
  reserve/commit of volumes, gigabytes and the per-type keys, the worker row). The seeded
  world's gigabytes usage has drifted (+7): fixpack sets usage to Cinder's recount, so with
  the drift twin A also runs `cinder-manage quota sync` for the project (what the runbook's
  last API-first step prescribes); without it the negative deltas alone must land on the same
  values. Cinder's reserve/commit also leaves one committed (soft-deleted) `reservations` row
  per resource and delta: bookkeeping that fixpack does not fabricate, checked apart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.jobs_volume import generate_volume
from generator.pipeline import OutputOptions
from generator.plan.volume_common import VolumeOptions
from generator.scratch.deployment import Deployment
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical, targets_for
from tests.differential import (
    UPSTREAM,
    Changes,
    assert_same_changes,
    changes,
    cinder_conf,
    cinder_manage,
    diff_release,
    dump,
    quota_check,
    run,
    service_venv,
)
from tests.volume_world import Scenario, seed_world

pytestmark = [pytest.mark.db, pytest.mark.slow]
RELEASE = diff_release()
DRIFT = 7  # volume_world's soft-delete scenario adds this to the project's gigabytes usage


@pytest.fixture(scope="session")
def nova_venv() -> Path:
    return service_venv("nova", RELEASE)


@pytest.fixture(scope="session")
def cinder_venv() -> Path:
    return service_venv("cinder", RELEASE)


def twins(make_deployment, op: str) -> tuple[Deployment, Deployment, Scenario]:
    """Two deployments seeded alike for `op` (same ids, same rows)."""
    twin_a, twin_b = make_deployment(RELEASE), make_deployment(RELEASE)
    sc, sc_b = seed_world(twin_a, op), seed_world(twin_b, op)
    same = (sc.volume.id, sc.volume.attachments, sc.volume.snapshots, sc.instance, sc.project_id)
    assert same == (sc_b.volume.id, sc_b.volume.attachments, sc_b.volume.snapshots, sc_b.instance,
                    sc_b.project_id)  # fmt: skip
    return twin_a, twin_b, sc


def apply_bundle(dep: Deployment, sc: Scenario, op: str, out: Path) -> BundleRun:
    """Twin B: the live bundle, applied with the real client as the runbook says."""
    options = VolumeOptions(op=op, **sc.options)
    result = generate_volume(sc.volume.id, options, targets_for(dep), "auto", OutputOptions(out_dir=out))
    bundle = BundleRun(dep, result.path)
    assert_all_ok(bundle.run("apply"))
    return bundle


def test_reset_detached_matches_cinder_attachment_delete_and_nova_bdm_destroy(
    make_deployment, tmp_path, nova_venv, cinder_venv
) -> None:
    twin_a, twin_b, sc = twins(make_deployment, "reset-detached")
    assert sc.instance and sc.options["instances"] == (sc.instance,) and sc.options["detach_nova"]
    before_a, before_b = dump(twin_a), dump(twin_b)
    states_b = all_states(twin_b)

    url = {r: twin_a.url(r).render(with_password=True) + "?charset=utf8" for r in ("nova", "nova_api")}
    nova_conf = tmp_path / "nova.conf"
    nova_conf.write_text(
        f"[database]\nconnection = {url['nova']}\n[api_database]\nconnection = {url['nova_api']}\n"
    )
    conf = cinder_conf(twin_a, tmp_path / "cinder.conf")
    closing = sc.volume.attachments[0]  # the instance in error's attachment (volume_world)
    run([str(cinder_venv / "bin" / "python"), str(UPSTREAM / "cinder_detach.py"), str(conf), closing])
    run([str(nova_venv / "bin" / "python"), str(UPSTREAM / "nova_bdm_destroy.py"), str(nova_conf),
         sc.volume.id, sc.instance])  # fmt: skip
    bundle = apply_bundle(twin_b, sc, "reset-detached", tmp_path / "b")

    upstream, fixpack = changes(before_a, dump(twin_a)), changes(before_b, dump(twin_b))
    assert upstream.keys() >= {
        "cinder.volume_attachment",
        "cinder.volumes",
        "cinder.attachment_specs",
        "nova.block_device_mapping",
    }, f"the upstream run did not detach: {sorted(upstream)}"
    assert list(upstream["cinder.volume_attachment"]) == [(closing,)], "only that attachment is closed"
    assert_same_changes(upstream, fixpack, "cinder+nova")

    assert_all_ok(bundle.run("rollback"))
    assert_identical(states_b, all_states(twin_b))


def committed_reservations(upstream: Changes) -> dict:
    """Take out the reservations Cinder's reserve/commit leaves (all committed: none live)."""
    rows = upstream.pop("cinder.reservations", {})
    assert all(isinstance(c, tuple) and c[0] == "added" and c[1]["deleted"] for c in rows.values()), rows
    return rows


# Releases whose own `cinder-manage quota sync` cannot fix a drifted usage, so twin A keeps the
# drift that fixpack's recount removes. cinder 22.3.0 runs `_check_project_sync` in a reader
# transaction: it prints "invalid usage saved=17 actual=10 - fixed" and writes nothing (a writer
# by 2026.2; its crashing helpers are worked around in tests/upstream/cinder_manage.py). There the
# drifted case checks that this is the only difference and is reported as xfailed with the reason.
SYNC_WRITES_NOTHING = {
    "2023.1": "cinder 22.3.0 `quota sync` runs in a reader transaction: reports the fix, writes nothing",
}


def sync_wrote_nothing(upstream: Changes, fixpack: Changes, sc: Scenario) -> None:
    """The one known divergence: twin A's gigabytes usage kept the drift fixpack's recount removed."""
    up, fp = upstream.get("cinder.quota_usages", {}), fixpack.get("cinder.quota_usages", {})
    differing = {k for k in up.keys() | fp.keys() if up.get(k) != fp.get(k)}
    assert len(differing) == 1, (up, fp)
    key = differing.pop()
    assert up[key]["in_use"] - fp[key]["in_use"] == DRIFT, (up[key], fp[key])  # type: ignore[index]
    upstream["cinder.quota_usages"] = {**up, key: fp[key]}


@pytest.mark.parametrize("drifted", [False, True], ids=["in-sync", "drifted"])
def test_soft_delete_matches_cinder_force_cascade_delete(
    make_deployment, tmp_path, cinder_venv, drifted: bool
) -> None:
    twin_a, twin_b, sc = twins(make_deployment, "soft-delete")
    assert sc.options == {"cascade": True} and len(sc.volume.snapshots) == 2
    if not drifted:
        for twin in (twin_a, twin_b):
            twin.execute(
                "cinder",
                "UPDATE quota_usages SET in_use = in_use - %s "
                "WHERE project_id = %s AND resource = 'gigabytes'",
                (DRIFT, sc.project_id),
            )
    before_a, before_b = dump(twin_a), dump(twin_b)
    states_b = all_states(twin_b)

    conf = cinder_conf(twin_a, tmp_path / "cinder.conf")
    delete = UPSTREAM / "cinder_volume_delete.py"
    run([str(cinder_venv / "bin" / "python"), str(delete), str(conf), sc.volume.id])
    if drifted:
        cinder_manage(cinder_venv, conf, "quota", "sync", "--project-id", sc.project_id)
    bundle = apply_bundle(twin_b, sc, "soft-delete", tmp_path / "b")

    upstream, fixpack = changes(before_a, dump(twin_a)), changes(before_b, dump(twin_b))
    # volumes -1, gigabytes, per-type keys; snapshots -1 and gigabytes per snapshot
    assert len(committed_reservations(upstream)) == 3 * 4
    assert upstream.keys() >= {
        "cinder.volumes",
        "cinder.snapshots",
        "cinder.quota_usages",
        "cinder.workers",
        "cinder.image_volume_cache_entries",
        "cinder.transfers",
    }, f"the upstream run did not delete: {sorted(upstream)}"
    known = SYNC_WRITES_NOTHING.get(RELEASE) if drifted else None
    if known:
        sync_wrote_nothing(upstream, fixpack, sc)
    assert_same_changes(upstream, fixpack, "cinder")

    for twin in (twin_b,) if known else (twin_a, twin_b):
        report = quota_check(twin, tmp_path, cinder_venv)
        assert "Processing quota usage for project" in report
        assert "invalid" not in report and "uplicate" not in report, report

    assert_all_ok(bundle.run("rollback"))
    assert_identical(states_b, all_states(twin_b))
    if known:
        pytest.xfail(f"{RELEASE}: {known}; otherwise the same changes")
