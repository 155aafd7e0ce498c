"""In CI a missing Docker engine fails the run; only locally are the `docker` tests deselected.

Runs pytest on tests/db/rehearse/test_rehearse_docker.py in a child process whose PATH has no docker client
and no dockerd/apt-get, so no engine answers and none can be started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _pytest_without_docker(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "DOCKER_HOST")}
    env["PATH"] = str(tmp_path)  # empty: no docker, dockerd or apt-get
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/db/rehearse/test_rehearse_docker.py",
            "-k",
            "real_client",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_ci_fails_when_no_engine_can_be_had(tmp_path: Path) -> None:
    done = _pytest_without_docker(tmp_path, "true")
    assert done.returncode == 1, done.stdout[-2000:]
    assert "1 error" in done.stdout and "none can be started here" in done.stdout
    assert "no docker client installed" in done.stdout


def test_locally_they_are_deselected_with_the_reason(tmp_path: Path) -> None:
    done = _pytest_without_docker(tmp_path, None)
    assert done.returncode == 5, done.stdout[-2000:]  # nothing ran: pytest's "no tests" status
    why = "docker backend tests: 6 NOT RUN (deselected): no docker client installed; no dockerd"
    assert why in done.stdout
