"""Run a command with its stderr on a pseudo-terminal (what an operator sees), stdout piped.

The terminal side is drained while the command runs: a pty buffers only a few kilobytes, and a
command whose progress bar filled it would block forever if nobody read it.
"""

from __future__ import annotations

import os
import pty
import subprocess
import threading
from collections.abc import Mapping, Sequence


def run_on_terminal(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 900,
) -> tuple[int, bytes, bytes]:
    """(exit status, stdout, everything written to the terminal)."""
    leader, follower = pty.openpty()
    shown: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal side is closed and drained
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc = subprocess.Popen(
            list(argv), stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL, env=env, cwd=cwd
        )
        os.close(follower)
        follower = -1
        stdout, _ = proc.communicate(timeout=timeout)
        reader.join(timeout=30)
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    return proc.returncode, stdout, b"".join(shown)
