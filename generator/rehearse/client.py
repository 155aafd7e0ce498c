"""Run a bundle's SQL file exactly as the runbook says: the plain mysql/mariadb client, --batch, no --force.

Credentials go in a temporary option file (0600) passed with
--defaults-extra-file, never on the command line. The client runs with
`--sandbox` where it has it (MariaDB's client since 10.5.25, 10.6.18, 10.11.8, 11.4.2):
a client command that reached a file (`\\!`, `\\.`, `\\T`, …) then stops
the client instead of touching the file system — a second wall behind the
refusal of such files when a bundle is opened (`review/untrusted.py`).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from generator.connect.urls import DatabaseURL
from generator.errors import FixpackError
from generator.scratch.server import client_binary


@dataclass(frozen=True)
class ClientRun:
    file: str
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def last_line(self) -> str:
        lines = self.stdout.strip().splitlines()
        return lines[-1] if lines else ""


@lru_cache(maxsize=4)
def sandbox_options(binary: str) -> tuple[str, ...]:
    """`("--sandbox",)` when this client supports it (its --help lists it), else nothing."""
    try:
        cmd = [binary, "--no-defaults", "--help"]
        done = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return ("--sandbox",) if b"--sandbox" in done.stdout else ()


def run_sql_file(
    url: DatabaseURL, path: Path, *, timeout: float = 600, raw: bool = False, init: str | None = None
) -> ClientRun:
    """`raw`: print column values as-is, no header (an offline capture file's output is SQL).
    `init`: one statement the client runs first (`--init-command`), e.g. a rehearsal's
    `SET @fixpack_database = DATABASE()`: its scratch copy stands for the database of generation."""
    binary = client_binary()
    if not binary:
        raise FixpackError("no mysql/mariadb client found to run the bundle")
    with tempfile.NamedTemporaryFile("w", prefix="fixpack-client-", suffix=".cnf", delete=False) as cnf:
        os.chmod(cnf.name, 0o600)
        cnf.write("[client]\n")
        cnf.write(f"user={url.user or 'root'}\n")
        if url.password:
            cnf.write(f"password={url.password}\n")
        cnf.write(f"host={url.host or '127.0.0.1'}\n")
        if url.port:
            cnf.write(f"port={url.port}\n")
        cnf.write("protocol=TCP\n")
    try:
        with open(path, "rb") as stdin:
            extra = ["--raw", "--skip-column-names"] if raw else []
            extra += [f"--init-command={init}"] if init else []
            done = subprocess.run(
                [
                    binary,
                    f"--defaults-extra-file={cnf.name}",
                    *sandbox_options(binary),
                    "--batch",
                    *extra,
                    url.database or "",
                ],
                stdin=stdin,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
    finally:
        os.unlink(cnf.name)
    return ClientRun(
        str(path),
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )
