"""A private one-node Galera cluster: the scratch server with wsrep on, on loopback ports only.

Started from the installed `mariadbd` and the `galera-4` provider
(`/usr/lib/galera/libgalera_smm.so`), bootstrapping its own cluster
(`gcomm://`, `--wsrep-new-cluster`). Group communication and IST listen on free
127.0.0.1 ports, so it never joins or disturbs anything else. Used by the tests
that prove bundles against Galera's write-set limits (`wsrep_max_ws_rows`,
`wsrep_max_ws_size`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import time
from pathlib import Path

import pymysql

from generator.errors import FixpackError
from generator.scratch.server import ScratchServer, _free_port

PROVIDER_PATHS = ("/usr/lib/galera/libgalera_smm.so", "/usr/lib/galera-4/libgalera_smm.so")


def galera_provider() -> str | None:
    for path in PROVIDER_PATHS:
        if Path(path).is_file():
            return path
    return None


class GaleraNode(ScratchServer):
    """`GaleraNode(max_ws_rows=500).start()`; `.url` is root over TCP, as for ScratchServer."""

    def __init__(
        self, *, max_ws_rows: int = 0, max_ws_size: int | None = None, join: tuple[int, ...] = ()
    ) -> None:
        """`join`: gcomm ports of running nodes; empty bootstraps a new cluster. A joiner gets
        its data by rsync SST (state snapshot transfer) on its own loopback port."""
        provider = galera_provider()
        if provider is None:
            raise FixpackError("no Galera provider (install the galera-4 package)")
        self.gcomm_port, self.ist_port, self.sst_port = _free_port(), _free_port(), _free_port()
        options = (
            f"gmcast.listen_addr=tcp://127.0.0.1:{self.gcomm_port};"
            f"ist.recv_addr=127.0.0.1:{self.ist_port};base_port={self.gcomm_port};"
            "gcache.size=32M"
        )
        args = [
            "--wsrep-on=ON",
            f"--wsrep-provider={provider}",
            "--wsrep-cluster-address=gcomm://" + ",".join(f"127.0.0.1:{p}" for p in join),
            *(() if join else ("--wsrep-new-cluster",)),
            "--wsrep-sst-method=rsync",
            f"--wsrep-sst-receive-address=127.0.0.1:{self.sst_port}",
            f"--wsrep-node-address=127.0.0.1:{self.gcomm_port}",
            f"--wsrep-provider-options={options}",
            "--wsrep-cluster-name=fixpack-scratch",
            "--binlog-format=ROW",
            "--innodb-autoinc-lock-mode=2",
            f"--wsrep-max-ws-rows={max_ws_rows}",
        ]
        if max_ws_size is not None:
            args.append(f"--wsrep-max-ws-size={max_ws_size}")
        super().__init__(extra_args=tuple(args))
        if join:
            self._prepare_joiner_datadir()
        if not self.is_mariadb:
            raise FixpackError("a Galera scratch node needs the MariaDB server binary")

    def _prepare_joiner_datadir(self) -> None:
        """A joiner starts from an empty data directory that SST fills. Run as root, the rsync
        daemon of `wsrep_sst_rsync` writes as `nobody` (its default module uid), so the private
        temp directory must let it through and the data directory must be its own."""
        self.datadir.mkdir()
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self.root.chmod(0o711)
            os.chown(self.datadir, nobody.pw_uid, nobody.pw_gid)

    def start(self, timeout: float = 90.0) -> GaleraNode:
        super().start(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            conn = pymysql.connect(unix_socket=self.socket, user="root", connect_timeout=2)
            try:
                with conn.cursor() as cur:
                    cur.execute("SHOW GLOBAL STATUS LIKE 'wsrep_ready'")
                    row = cur.fetchone()
            finally:
                conn.close()
            if row and str(row[1]).upper() == "ON":
                return self
            time.sleep(0.2)
        self.stop()
        raise FixpackError(f"Galera node not ready within {timeout:.0f}s: {self._log_tail()}")

    def stop(self) -> None:
        """Also ends what the node started and left behind (an SST script, its rsync daemon),
        found by this node's own temp directory on their command lines; before and after the
        server stops, so nothing writes into the directory once it is removed."""
        self._kill_helpers()
        super().stop()
        self._kill_helpers()
        shutil.rmtree(self.root, ignore_errors=True)

    def _kill_helpers(self) -> None:
        marker = f"{self.root}/".encode()
        server = self._proc.pid if self._proc else None
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if int(proc.name) != server and marker in (proc / "cmdline").read_bytes():
                    os.kill(int(proc.name), signal.SIGKILL)
            except (OSError, ValueError):
                continue

    def status(self, name: str) -> str | None:
        conn = pymysql.connect(unix_socket=self.socket, user="root", connect_timeout=5)
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW GLOBAL STATUS LIKE %s", (name,))
                row = cur.fetchone()
        finally:
            conn.close()
        return str(row[1]) if row else None
