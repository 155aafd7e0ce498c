"""Rehearsal reports without a server: how a failed guard is named, and the three renderings."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from generator.rehearse.client import ClientRun
from generator.rehearse.report import FAILED, NOT_RUN, PASSED, SKIPPED, RehearsalReport, StepResult, junit_xml
from generator.rehearse.runner import explain_failure, guard_at, last_state

GUARDED = """SET @fixpack_state = 'drift';
SELECT
  'step 3: instances: rows are as at generation' AS `guard`,
  (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_state <=> 'pending')) AS `ok`;
SELECT
  _utf8mb4 x'7468652076696577277320726F77' AS `guard`,
  (SELECT 1) AS `ok`;
"""


def test_guard_labels_plain_and_hex(tmp_path: Path) -> None:
    path = tmp_path / "20-apply-nova.sql"
    path.write_text(GUARDED)
    assert guard_at(path, 2) == "step 3: instances: rows are as at generation"
    assert guard_at(path, 5) == "the view's row"
    assert guard_at(path, 1) is None


def test_failure_names_the_guard_and_the_state(tmp_path: Path) -> None:
    path = tmp_path / "20-apply-nova.sql"
    path.write_text(GUARDED)
    stdout = "step\tstate\nstep 2: tags\tpending\nguard\tok\nx\t1\nstep\tstate\nstep 3: instances\tdrift\n"
    run = ClientRun(str(path), 1, stdout, "ERROR 1242 (21000) at line 2: Subquery returns more than 1 row\n")
    assert last_state(stdout) == "step 3: instances was drift"
    assert explain_failure(run) == (
        "guard failed at line 2: step 3: instances: rows are as at generation (step 3: instances was drift)"
    )
    other = ClientRun(str(path), 1, "", "ERROR 1452 (23000) at line 9: Cannot add or update a child row\n")
    assert explain_failure(other) == "ERROR 1452 at line 9: Cannot add or update a child row"
    assert explain_failure(ClientRun(str(path), 1, "", "")) == "client exited 1: no message"


def _report() -> RehearsalReport:
    report = RehearsalReport("20261122T000000Z-vm-purge-12d12d30", "/b", "local", "private MariaDB server")
    report.steps = [
        StepResult("checksums", "every file matches the manifest", PASSED, 0.01),
        StepResult("apply", "shell/controller.sh", SKIPPED, 0, "controller", "shell steps ... not run"),
        StepResult(
            "precheck",
            "sql/10-precheck-nova.sql",
            FAILED,
            0.2,
            "db:nova",
            "guard failed at line 2: x",
            "ERROR 1242",
        ),
        StepResult("apply", "sql/20-apply-nova.sql", NOT_RUN, target="db:nova"),
    ]
    report.seconds = 1.5
    return report


def test_text_json_and_junit() -> None:
    report = _report()
    assert not report.passed
    text = report.to_text()
    assert "FAIL  precheck: sql/10-precheck-nova.sql" in text and "guard failed at line 2: x" in text
    assert "1 later step(s) not run after the failure" in text
    assert text.strip().splitlines()[-1].startswith("FAILED at precheck: sql/10-precheck-nova.sql: 1 passed")
    data = json.loads(report.to_json())
    assert data["counts"] == {PASSED: 1, FAILED: 1, SKIPPED: 1, NOT_RUN: 1} and data["passed"] is False
    suites = ET.fromstring(junit_xml([report, _report()]))
    assert suites.tag == "testsuites" and suites.get("failures") == "2" and len(suites) == 2
    cases = suites[0].findall("testcase")
    assert len(cases) == 4
    assert cases[2].find("failure").get("message") == "guard failed at line 2: x"
    assert cases[1].find("skipped") is not None and cases[3].find("skipped") is not None
