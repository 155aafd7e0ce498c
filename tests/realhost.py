"""A real compute node for the `realhost` tests: the generated host scripts against real programs.

The stand-ins in tests/standins agree with whatever the scripts expect; libvirt, Open vSwitch,
iproute2 and open-iscsi do not always. Here tools/realhost.sh installs the Debian packages if
missing (nothing is started by their scripts) and starts a private compute node: its own
network, mount and UTS namespaces, private overlays of /etc, /var/lib, /var/log, /var/cache and
/dev, userspace Open vSwitch with br-int (datapath_type=netdev), a private libvirtd running QEMU
under emulation (domain type 'qemu', OVMF for UEFI guests with NVRAM) and tgtd as a real iSCSI
target. The tests lay out instances on it the way nova and os-vif do (tests/realhost_layout.py),
run the generated scripts inside it, and stop and remove everything afterwards.

What cannot run on such a machine stays with the stand-ins: iSCSI logins (no iSCSI kernel
support: no sessions, no SCSI disks, no /dev/disk/by-path devices), multipath and Fibre Channel.

With CI set a node that cannot be had FAILS the tests; locally, where it cannot be had at all
(not root, not Linux), the tests are deselected and the summary says so — never skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "realhost.sh"
SETUP_TIMEOUT = 900  # a first run installs ~190 MB of packages
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def can_provision() -> tuple[bool, str]:
    """Whether tools/realhost.sh can start a node here (root on Linux, apt-get or the packages)."""
    if not sys.platform.startswith("linux"):
        return False, "a private compute node needs Linux namespaces"
    if os.geteuid() != 0:
        return False, "a private compute node needs root"
    if not (shutil.which("apt-get") or shutil.which("libvirtd")):
        return False, "no libvirtd and no apt-get to install it"
    return True, f"{SCRIPT.name} starts a private compute node"


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass(frozen=True)
class Node:
    """A running private compute node; commands run inside it with nsenter."""

    directory: Path
    pid: int
    hostname: str

    def run(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> Run:
        proc = subprocess.run(
            ["nsenter", "-t", str(self.pid), "-n", "-m", "-u", "--", *args],
            capture_output=True,
            text=True,
            env={"PATH": PATH, "LANG": "C.UTF-8", "HOME": str(self.directory), **(env or {})},
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
        result = Run(proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode:
            raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}) on the node:\n{result.output}")
        return result

    def sh(self, script: str, check: bool = True) -> Run:
        return self.run("bash", "-euo", "pipefail", "-c", script, check=check)

    def lines(self, *args: str) -> list[str]:
        return [line.strip() for line in self.run(*args).stdout.splitlines() if line.strip()]


def _tool(*args: str, timeout: int = SETUP_TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _fail(what: str, proc: subprocess.CompletedProcess[str]) -> None:
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    pytest.fail(f"{what}: " + " | ".join(tail), pytrace=False)


@pytest.fixture(scope="session")
def realhost_packages() -> None:
    """The packages, installed once per session (a no-op when they are there)."""
    possible, why = can_provision()
    if not possible:
        pytest.fail(f"no real compute node: {why}", pytrace=False)
    proc = _tool("install")
    if proc.returncode:
        _fail("cannot install the compute-node packages", proc)


@pytest.fixture
def make_node(realhost_packages: None) -> Iterator[Callable[[str], Node]]:
    """Factory: a fresh private compute node named HOSTNAME; stopped and removed afterwards."""
    made: list[Path] = []

    def make(hostname: str) -> Node:
        directory = Path(tempfile.mkdtemp(prefix="fixpack-node-"))
        made.append(directory)
        proc = _tool("up", str(directory), hostname, timeout=120)
        if proc.returncode:
            _fail("the compute node did not come up", proc)
        pid = int(proc.stdout.strip().rpartition("NS_PID=")[2])
        return Node(directory, pid, hostname)

    yield make
    problems = [proc for proc in (_tool("down", str(d), timeout=60) for d in made) if proc.returncode]
    if problems:
        _fail("the compute node did not stop cleanly", problems[0])


# -- collection: deselect (never skip) only where a node cannot be had and CI is not set ----------
_not_run: dict[str, object] = {}


def deselect_unless_possible(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Called from conftest's pytest_collection_modifyitems."""
    marked = [item for item in items if "realhost" in item.keywords]
    if not marked or in_ci():
        return
    possible, why = can_provision()
    if possible:
        return
    config.hook.pytest_deselected(items=marked)
    items[:] = [item for item in items if "realhost" not in item.keywords]
    _not_run.update(count=len(marked), why=why)


def summary_lines() -> Sequence[str]:
    if not _not_run:
        return ()
    return (f"real compute-node tests: {_not_run['count']} NOT RUN (deselected): {_not_run['why']}",)
