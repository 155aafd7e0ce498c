"""Get a real MariaDB/MySQL server for tests and rehearsals, whichever way this machine allows.

In order of preference:
1. a URL from the environment (`FIXPACK_TEST_DB_URL`) — CI with a service
   container, or a developer's own scratch server;
2. testcontainers (MariaDB image) when a Docker engine answers;
3. a private server started from the installed `mariadbd`/`mysqld` binaries.

The chosen backend and why is recorded, so a test report can say what it ran
against. There is deliberately no "no server" outcome: callers fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

from generator.connect.urls import DatabaseURL, parse_url
from generator.errors import FixpackError
from generator.quoting import terminal
from generator.scratch.server import ScratchServer, server_binary
from generator.secrets import MASK

ENV_URL = "FIXPACK_TEST_DB_URL"
DEFAULT_IMAGE = "mariadb:10.11"  # the official image: what users get
ENV_IMAGE = "FIXPACK_DOCKER_IMAGE"  # another image (tests: one built locally, no registry)


def default_image() -> str:
    """The docker backend's image: $FIXPACK_DOCKER_IMAGE if set, else the official image."""
    return os.environ.get(ENV_IMAGE) or DEFAULT_IMAGE


def docker_engine_available() -> tuple[bool, str]:
    """Whether a Docker engine (not just the client) answers here, and why not."""
    if not shutil.which("docker"):
        return False, "no docker client installed"
    try:
        done = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"docker info failed: {exc}"
    if done.returncode != 0 or not done.stdout.strip():
        reason = (done.stderr.strip().splitlines() or ["no answer"])[-1]
        return False, f"no Docker engine answers ({reason})"
    return True, f"Docker engine {done.stdout.strip()}"


@dataclass
class ProvidedServer:
    url: DatabaseURL
    backend: str  # env | docker | local
    description: str
    _handle: Any = field(default=None, repr=False)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.stop()
            self._handle = None


def start_docker(image: str | None = None) -> ProvidedServer:
    """A MariaDB (or MySQL) container through testcontainers 4.x; root over the mapped port.

    testcontainers moved its MySQL module to `testcontainers.community.mysql`
    (the old path still imports, with a DeprecationWarning). Its wait
    strategy waits for the second "ready for connections" line, which both
    the MariaDB and the MySQL entrypoints print once their init server has
    handed over, so the client can connect as soon as this returns.
    """
    try:
        from testcontainers.community.mysql import MySqlContainer
    except ImportError:
        try:
            from testcontainers.mysql import MySqlContainer
        except ImportError:
            raise FixpackError("docker backend needs the testcontainers[mysql] package") from None

    image = image or default_image()
    password = "fixpack-scratch"
    container = MySqlContainer(image, username="root", password=password, dbname="fixpack_scratch")
    # the scratch data is thrown away with the container: in memory it loads a release schema
    # several times faster (every CREATE TABLE syncs its file) and leaves no volume behind
    if hasattr(container, "with_tmpfs_mount"):  # testcontainers 4.10 and later
        container.with_tmpfs_mount("/var/lib/mysql")
    try:
        container.start()
        url = DatabaseURL(
            user="root",
            password=password,
            host=container.get_container_host_ip(),
            port=int(container.get_exposed_port(3306)),
        )
    except Exception as exc:  # docker errors come in many types; report one line, leave nothing running
        said = _log_tail(container, password)
        with contextlib.suppress(Exception):
            container.stop()
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise FixpackError(f"could not start a {image} container: {first}{said}") from None
    return ProvidedServer(url, "docker", f"testcontainers {image} at {url.redacted()}", container)


def _log_tail(container: Any, password: str, lines: int = 3) -> str:
    """`; container said: …` — the last lines the container printed (why a server did not come up:
    a full disk, a bad option, an init script's error), on one line through the terminal door, the
    password masked; "" when it printed nothing or never started."""
    try:
        out, err = container.get_logs()
    except Exception:  # never started, or already gone: the exception itself is the reason
        return ""
    text = (err or b"").decode("utf-8", "replace") + (out or b"").decode("utf-8", "replace")
    tail = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    if not tail:
        return ""
    return "; container said: " + terminal(" | ".join(tail).replace(password, MASK))[:400]


def start_local() -> ProvidedServer:
    server = ScratchServer().start()
    return ProvidedServer(
        server.url,
        "local",
        f"private {'MariaDB' if server.is_mariadb else 'MySQL'} server from "
        f"{server.binary} on port {server.port}",
        server,
    )


def provide(backend: str = "auto") -> ProvidedServer:
    """Start (or point at) a scratch server; raise FixpackError if none can be had."""
    if backend in ("auto", "env") and os.environ.get(ENV_URL):
        url = parse_url(os.environ[ENV_URL], what=ENV_URL)
        return ProvidedServer(url, "env", f"{ENV_URL} ({url.redacted()})")
    if backend == "env":
        raise FixpackError(f"{ENV_URL} is not set")
    if backend in ("auto", "docker"):
        ok, why = docker_engine_available()
        if ok:
            return start_docker()
        if backend == "docker":
            raise FixpackError(f"docker backend unavailable: {why}")
    if backend in ("auto", "local"):
        if server_binary():
            return start_local()
        raise FixpackError(
            "no server available: set FIXPACK_TEST_DB_URL, run a Docker engine, "
            "or install MariaDB/MySQL server binaries"
        )
    raise FixpackError(f"unknown backend {backend!r}")
