"""Differential: a VM soft-delete bundle leaves Nova, Nova API, Placement and Cinder exactly as
Nova's and Cinder's own code would (up to the delete_on_termination volume's API delete).

Two twins of one 2026.2 deployment are seeded alike: an instance stuck in 'deleting' with two
attached volumes (one delete_on_termination, the other's attachment with legacy attachment_specs),
ports, allocations, among other instances.
- Twin A runs the upstream code of the release from throwaway venvs (nova 34.0.0, cinder
  29.0.0, from PyPI, built once per machine under ~/.cache/fixpack-test):
  tests/upstream/cinder_detach.py (Cinder's attachment_delete for each of the instance's
  attachments, as Nova's `_shutdown_instance` asks for it), then tests/upstream/nova_delete.py
  (what `_delete_instance`/`_complete_deletion`/`instance.destroy()` and the API's
  queued_for_delete write), then placement's DELETE /allocations/{instance} mirrored below.
- Twin B applies the fixpack bundle with the real client.
Every row change of every table of every database is compared: values exactly, timestamps as
"set" or "unchanged". Cinder's `cinder-manage quota check` then finds nothing, the bundle's
rollback restores twin B exactly, and controller.sh deletes the delete_on_termination volume
through the API (against the openstack stand-in).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator.catalog import catalog_snapshot, get_release
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.scratch.deployment import ROLES, Deployment
from generator.seed import Seeder

from .bundles import BundleRun, all_states, assert_all_ok, assert_identical, targets_for
from .shell_fixtures.fakehost import FakeHost

pytestmark = [pytest.mark.db, pytest.mark.slow]
RELEASE = "2026.2"
UPSTREAM = Path(__file__).parent / "upstream"


def service_venv(package: str) -> Path:
    """A venv with the release's own `package` (nova, cinder) and PyMySQL, built once per machine."""
    version = get_release(RELEASE).packages[package]
    venv = (
        Path(os.environ.get("FIXPACK_TEST_CACHE", Path.home() / ".cache" / "fixpack-test"))
        / f"venv-{package}-{version}"
    )
    marker = venv / ".fixpack-installed"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        done = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", f"{package}=={version}", "PyMySQL"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"could not install {package} {version}: {done.stderr[-500:]}")
        marker.write_text(f"{package}=={version}\n")
    return venv


@pytest.fixture(scope="session")
def nova_venv() -> Path:
    return service_venv("nova")


@pytest.fixture(scope="session")
def cinder_venv() -> Path:
    return service_venv("cinder")


def seed_twin(dep: Deployment) -> tuple[str, str]:
    """The same world in each twin; returns (instance uuid, its delete_on_termination volume)."""
    s = Seeder(dep, seed=23)
    h1, h2 = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    for i in range(4):
        s.instance(host=h1 if i % 2 else h2, vif_types=("ovs",), volumes=i % 3)
    target = s.instance(
        host=h1, vm_state="error", task_state="deleting", power_state=4, volumes=2,
        vif_types=("ovs_hybrid", "ovs"), metadata={"role": "db"},
    )  # fmt: skip
    s.flush()
    bdms = dep.query(
        "nova",
        "SELECT id, volume_id FROM block_device_mapping WHERE instance_uuid = %s AND deleted = 0 "
        "AND volume_id IS NOT NULL ORDER BY id",
        (target.uuid,),
    )
    assert len(bdms) == 2
    dep.execute(
        "nova", "UPDATE block_device_mapping SET delete_on_termination = 1 WHERE id = %s", (bdms[0]["id"],)
    )
    # the other attachment still has pre-Queens connector specs (Cinder migrates them when it loads it)
    attachment = dep.query(
        "nova", "SELECT attachment_id FROM block_device_mapping WHERE id = %s", (bdms[1]["id"],)
    )
    for key, value in (
        ("host", "cmp-01"),
        ("initiator", "iqn.1993-08.org.debian:01:5e1f"),
        ("multipath", "False"),
    ):
        dep.execute(
            "cinder",
            "INSERT INTO attachment_specs (created_at, updated_at, deleted, attachment_id, `key`, value) "
            "VALUES ('2026-01-02 03:04:05', '2026-01-02 03:04:06', 0, %s, %s, %s)",
            (attachment[0]["attachment_id"], key, value),
        )
    return target.uuid, bdms[0]["volume_id"]


