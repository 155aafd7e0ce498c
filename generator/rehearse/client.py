"""Run a bundle's SQL file exactly as the runbook says: the plain mysql/mariadb client, --batch, no --force.

Credentials go in a temporary option file (0600) passed with
--defaults-extra-file, never on the command line.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
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
                [binary, f"--defaults-extra-file={cnf.name}", "--batch", *extra, url.database or ""],
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
