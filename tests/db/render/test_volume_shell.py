"""Volume-only compute scripts (detach-from-nova, reset-detached --detach-nova), run on a fake host.

A detached volume's script must never stop or undefine the instance's domain, unplug
its network or move its files — the instance keeps running — and must leave a disk
connected while that very domain still uses it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from generator.errors import TargetProblem
from generator.render.shell import render_compute_script
from tests.shell_fixtures.fakehost import FakeHost, destructive
from tests.shell_fixtures.scenarios import (
    BUNDLE,
    DOMAIN,
    INSTANCE,
    IQN,
    PORTAL_A,
    cleanup,
    instance_dirs,
    iscsi_steps,
    script_for,
    shellcheck,
)


@pytest.fixture
def host(tmp_path: Path) -> FakeHost:
    return FakeHost(tmp_path)


def volume_only(h: FakeHost, *volumes: str):
    return dataclasses.replace(cleanup(h, volumes=volumes), volumes_only=True)


@pytest.mark.parametrize("volumes", [("iscsi_single",), ("fibre_channel",), ("iscsi_multipath", "rbd")])
def test_volume_only_script_passes_shellcheck(host: FakeHost, volumes) -> None:
    result = shellcheck(script_for(host, volume_only(host, *volumes)))
    assert result.returncode == 0, result.stdout + result.stderr


def test_running_domain_keeps_running_and_the_stale_session_goes(host: FakeHost) -> None:
    plan = volume_only(host, "iscsi_single")
    host.domain(DOMAIN, INSTANCE, "running", disks=[("vda", "/var/lib/nova/instances/disk")])
    instance_dirs(host)
    script = script_for(host, plan)

    first = host.run(script, "--execute")
    assert first.returncode == 0, first.output
    assert destructive(first.calls) == iscsi_steps(IQN, PORTAL_A)
    assert host.deleted_disks() == {"sdb"}
    assert host.domain_state(DOMAIN) == "running"
    assert not any(c.startswith(("virsh destroy", "virsh undefine")) for c in first.calls)
    assert (host.instances / INSTANCE).is_dir()  # instance files untouched
    assert "volume detach only" in first.stdout

    host.settle_kernel()
    second = host.run(script, "--execute")
    assert second.returncode == 0, second.output
    assert destructive(second.calls) == []
    assert "Nothing to do: everything is already clean." in second.stdout


def test_disk_still_used_by_the_instance_itself_is_left_connected(host: FakeHost) -> None:
    plan = volume_only(host, "iscsi_single")
    host.domain(DOMAIN, INSTANCE, "running", disks=[("vdb", "/dev/sdb")])
    result = host.run(script_for(host, plan), "--execute")
    assert result.returncode == 4, result.output
    assert f"sdb is a disk of libvirt domain {INSTANCE}" in result.stdout
    assert destructive(result.calls) == []
    assert host.deleted_disks() == set()


def test_volume_only_cleanup_cannot_carry_vifs(host: FakeHost) -> None:
    plan = dataclasses.replace(cleanup(host, vifs=("ovs",)), volumes_only=True)
    with pytest.raises(TargetProblem, match="volume-only"):
        render_compute_script(plan, bundle_id=BUNDLE, fixpack_version="0.1.0")
