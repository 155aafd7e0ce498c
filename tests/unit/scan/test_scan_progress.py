"""`fixpack scan` progress: a bar on stderr while stderr is a terminal, nothing when piped.

No database: the URL names a socket that does not exist, so every check runs its course to
`skipped` (exit 3) and the progress callback still fires once per check.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.terminal import run_on_terminal

SCAN = [
    sys.executable, "-c", "from generator.cli import main; main()", "scan", "--format", "json",
    "--cinder-url", "mysql+pymysql://root@localhost/cinder?unix_socket=/nonexistent/fixpack-no.sock",
]  # fmt: skip
ROOT = Path(__file__).resolve().parents[3]


def _run(stderr: int) -> subprocess.CompletedProcess[bytes]:
    pipe = subprocess.PIPE
    return subprocess.run(
        SCAN, cwd=ROOT, stdout=pipe, stderr=stderr, stdin=subprocess.DEVNULL, timeout=120, check=False
    )


def test_piped_scan_writes_no_progress():
    done = _run(subprocess.PIPE)
    assert done.returncode == 3 and b'"skipped"' in done.stdout
    assert b"scanning" not in done.stderr and b"\r" not in done.stderr and b"\x1b" not in done.stderr
    assert b"volume-stuck" not in done.stderr  # no check id either
    assert b"scanning" not in done.stdout


def test_scan_on_a_terminal_shows_a_bar_per_check():
    code, stdout, shown = run_on_terminal(SCAN, cwd=ROOT, timeout=120)
    assert code == 3 and b"scanning" not in stdout
    assert b"scanning" in shown and b"volume-attached-to-deleted-instance" in shown
    assert b"build-request-stale" in shown and b"11/11" not in stdout
