"""Real Galera nodes for the tests: `galera-4` installed on demand, a private mariadbd.

The provider comes from Debian's `galera-4` package; when it is missing and this is
a Debian machine run as root, `apt-get install -y --no-install-recommends galera-4`
installs it (as tools/docker-engine.sh installs docker.io). The node
(generator/scratch/galera.py) bootstraps its own cluster on loopback ports in a temp
data directory and is stopped after the module's tests. Any failure to install or
start FAILS the tests (pytest.fail): they are never skipped, under CI or not.
`running_galera_cluster` starts several such nodes as one cluster; its joiners need
`rsync` (rsync SST), installed the same way when missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from generator.scratch.galera import GaleraNode, galera_provider

INSTALL_TIMEOUT = 600


def ensure_galera_provider() -> str:
    found = galera_provider()
    if found:
        return found
    _apt_install("galera-4")
    found = galera_provider()
    if not found:
        pytest.fail("galera-4 installed but libgalera_smm.so not found", pytrace=False)
    return found


def ensure_rsync() -> None:
    """Joiner nodes receive their data by rsync SST (`wsrep_sst_rsync` runs `rsync`)."""
    if not shutil.which("rsync"):
        _apt_install("rsync")


def _apt_install(package: str) -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(f"{package} is missing and cannot be installed here (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
    ):
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, env=env, check=False
        )
        if done.returncode != 0:
            pytest.fail(f"{' '.join(cmd)} failed: {done.stderr.strip()[-300:]}", pytrace=False)


@contextlib.contextmanager
def running_galera_node() -> Iterator[GaleraNode]:
    """Install the provider if needed, start a node, stop it afterwards (module fixtures use this)."""
    ensure_galera_provider()
    try:
        node = GaleraNode().start()
    except Exception as exc:  # a node that cannot start fails the tests, never skips them
        pytest.fail(f"could not start a Galera node: {exc}", pytrace=False)
    try:
        yield node
    finally:
        node.stop()


def set_limits(node: GaleraNode, *, rows: int, size: int = 2147483647) -> None:
    """wsrep_max_ws_rows/size are GLOBAL and dynamic: the seeding runs unlimited, the bundle under them."""
    import pymysql

    conn = pymysql.connect(unix_socket=node.socket, user="root", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET GLOBAL wsrep_max_ws_rows = {int(rows)}")
            cur.execute(f"SET GLOBAL wsrep_max_ws_size = {int(size)}")
    finally:
        conn.close()


@contextlib.contextmanager
def running_galera_cluster(size: int = 3) -> Iterator[list[GaleraNode]]:
    """`size` nodes on loopback ports: the first bootstraps, each other joins all before it (rsync
    SST). Every node is stopped afterwards, also when one could not start."""
    ensure_galera_provider()
    ensure_rsync()
    nodes: list[GaleraNode] = []
    try:
        for number in range(1, size + 1):
            try:
                nodes.append(GaleraNode(join=tuple(n.gcomm_port for n in nodes)))
                nodes[-1].start()
            except Exception as exc:  # a cluster that cannot form fails the tests, never skips them
                pytest.fail(f"could not start Galera node {number} of {size}: {exc}", pytrace=False)
        yield nodes
    finally:
        for node in reversed(nodes):
            node.stop()
