"""A private, throwaway MariaDB/MySQL server started from installed binaries.

Used by the test suite, by `fixpack rehearse --backend local` and by the
catalog capture command. Each server gets its own data directory, socket and
TCP port, runs as a child process, and is removed when stopped; it never
touches a server the machine already runs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pymysql

from generator.connect.urls import DatabaseURL
from generator.errors import FixpackError

_SEARCH_DIRS = (
    "/usr/sbin",
    "/usr/libexec",
    "/usr/local/mysql/bin",
    "/usr/local/sbin",
    "/usr/bin",
    "/opt/mysql/bin",
)


def find_program(*names: str) -> str | None:
    """First of `names` on PATH or in the usual server directories."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
        for d in _SEARCH_DIRS:
            candidate = Path(d) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return None


def server_binary() -> str | None:
    return find_program("mariadbd", "mysqld")


def client_binary() -> str | None:
    return find_program("mariadb", "mysql")


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM if the Python process that started it dies (a killed test run
    must not leave private servers behind). Elsewhere a no-op."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, 15)  # PR_SET_PDEATHSIG, SIGTERM
    except OSError:
        pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ScratchServer:
    """Start with `start()` (or as a context manager); `url` is root over TCP."""

    def __init__(
        self, *, base_dir: str | None = None, binary: str | None = None, extra_args: tuple[str, ...] = ()
    ) -> None:
        found = binary or server_binary()
        if not found:
            raise FixpackError(
                "no MariaDB/MySQL server binary (mariadbd or mysqld) found to start a scratch server"
            )
        self.binary: str = found
        parent = base_dir or ("/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
        self.root = Path(tempfile.mkdtemp(prefix="fixpack-db-", dir=parent))
        self.datadir = self.root / "data"
        self.socket = str(self.root / "mysqld.sock")
        self.port = _free_port()
        self.log = self.root / "server.log"
        self._proc: subprocess.Popen | None = None
        self.extra_args = extra_args  # more server options (a Galera node: scratch/galera.py)
        self.is_mariadb = "mariadb" in Path(self.binary).name or self._version_says_mariadb()

    def _version_says_mariadb(self) -> bool:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True, check=False).stdout
        return "mariadb" in out.lower()

    @property
    def url(self) -> DatabaseURL:
        return DatabaseURL(user="root", host="127.0.0.1", port=self.port)

    def _initialise(self) -> None:
        # the bootstrap server writes temporary tables too: in /tmp, two bootstraps at one moment
        # (two test sessions) failed deleting each other's `#sql-temptable-…` files
        tmpdir = self.root / "tmp"
        tmpdir.mkdir(parents=True, exist_ok=True)
        if self.is_mariadb:
            installer = find_program("mariadb-install-db", "mysql_install_db")
            if not installer:
                raise FixpackError("mariadb-install-db not found next to the server binary")
            cmd = [
                installer,
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
                f"--tmpdir={tmpdir}",  # passed on to the bootstrap server
            ]
        else:
            cmd = [self.binary, "--no-defaults", "--initialize-insecure", f"--datadir={self.datadir}"]
            cmd.append(f"--tmpdir={tmpdir}")
        if os.geteuid() == 0:
            cmd.append("--user=root")
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise FixpackError(f"initialising a scratch data directory failed: {done.stderr.strip()[-300:]}")

    def start(self, timeout: float = 60.0) -> ScratchServer:
        """Start the server; a data directory left by `crash()` is reused (crash recovery runs)."""
        if not self.datadir.exists():
            self._initialise()
        (self.root / "tmp").mkdir(exist_ok=True)
        cmd = [
            self.binary,
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--socket={self.socket}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--pid-file={self.root / 'mysqld.pid'}",
            f"--log-error={self.log}",
            "--skip-log-bin",
            "--innodb-flush-log-at-trx-commit=0",
            "--innodb-buffer-pool-size=512M",
            "--max-connections=300",
            "--character-set-server=utf8mb4",
            "--skip-name-resolve",
            "--max-allowed-packet=256M",
            f"--tmpdir={self.root / 'tmp'}",  # private: nothing else may clean its temporary tables
        ]
        if self.is_mariadb:
            cmd += ["--innodb-doublewrite=0"]
        else:
            cmd += ["--mysqlx=OFF"]
        if os.geteuid() == 0:
            cmd.append("--user=root")
        cmd += list(self.extra_args)
        self._proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise FixpackError(f"scratch server exited at start: {self._log_tail()}")
            try:
                pymysql.connect(unix_socket=self.socket, user="root", connect_timeout=2).close()
                return self
            except pymysql.err.OperationalError:
                time.sleep(0.2)
        self.stop()
        raise FixpackError(f"scratch server did not start within {timeout:.0f}s: {self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-3:])
        except OSError:
            return "(no log)"

    def crash(self) -> None:
        """SIGKILL the server and keep its data directory: what a power cut leaves for `start()`."""
        if self._proc and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def stop(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ScratchServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
