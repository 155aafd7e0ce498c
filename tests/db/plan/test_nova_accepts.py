"""Nova itself accepts what a soft-delete bundle leaves: `nova-manage db archive_deleted_rows`
archives the instance cleanly afterwards.

Runs the real nova-manage of the newest catalog release (nova 34.0.0, 2026.2) from a throwaway
venv built once per machine under ~/.cache/fixpack-test (pip, from PyPI).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator.catalog import get_release
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from tests.bundles import BundleRun, assert_all_ok, targets_for
from tests.db.plan.test_vm_bundles import seed_world

pytestmark = [pytest.mark.db, pytest.mark.slow]
RELEASE = "2026.2"


@pytest.fixture(scope="session")
def nova_manage() -> str:
    version = get_release(RELEASE).packages["nova"]
    venv = (
        Path(os.environ.get("FIXPACK_TEST_CACHE", Path.home() / ".cache" / "fixpack-test"))
        / f"venv-nova-{version}"
    )
    binary = venv / "bin" / "nova-manage"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        done = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", f"nova=={version}", "PyMySQL"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"could not install nova {version} for the archive test: {done.stderr[-500:]}")
    return str(binary)


def test_archive_deleted_rows_archives_a_soft_deleted_instance(
    make_deployment, tmp_path, nova_manage
) -> None:
    dep = make_deployment(RELEASE)
    target = seed_world(dep, op="soft-delete")
    result = generate_vm(
        target.uuid, VmOptions(op="soft-delete"), targets_for(dep), "auto", OutputOptions(out_dir=tmp_path)
    )
    run = BundleRun(dep, result.path)
    assert_all_ok(run.run("apply"))

    conf = tmp_path / "nova.conf"
    conf.write_text(
        f"[database]\nconnection = {dep.url('nova').render(with_password=True)}?charset=utf8\n"
        f"[api_database]\nconnection = {dep.url('nova_api').render(with_password=True)}?charset=utf8\n"
    )
    done = subprocess.run(
        [
            nova_manage,
            "--config-file",
            str(conf),
            "db",
            "archive_deleted_rows",
            "--verbose",
            "--until-complete",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    # nova-manage exits 1 when it archived rows, 0 when there was nothing, >1 on errors
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "instances" in done.stdout

    u = target.uuid
    assert dep.query("nova", "SELECT COUNT(*) AS n FROM instances WHERE uuid = %s", (u,))[0]["n"] == 0
    assert dep.query("nova", "SELECT COUNT(*) AS n FROM shadow_instances WHERE uuid = %s", (u,))[0]["n"] == 1
    for table in (
        "block_device_mapping",
        "instance_metadata",
        "instance_system_metadata",
        "instance_extra",
        "instance_info_caches",
        "virtual_interfaces",
        "instance_faults",
        "instance_actions",
    ):
        left = dep.query("nova", f"SELECT COUNT(*) AS n FROM {table} WHERE instance_uuid = %s", (u,))[0]["n"]
        assert left == 0, f"{table} not archived"
    assert (
        dep.query("nova_api", "SELECT COUNT(*) AS n FROM instance_mappings WHERE instance_uuid = %s", (u,))[
            0
        ]["n"]
        == 0
    ), "nova removes the API mapping of an archived instance"
    # the other instances are untouched
    assert dep.query("nova", "SELECT COUNT(*) AS n FROM instances WHERE deleted = 0")[0]["n"] == 10


def test_archive_after_a_soft_delete_of_an_instance_with_a_share_mapping(
    make_deployment, tmp_path, nova_manage
) -> None:
    """2025.1+: Nova's delete removes share_mapping rows (deny_share); a bundle that left them would
    leave a row whose foreign key to instances.uuid keeps the instance from being archived."""
    dep = make_deployment(RELEASE)
    from generator.seed import Seeder

    s = Seeder(dep, seed=53)
    target = s.instance(host="cmp-01", vm_state="error", task_state="deleting", power_state=4)
    s.flush()
    dep.execute(
        "nova",
        "INSERT INTO share_mapping (created_at, uuid, instance_uuid, share_id, status, tag, export_location, "
        "share_proto) VALUES (UTC_TIMESTAMP(), UUID(), %s, UUID(), 'active', 'data', '192.0.2.5:/s', 'NFS')",
        (target.uuid,),
    )
    result = generate_vm(
        target.uuid, VmOptions(op="soft-delete"), targets_for(dep), "auto", OutputOptions(out_dir=tmp_path)
    )
    assert_all_ok(BundleRun(dep, result.path).run("apply"))
    conf = tmp_path / "nova.conf"
    conf.write_text(
        f"[database]\nconnection = {dep.url('nova').render(with_password=True)}?charset=utf8\n"
        f"[api_database]\nconnection = {dep.url('nova_api').render(with_password=True)}?charset=utf8\n"
    )
    done = subprocess.run(
        [
            nova_manage,
            "--config-file",
            str(conf),
            "db",
            "archive_deleted_rows",
            "--verbose",
            "--until-complete",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    u = target.uuid
    assert dep.query("nova", "SELECT COUNT(*) AS n FROM instances WHERE uuid = %s", (u,))[0]["n"] == 0
    assert (
        dep.query("nova", "SELECT COUNT(*) AS n FROM share_mapping WHERE instance_uuid = %s", (u,))[0]["n"]
        == 0
    )
