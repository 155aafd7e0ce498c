"""`fixpack rehearse --backend docker`: the testcontainers backend, where a Docker engine runs.

With no Docker engine (this machine has the client library but no engine)
tests/conftest.py deselects it and the run's summary says it did not run and
why; the local backend (tests/test_rehearse.py, marked `db`) carries CI. It
is marked `docker`, never `db`, so it can never pass for the database suite.
"""

# ruff: noqa: F401, F811  (pytest fixtures are imported by name and requested by parameter)

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.rehearse.backends import open_backend
from generator.rehearse.client import run_sql_file
from generator.scratch.provider import DEFAULT_IMAGE, docker_engine_available

from .review_fixtures import REVIEW_RELEASES, good_bundles, run_cli

pytestmark = pytest.mark.docker


@pytest.fixture(scope="session")
def docker_engine() -> str:
    ok, why = docker_engine_available()
    assert ok, f"collected only where a Docker engine answers, but: {why}"
    return why


def test_rehearse_on_a_testcontainers_server(
    docker_engine: str, good_bundles, tmp_path: Path, capsys
) -> None:
    server = open_backend("docker", image=DEFAULT_IMAGE)
    try:
        assert server.backend == "docker" and server.url.port
        probe = tmp_path / "probe.sql"
        probe.write_text("SELECT VERSION() AS v;\n")
        run = run_sql_file(server.url, probe)  # the real client reaches the container's mapped port
        assert run.ok, run.stderr
        assert "mariadb" in run.stdout.lower()
    finally:
        server.stop()

    paths = [str(good_bundles[(REVIEW_RELEASES[-1], op)]) for op in ("soft-delete", "purge", "rehost")]
    code, out, _ = run_cli(["rehearse", *paths, "--backend", "docker", "--format", "json"], capsys)
    result = json.loads(out)
    assert code == 0 and result["passed"] and result["backend"] == "docker"
    assert "fixpack-scratch" not in out  # the container's password is never printed