Rows = dict[str, dict[str, dict[tuple, dict]]]


def dump(dep: Deployment) -> Rows:
    """Every row of every table of every database, keyed by primary key (whole row without one)."""
    out: Rows = {}
    for role, kind in ROLES.items():
        schema = catalog_snapshot(dep.release, kind)
        for name in schema.table_names:
            key = schema.table(name).primary_key
            rows = dep.query(role, f"SELECT * FROM `{name}`")
            out[f"{role}.{name}"] = {
                tuple(r[c] for c in key) if key else tuple(sorted(r.items(), key=str)): r for r in rows
            }
    return out


def _norm(value: object) -> object:
    return "<time set>" if isinstance(value, dt.datetime) else value


def changes(before: Rows, after: Rows) -> dict[str, dict[tuple, object]]:
    """table -> key -> what happened: 'removed', ('added', row) or the changed columns' new values,
    timestamps as '<time set>' (their exact value is the moment each side ran)."""
    out: dict[str, dict[tuple, object]] = {}
    for table, rows in before.items():
        now = after[table]
        diff: dict[tuple, object] = {}
        for key in rows.keys() - now.keys():
            diff[key] = "removed"
        for key in now.keys() - rows.keys():
            diff[key] = ("added", {c: _norm(v) for c, v in now[key].items()})
        for key in rows.keys() & now.keys():
            old, new = rows[key], now[key]
            cols = {c: _norm(new[c]) for c in old if old[c] != new[c]}
            if cols:
                diff[key] = cols
        if diff:
            out[table] = diff
    return out


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, f"{cmd[:2]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def upstream_delete(dep: Deployment, uuid: str, tmp: Path, nova: Path, cinder: Path) -> None:
    """Twin A: Nova's delete as Nova and Cinder run it (see the module docstring)."""
    url = {r: dep.url(r).render(with_password=True) + "?charset=utf8" for r in ("nova", "nova_api", "cinder")}
    nova_conf, cinder_conf = tmp / "nova.conf", tmp / "cinder.conf"
    nova_conf.write_text(
        f"[database]\nconnection = {url['nova']}\n[api_database]\nconnection = {url['nova_api']}\n"
    )
    cinder_conf.write_text(f"[database]\nconnection = {url['cinder']}\n")
    attachments = [
        r["attachment_id"]
        for r in dep.query(
            "nova",
            "SELECT attachment_id FROM block_device_mapping WHERE instance_uuid = %s AND deleted = 0 "
            "AND attachment_id IS NOT NULL ORDER BY id",
            (uuid,),
        )
    ]
    assert len(attachments) == 2
    run([str(cinder / "bin" / "python"), str(UPSTREAM / "cinder_detach.py"), str(cinder_conf), *attachments])
    run([str(nova / "bin" / "python"), str(UPSTREAM / "nova_delete.py"), str(nova_conf), uuid])
    # placement `DELETE /allocations/{consumer}` (handlers/allocation.py delete_allocations):
    # AllocationList.delete_all = _delete_allocations_by_ids, then
    # consumer.delete_consumers_if_no_allocations — the same two statements.
    dep.execute("placement", "DELETE FROM allocations WHERE consumer_id = %s", (uuid,))
    dep.execute(
        "placement",
        "DELETE FROM consumers WHERE uuid = %s AND NOT EXISTS "
        "(SELECT 1 FROM allocations WHERE allocations.consumer_id = consumers.uuid)",
        (uuid,),
    )


def quota_check(dep: Deployment, tmp: Path, cinder: Path) -> str:
    """`cinder-manage quota check` (its exit code is always 0: read what it prints)."""
    conf = tmp / "cinder-quota.conf"
    conf.write_text(f"[database]\nconnection = {dep.url('cinder').render(with_password=True)}?charset=utf8\n")
    return run([str(cinder / "bin" / "cinder-manage"), "--config-file", str(conf), "quota", "check"]).stdout


