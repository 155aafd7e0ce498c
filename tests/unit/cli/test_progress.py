"""cli/progress.py: a batch or a scan shows click's progress bar on a terminal, nothing when piped."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from generator.cli.progress import progress_bar
from tests.terminal import run_on_terminal

UUIDS = ("3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57", "5b1d3c7e-9a2f-4e6b-8c1d-0f3a5b7c9e2d")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_terminal_no_bar_and_no_output(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with progress_bar("batch", 3) as progress:
        assert progress is None
    assert err.getvalue() == ""


def test_on_a_terminal_each_step_is_named_and_the_bar_ends_at_100_percent(monkeypatch):
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    with progress_bar("batch", 3) as progress:
        assert progress is not None
        for step in ("reading 2 instances", "planning 1/2", "planning 2/2"):
            progress(step)
    text = err.getvalue()
    assert "batch" in text and "planning 2/2" in text and "100%" in text
    assert text.endswith("\n")  # the bar's line is ended: what follows starts clean


def _batch(tmp_path: Path) -> list[str]:
    ids = tmp_path / "ids"
    ids.write_text("\n".join(UUIDS) + "\n")
    argv = [sys.executable, "-m", "generator", "vm", "--from-file", str(ids), "--batch"]
    return [*argv, "--op", "soft-delete", "--release", "2025.1", "-o", str(tmp_path / "out")]


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "FIXPACK_CACHE_DIR": str(tmp_path / "cache")}


def test_a_piped_batch_prints_no_bar(tmp_path):
    proc = subprocess.run(_batch(tmp_path), capture_output=True, env=_env(tmp_path), timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert b"planning" not in proc.stderr and b"batch " not in proc.stderr and b"\r" not in proc.stderr


def test_a_batch_on_a_terminal_shows_its_steps(tmp_path):
    code, stdout, shown = run_on_terminal(_batch(tmp_path), env=_env(tmp_path), timeout=300)
    assert code == 0, shown
    assert b"batch" in shown and b"planning 2/2" in shown and b"100%" in shown
    assert b"planning" not in stdout  # the result lines alone
