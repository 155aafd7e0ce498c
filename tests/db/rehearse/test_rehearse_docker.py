"""`fixpack rehearse --backend docker`: the testcontainers backend against a real engine.

The engine is the machine's own if one answers, else a private one that tests/docker_engine.py
starts (and removes) with a MariaDB image built from the Debian mirror. Every operation's bundle,
live and offline, is rehearsed in containers of that image. Marked `docker`, never `db`, so it
can never pass for the database suite; in CI a missing engine fails the run (tests/conftest.py).
"""

# ruff: noqa: F401, F811  (pytest fixtures are imported by name and requested by parameter)

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from generator.rehearse.backends import open_backend
from generator.rehearse.client import run_sql_file
from tests.docker_engine import DockerEngine
from tests.review_fixtures import ALL_OPS, REVIEW_RELEASES, good_bundles, run_cli

pytestmark = pytest.mark.docker
UUID = "3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57"


def _containers(engine: DockerEngine) -> list[str]:
    env = None if engine.docker_host is None else {"DOCKER_HOST": engine.docker_host, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        ["docker", "ps", "-a", "--format", "{{.ID}} {{.Image}}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        env=env,
    )
    return done.stdout.splitlines()


def test_container_serves_the_real_client(docker_engine: DockerEngine, tmp_path: Path) -> None:
    """The backend's container answers the real client on its mapped port, as root with a password."""
    before = _containers(docker_engine)
    server = open_backend("docker")
    try:
        assert server.backend == "docker" and server.url.port
        assert docker_engine.image in server.description
        probe = tmp_path / "probe.sql"
        probe.write_text("SELECT VERSION() AS v, CURRENT_USER() AS u;\n")
        run = run_sql_file(server.url, probe)  # the real client reaches the container's mapped port
        assert run.ok, run.stderr
        assert "mariadb" in run.stdout.lower() and "root@%" in run.stdout
    finally:
        server.stop()
    assert _containers(docker_engine) == before  # the container is removed, not just stopped


@pytest.mark.parametrize("release", REVIEW_RELEASES)
def test_every_live_bundle_rehearses_in_a_container(
    docker_engine: DockerEngine, good_bundles, release: str, capsys
) -> None:
    """VM soft-delete/purge/rehost, every volume op and quota sync: all phases pass in a container."""
    paths = [str(good_bundles[(release, op)]) for op in ALL_OPS]
    before = _containers(docker_engine)  # the session's db_server may itself be a container
    code, out, err = run_cli(["rehearse", *paths, "--backend", "docker", "--format", "json"], capsys)
    result = json.loads(out)
    failed = [
        (r.get("bundle"), [s for s in r["steps"] if s["status"] == "failed"])
        for r in result["bundles"]
        if not r["passed"]
    ]
    assert code == 0 and result["passed"], (err, failed)
    assert result["backend"] == "docker" and len(result["bundles"]) == len(ALL_OPS)
    assert "fixpack-scratch" not in out + err  # the container's password is never printed
    assert _containers(docker_engine) == before  # the rehearsal's container is gone


@pytest.mark.parametrize(
    ("op", "extra", "release"),
    [
        ("soft-delete", [], REVIEW_RELEASES[0]),
        ("purge", [], REVIEW_RELEASES[-1]),
        ("rehost", ["--to-host", "cmp-09", "--to-node", "cmp-09.example.org"], REVIEW_RELEASES[-1]),
    ],
)
def test_offline_vm_bundle_rehearses_in_a_container(
    docker_engine: DockerEngine, tmp_path: Path, op: str, extra: list[str], release: str, capsys
) -> None:
    """An offline bundle (no database at generation) rehearses on synthetic rows in a container."""
    out_dir = tmp_path / "out"
    code, _, err = run_cli(["vm", UUID, "--op", op, *extra, "--release", release, "-o", str(out_dir)], capsys)
    assert code == 0, err
    (bundle,) = list(out_dir.iterdir())
    assert json.loads((bundle / "manifest.json").read_text())["mode"] == "offline"
    code, out, err = run_cli(["rehearse", str(bundle), "--backend", "docker", "--format", "json"], capsys)
    result = json.loads(out)
    assert code == 0 and result["passed"] and result["backend"] == "docker", (err, out[-2000:])
