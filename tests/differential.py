"""Shared by the differential tests (tests/db/plan/test_differential_*.py): the services' own code in
cached venvs, whole-deployment dumps and the row changes between two dumps.

A differential test seeds two twins of one deployment alike, repairs twin A with the
upstream code of the release and twin B with the fixpack bundle, and compares what changed
on each side: every row of every table of every database, values exactly, timestamps as
"set" or "unchanged" (their exact value is the moment each side ran).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator.catalog import catalog_snapshot, get_release
from generator.catalog.declared import release_spec
from generator.catalog.packages import find_python, release_constraints
from generator.scratch.deployment import ROLES, Deployment

UPSTREAM = Path(__file__).parent / "upstream"

Rows = dict[str, dict[tuple, dict]]
Changes = dict[str, dict[tuple, object]]


def diff_release() -> str:
    """The release the differential tests run against: FIXPACK_DIFF_RELEASE, 2026.2 unless set
    (CI runs 2026.2; older releases run through tools/differential_evidence.py)."""
    return os.environ.get("FIXPACK_DIFF_RELEASE", "2026.2")


# the PyPI distribution of a catalog package name where they differ
DISTRIBUTIONS = {"placement": "openstack-placement"}


def service_venv(package: str, release: str) -> Path:
    """A venv with the release's own `package` (nova, cinder, placement) and PyMySQL, built once
    per machine.

    A release whose Python differs from the one running the tests (2023.1: 3.10) gets its own
    interpreter and the capture's pins (generator/catalog/constraints/<release>.txt), as the
    catalog capture builds its venvs; a release run on this Python with nothing to pin (2026.2)
    keeps the plain install and cached venv CI already has. The build holds an exclusive lock
    beside the venv: two pytest workers (or two checkouts) needing the same venv would otherwise
    `--clear` each other's half-built install.
    """
    version = get_release(release).packages[package]
    distribution = DISTRIBUTIONS.get(package, package)
    spec = release_spec(release)
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    python = sys.executable if spec.python == here else find_python(spec.python)
    pins = release_constraints(spec)
    if pins and not [line for line in pins.read_text().splitlines() if line.split("#")[0].strip()]:
        pins = None  # a file of comments only: checked, nothing to pin
    suffix = "" if python == sys.executable else f"-py{spec.python}"
    venv = (
        Path(os.environ.get("FIXPACK_TEST_CACHE", Path.home() / ".cache" / "fixpack-test"))
        / f"venv-{package}-{version}{suffix}"
    )
    marker = venv / ".fixpack-installed"
    wanted = f"{distribution}=={version}\n" + (pins.read_text() if pins else "")
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not marker.exists() or marker.read_text() != wanted:
            subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True)
            cmd = [str(venv / "bin" / "pip"), "install", "-q", f"{distribution}=={version}", "PyMySQL"]
            done = subprocess.run(
                [*cmd, *(["-c", str(pins)] if pins else [])], capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                pytest.fail(f"could not install {distribution} {version}: {done.stderr[-500:]}")
            marker.write_text(wanted)
    return venv


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


def changes(before: Rows, after: Rows) -> Changes:
    """table -> key -> what happened: 'removed', ('added', row) or the changed columns' new values,
    timestamps as '<time set>' (their exact value is the moment each side ran)."""
    out: Changes = {}
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


def assert_same_changes(upstream: Changes, fixpack: Changes, who: str) -> None:
    """Every table's row changes equal, with a readable report of the tables that differ."""
    mismatched = {
        t: {who: upstream.get(t), "fixpack": fixpack.get(t)}
        for t in sorted(upstream.keys() | fixpack.keys())
        if upstream.get(t) != fixpack.get(t)
    }
    assert not mismatched, f"fixpack's bundle differs from {who}:\n" + "\n".join(
        f"{t}:\n  {who}: {d[who]}\n  fixpack:     {d['fixpack']}" for t, d in mismatched.items()
    )


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, f"{cmd[:2]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def cinder_conf(dep: Deployment, path: Path) -> Path:
    """A cinder.conf that points Cinder's own code at the twin's cinder database."""
    path.write_text(f"[database]\nconnection = {dep.url('cinder').render(with_password=True)}?charset=utf8\n")
    return path


def nova_conf(dep: Deployment, path: Path) -> Path:
    """A nova.conf that points Nova's own code at the twin's cell and API databases."""
    url = {r: dep.url(r).render(with_password=True) + "?charset=utf8" for r in ("nova", "nova_api")}
    path.write_text(
        f"[database]\nconnection = {url['nova']}\n[api_database]\nconnection = {url['nova_api']}\n"
    )
    return path


def upstream_delete(dep: Deployment, uuid: str, tmp: Path, nova: Path, cinder: Path) -> None:
    """Nova's delete of instance `uuid` as Nova and Cinder run it: tests/upstream/cinder_detach.py
    for each of its volume attachments (as `_shutdown_instance` asks Cinder), then
    tests/upstream/nova_delete.py, then placement's DELETE /allocations/{instance} mirrored in SQL."""
    attachments = [
        r["attachment_id"]
        for r in dep.query(
            "nova",
            "SELECT attachment_id FROM block_device_mapping WHERE instance_uuid = %s AND deleted = 0 "
            "AND attachment_id IS NOT NULL ORDER BY id",
            (uuid,),
        )
    ]
    if attachments:
        conf = cinder_conf(dep, tmp / "cinder.conf")
        run([str(cinder / "bin" / "python"), str(UPSTREAM / "cinder_detach.py"), str(conf), *attachments])
    conf = nova_conf(dep, tmp / "nova.conf")
    run([str(nova / "bin" / "python"), str(UPSTREAM / "nova_delete.py"), str(conf), uuid])
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
    conf = cinder_conf(dep, tmp / "cinder-quota.conf")
    return cinder_manage(cinder, conf, "quota", "check").stdout


def cinder_manage(cinder: Path, conf: Path, *args: str) -> subprocess.CompletedProcess:
    """The release's `cinder-manage --config-file CONF ARGS` (tests/upstream/cinder_manage.py says
    what it works around in releases whose own command cannot run)."""
    script = str(UPSTREAM / "cinder_manage.py")
    return run([str(cinder / "bin" / "python"), script, "--config-file", str(conf), *args])
