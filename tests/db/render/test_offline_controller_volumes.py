"""The offline controller script's delete_on_termination volumes, read from the Nova cell capture.

The script runs for real against the openstack stand-in (tests/standins/openstack); the captured
file is written here the way the capture writes it (its lines, its `.sha256` from sha256sum).
What a safe reader must do: delete exactly the listed volumes once detached, and refuse before
any change a file that is missing (when acting), altered, or holds anything but a UUID where a
volume id belongs. tests/db/plan/test_vm_offline.py runs the same script from a bundle on a real database.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from generator.plan.model import ControllerActions
from generator.render.offline_doomed import PREFIX, prefixes
from generator.render.shell import render_controller_script
from tests.shell_fixtures.fakehost import FakeHost, destructive, write_script
from tests.shell_fixtures.scenarios import BUNDLE, CREDENTIALS, INSTANCE, V_ISCSI, V_NFS, V_RBD, shellcheck

CAPTURED = "captured/93-rollback-nova.sql"
COUNT, VOL, HEX = prefixes(INSTANCE)
OTHER = prefixes("9d4a6f41-3f7e-4c11-9a2b-4e5f60718293")  # another instance of a batch capture


@pytest.fixture
def host(tmp_path: Path) -> FakeHost:
    return FakeHost(tmp_path)


def script(h: FakeHost) -> Path:
    """The offline controller script in <bundle>/shell/, as the bundle holds it."""
    text = render_controller_script(
        ControllerActions(instance_uuid=INSTANCE, volumes_from_capture=True),
        bundle_id=BUNDLE,
        fixpack_version="0.1.0",
        release="2025.1",
        offline=True,
        captured=CAPTURED,
    )
    (h.root / "bundle/shell").mkdir(parents=True, exist_ok=True)
    return write_script(h.root / "bundle/shell", "controller.sh", text)


def capture(h: FakeHost, lines: list[str], *, checksum: bool = True) -> Path:
    path = h.root / "bundle" / CAPTURED
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "-- fixpack rollback captured for vm x (soft-delete)\n" + "".join(line + "\n" for line in lines)
    body += "SET NAMES utf8mb4;\nCOMMIT;\n"
    path.write_text(body)
    if checksum:
        digest = hashlib.sha256(body.encode()).hexdigest()
        path.with_name(path.name + ".sha256").write_text(f"{digest}  {CAPTURED}\n")
    return path


def volumes(h: FakeHost, states: dict[str, str]) -> None:
    d = h.state / "openstack/volume"
    d.mkdir(exist_ok=True)
    for vid, status in states.items():
        (d / vid).write_text(status + "\n")


def test_passes_shellcheck(host: FakeHost) -> None:
    result = shellcheck(script(host))
    assert result.returncode == 0, result.stdout + result.stderr


def test_deletes_the_captured_volumes_once_detached_then_nothing(host: FakeHost) -> None:
    volumes(host, {V_ISCSI: "in-use", V_RBD: "available", V_NFS: "available"})
    # a batch bundle's capture lists every instance's: the other instance's volume is not this script's
    capture(host, [f"{COUNT}2", f"{VOL}{V_ISCSI}", f"{VOL}{V_RBD}", f"{OTHER[0]}1", f"{OTHER[1]}{V_NFS}"])
    dry = host.run(script(host), env=CREDENTIALS)
    assert dry.returncode == 4, dry.output  # V_ISCSI still in-use: the Cinder apply has not run
    assert destructive(dry.calls) == [] and f"DRY-RUN: openstack volume delete {V_RBD}" in dry.stdout
    assert "lists 2 delete_on_termination volume(s)" in dry.stdout

    volumes(host, {V_ISCSI: "available"})
    run = host.run(script(host), "--execute", env=CREDENTIALS)
    assert run.returncode == 0, run.output
    assert destructive(run.calls) == [
        f"openstack volume delete {V_ISCSI}",
        f"openstack volume delete {V_RBD}",
    ]
    again = host.run(script(host), "--execute", env=CREDENTIALS)
    assert again.returncode == 0 and destructive(again.calls) == [], again.output
    assert f"volume {V_RBD} does not exist (already deleted)" in again.stdout


def test_a_volume_id_that_is_no_uuid_is_reported_never_deleted(host: FakeHost) -> None:
    volumes(host, {V_RBD: "available"})
    capture(host, [f"{COUNT}2", f"{HEX}610A2D2D", f"{VOL}{V_RBD}"])
    run = host.run(script(host), "--execute", env=CREDENTIALS)
    assert run.returncode == 4, run.output
    assert "names a volume_id that is no UUID (hex 610A2D2D): not deleted" in run.stdout
    assert destructive(run.calls) == [f"openstack volume delete {V_RBD}"]


@pytest.mark.parametrize(
    ("lines", "checksum", "needle"),
    [
        ([f"{COUNT}1", f"{VOL}$(touch PWNED)"], True, "not a volume UUID"),
        ([f"{COUNT}1", f"{VOL}{V_RBD} x"], True, "not a volume UUID"),
        ([f"{COUNT}2", f"{VOL}{V_RBD}"], True, "1 volume line(s), but the capture counted 2"),
        ([f"{VOL}{V_RBD}"], True, "lists no delete_on_termination volumes line"),
        ([f"{COUNT}1", f"{PREFIX} of instance {INSTANCE} (hex): 41"], True, "unexpected line"),
        ([f"{COUNT}1", f"{VOL}{V_RBD}"], False, ".sha256 not found"),
    ],
    ids=["shell", "trailing", "count", "no-count", "unknown-form", "no-checksum"],
)
def test_anything_else_is_refused_before_any_change(host: FakeHost, lines, checksum, needle) -> None:
    volumes(host, {V_RBD: "available"})
    capture(host, lines, checksum=checksum)
    run = host.run(script(host), "--execute", env=CREDENTIALS)
    assert run.returncode == 3, run.output
    assert "REFUSED:" in run.stdout and needle in run.stdout, run.stdout
    assert destructive(run.calls) == [] and not list(host.root.rglob("PWNED"))


def test_an_edited_capture_is_refused(host: FakeHost) -> None:
    volumes(host, {V_ISCSI: "available", V_RBD: "available"})
    path = capture(host, [f"{COUNT}1", f"{VOL}{V_RBD}"])
    path.write_text(path.read_text().replace(V_RBD, V_ISCSI))
    run = host.run(script(host), "--execute", env=CREDENTIALS)
    assert run.returncode == 3 and "does not match its .sha256" in run.stdout, run.output
    assert destructive(run.calls) == []


def test_without_the_capture_a_dry_run_says_so_and_execute_refuses(host: FakeHost, tmp_path: Path) -> None:
    dry = host.run(script(host), env=CREDENTIALS)
    assert dry.returncode == 0, dry.output
    assert "NOT CHECKED: delete_on_termination volumes:" in dry.stdout
    refused = host.run(script(host), "--execute", env=CREDENTIALS)
    assert refused.returncode == 3 and "not found" in refused.stdout and destructive(refused.calls) == []
    # --captured names the file when the script runs elsewhere
    volumes(host, {V_RBD: "available"})
    moved = capture(host, [f"{COUNT}1", f"{VOL}{V_RBD}"])
    elsewhere = tmp_path / "elsewhere.sql"
    moved.rename(elsewhere)
    moved.with_name(moved.name + ".sha256").rename(tmp_path / "elsewhere.sql.sha256")
    run = host.run(script(host), "--captured", str(elsewhere), "--execute", env=CREDENTIALS)
    assert run.returncode == 0 and destructive(run.calls) == [f"openstack volume delete {V_RBD}"], run.output
