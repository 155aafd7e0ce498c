"""A real Docker engine for the `docker` tests, started and stopped by the suite itself.

Where no engine answers (this kind of machine has only the docker client), the session fixture
`docker_engine` runs tools/docker-engine.sh: it installs Debian's docker.io and debootstrap if
missing, starts a private dockerd (own data/exec root, socket and bridge under a temp dir, no
iptables/forwarding changes) and builds a MariaDB image from the Debian mirror, or loads it from
the cached tarball. The tests then point DOCKER_HOST at that engine and FIXPACK_DOCKER_IMAGE at
the image; on teardown every container, dockerd and its containerd are stopped and the temp dir
removed. Any failure to set up FAILS the tests that need it: it is never a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.scratch.provider import ENV_IMAGE, docker_engine_available

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "docker-engine.sh"
TEST_IMAGE = "fixpack-test/mariadb:10.11"
SETUP_TIMEOUT = 1500  # apt install + debootstrap + image build on a slow first run
# testcontainers: the reaper image cannot be pulled without a registry; this machine has a
# /.dockerenv, so without these testcontainers would look for the container's gateway instead of
# the ports the engine publishes on 127.0.0.1.
TESTCONTAINERS_ENV = {
    "TESTCONTAINERS_RYUK_DISABLED": "true",
    "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
    "TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1",
}


@dataclass(frozen=True)
class DockerEngine:
    docker_host: str | None  # None: an engine that already answered (not ours)
    image: str
    why: str


def can_provision() -> tuple[bool, str]:
    """Whether tools/docker-engine.sh can start an engine here (it needs root on Linux)."""
    if not sys.platform.startswith("linux"):
        return False, "a private engine needs Linux"
    if os.geteuid() != 0:
        return False, "a private engine needs root (dockerd, bridge, apt-get)"
    if not (shutil.which("dockerd") or shutil.which("apt-get")):
        return False, "no dockerd and no apt-get to install docker.io"
    if not shutil.which("docker"):
        return False, "no docker client"
    return True, f"will start a private engine with {SCRIPT.name}"


def ensure_images(engine: DockerEngine, *tags: str) -> None:
    """Make sure the private engine has these images (tools/docker-engine.sh recipes): loaded
    from the cached tarball, else built from the Debian mirror and cached. Fails, never skips."""
    assert engine.docker_host is not None, "only the private engine builds images"
    directory = engine.docker_host.removeprefix("unix://").removesuffix("/docker.sock")
    try:
        done = subprocess.run(
            ["bash", str(SCRIPT), "image", directory, *tags],
            capture_output=True,
            text=True,
            timeout=SETUP_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{SCRIPT.name} image {' '.join(tags)} did not finish in {SETUP_TIMEOUT} s")
    if done.returncode != 0:
        pytest.fail(f"{SCRIPT.name} image {' '.join(tags)} failed: {done.stderr.strip()[-600:]}")


def has_image(tag: str) -> bool:
    """Whether the engine DOCKER_HOST names already has this image."""
    done = subprocess.run(["docker", "image", "inspect", tag], capture_output=True, timeout=60, check=False)
    return done.returncode == 0


def _engine_down(directory: str) -> None:
    subprocess.run(["bash", str(SCRIPT), "down", directory], capture_output=True, timeout=180, check=False)


def _set_env(values: dict[str, str]) -> dict[str, str | None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    # testcontainers reads its settings when first imported; if it already was, update them too.
    config = sys.modules.get("testcontainers.core.config")
    if config is not None:
        tc = config.testcontainers_config
        tc.ryuk_disabled = True
        tc.tc_host_override = values["TESTCONTAINERS_HOST_OVERRIDE"]
        tc.connection_mode_override = config.ConnectionMode.docker_host
    return saved


def _restore_env(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[DockerEngine]:
    """An answering Docker engine and a MariaDB image it has; set up here if need be."""
    ok, why = docker_engine_available()
    if ok:  # an engine of the machine's own (CI runner, developer): use it with the official image
        saved = _set_env({**TESTCONTAINERS_ENV}) if os.path.exists("/.dockerenv") else {}
        yield DockerEngine(None, os.environ.get(ENV_IMAGE) or "mariadb:10.11", why)
        _restore_env(saved)
        return
    possible, reason = can_provision()
    if not possible:
        pytest.fail(f"no Docker engine answers ({why}) and none can be started here: {reason}")
    directory = tempfile.mkdtemp(prefix="fxp-docker-", dir="/tmp")  # short: the socket path is limited
    try:
        done = subprocess.run(
            ["bash", str(SCRIPT), "up", directory, TEST_IMAGE],
            capture_output=True,
            text=True,
            timeout=SETUP_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        _engine_down(directory)
        pytest.fail(f"{SCRIPT.name} up did not finish in {SETUP_TIMEOUT} s")
    if done.returncode != 0:
        _engine_down(directory)
        pytest.fail(f"{SCRIPT.name} up failed: {done.stderr.strip()[-600:]}")
    docker_host = f"unix://{directory}/docker.sock"
    saved = _set_env({"DOCKER_HOST": docker_host, ENV_IMAGE: TEST_IMAGE, **TESTCONTAINERS_ENV})
    try:
        ok, why = docker_engine_available()
        assert ok, f"the private engine started but does not answer: {why}"
        yield DockerEngine(docker_host, TEST_IMAGE, why)
    finally:
        _restore_env(saved)
        _engine_down(directory)