def test_vm_soft_delete_with_volumes_matches_nova_and_cinder(
    make_deployment, tmp_path, nova_venv, cinder_venv
) -> None:
    twin_a, twin_b = make_deployment(RELEASE), make_deployment(RELEASE)
    uuid, doomed = seed_twin(twin_a)
    assert seed_twin(twin_b) == (uuid, doomed)
    before_a, before_b = dump(twin_a), dump(twin_b)
    states_b = all_states(twin_b)

    (tmp_path / "a").mkdir()
    upstream_delete(twin_a, uuid, tmp_path / "a", nova_venv, cinder_venv)
    result = generate_vm(
        uuid, VmOptions(op="soft-delete"), targets_for(twin_b), "auto", OutputOptions(out_dir=tmp_path / "b")
    )
    bundle = BundleRun(twin_b, result.path)
    assert_all_ok(bundle.run("apply"))

    upstream, fixpack = changes(before_a, dump(twin_a)), changes(before_b, dump(twin_b))
    assert {t for t in upstream if t.startswith("cinder.")} >= {
        "cinder.volume_attachment",
        "cinder.volumes",
        "cinder.volume_admin_metadata",
        "cinder.attachment_specs",
    }, "the upstream run changed nothing in Cinder"
    mismatched = {
        t: {"nova+cinder": upstream.get(t), "fixpack": fixpack.get(t)}
        for t in sorted(upstream.keys() | fixpack.keys())
        if upstream.get(t) != fixpack.get(t)
    }
    assert not mismatched, "fixpack's bundle differs from Nova + Cinder:\n" + "\n".join(
        f"{t}:\n  nova+cinder: {d['nova+cinder']}\n  fixpack:     {d['fixpack']}"
        for t, d in mismatched.items()
    )

    for twin in (twin_a, twin_b):
        report = quota_check(twin, tmp_path, cinder_venv)
        assert "Processing quota usage for project" in report
        assert "invalid" not in report and "uplicate" not in report, report

    # controller.sh carries the delete_on_termination volume's API delete, and runs it now
    # that the attachment is ended (Cinder's own delete also removes the backend volume)
    host = FakeHost(tmp_path / "controller")
    (host.state / "openstack" / "volume").mkdir(parents=True)
    (host.state / "openstack" / "volume" / doomed).write_text("available")
    done = host.run(result.path / "shell" / "controller.sh", "--execute", env={"OS_CLOUD": "test"})
    assert f"openstack volume delete {doomed}" in done.calls, done.stdout + done.stderr
    assert not (host.state / "openstack" / "volume" / doomed).exists()
    kept = [v for v in result.plan.controller.volumes_to_delete if v != doomed]
    assert kept == [], "only the delete_on_termination volume is deleted"

    assert_all_ok(bundle.run("rollback"))
    assert_identical(states_b, all_states(twin_b))


def test_without_cinder_an_instance_with_volumes_is_refused_unless_skip_cinder(
    make_deployment, tmp_path
) -> None:
    from generator.errors import TargetProblem

    dep = make_deployment(RELEASE)
    uuid, doomed = seed_twin(dep)
    targets = targets_for(dep, cinder=False)
    with pytest.raises(TargetProblem, match="--skip-cinder"):
        generate_vm(uuid, VmOptions(op="soft-delete"), targets, "auto", OutputOptions(out_dir=tmp_path / "a"))
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())

    result = generate_vm(
        uuid,
        VmOptions(op="soft-delete", skip_cinder=True),
        targets,
        "auto",
        OutputOptions(out_dir=tmp_path / "b"),
    )
    assert "cinder" not in result.manifest["databases"]
    readme = (result.path / "README.md").read_text()
    attachments = dep.query(
        "nova", "SELECT attachment_id FROM block_device_mapping WHERE instance_uuid = %s AND deleted = 0 "
        "AND volume_id IS NOT NULL", (uuid,),
    )  # fmt: skip
    for row in attachments:
        assert f"attachment-delete {row['attachment_id']}" in readme
    assert f"openstack volume delete {doomed}" in readme
    assert "--skip-cinder" in readme
