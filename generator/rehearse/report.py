"""What a rehearsal found, for a person (text), a pipeline (JSON) and a CI system (JUnit XML).

Each `StepResult` is one thing the rehearsal did: a bundle file run with the
real client in one phase, or one of the rehearsal's own checks (checksums,
loading the scratch databases, "nothing else changed", "rollback restored
identical tables"). A failure carries one line a person can act on — for a
guard, the guard's own label and the state the step printed — and the
client's output for the log.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from typing import Any

PASSED, FAILED, SKIPPED, NOT_RUN = "passed", "failed", "skipped", "not run"


@dataclass
class StepResult:
    # checksums | load | precheck | capture | apply | verify | re-apply | rollback | re-rollback | check
    phase: str
    name: str  # the bundle file, or the check's name
    status: str
    seconds: float = 0.0
    target: str | None = None
    detail: str = ""  # one line: why it failed, was skipped, or what it did
    output: str = ""  # client stdout/stderr tail for a failure

    @property
    def label(self) -> str:
        return f"{self.phase}: {self.name}"


@dataclass
class RehearsalReport:
    bundle_id: str
    bundle_path: str
    backend: str
    server: str  # description, never a password
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.steps) and not any(s.status == FAILED for s in self.steps)

    @property
    def first_failure(self) -> StepResult | None:
        return next((s for s in self.steps if s.status == FAILED), None)

    def counts(self) -> dict[str, int]:
        out = {PASSED: 0, FAILED: 0, SKIPPED: 0, NOT_RUN: 0}
        for s in self.steps:
            out[s.status] = out.get(s.status, 0) + 1
        return out

    # -- renderings --------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        return {
            "bundle_id": self.bundle_id,
            "bundle": self.bundle_path,
            "passed": self.passed,
            "backend": self.backend,
            "server": self.server,
            "seconds": round(self.seconds, 3),
            "counts": self.counts(),
            "steps": [{**asdict(s), "seconds": round(s.seconds, 3)} for s in self.steps],
            "notes": self.notes,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2) + "\n"

    def to_text(self) -> str:
        lines = [
            f"rehearsal of {self.bundle_id}",
            f"  server: {self.server} (backend {self.backend})",
        ]
        width = max((len(s.label) for s in self.steps), default=0)
        not_run = [s for s in self.steps if s.status == NOT_RUN]
        for s in self.steps:
            if s.status == NOT_RUN:
                continue
            mark = {PASSED: "PASS", FAILED: "FAIL", SKIPPED: "skip"}[s.status]
            line = f"  {mark}  {s.label:<{width}}  {s.seconds:6.2f}s"
            if s.detail:
                line += f"  {s.detail}"
            lines.append(line)
        if not_run:
            lines.append(f"  --    {len(not_run)} later step(s) not run after the failure")
        for note in self.notes:
            lines.append(f"  note: {note}")
        failure = self.first_failure
        if failure is not None and failure.output.strip():
            lines.append(f"  output of {failure.name}:")
            lines += ["    " + o for o in failure.output.strip().splitlines()[-15:]]
        c = self.counts()
        verdict = "PASSED" if self.passed else f"FAILED at {failure.label}" if failure else "FAILED"
        lines.append(
            f"{verdict}: {c[PASSED]} passed, {c[FAILED]} failed, {c[SKIPPED]} skipped, "
            f"{c[NOT_RUN]} not run in {self.seconds:.1f}s"
        )
        return "\n".join(lines) + "\n"

    def junit_suite(self) -> ET.Element:
        """One <testsuite> (the bundle), one <testcase> per step."""
        c = self.counts()
        suite = ET.Element(
            "testsuite",
            name=f"fixpack rehearse {self.bundle_id}",
            tests=str(len(self.steps)),
            failures=str(c[FAILED]),
            errors="0",
            skipped=str(c[SKIPPED] + c[NOT_RUN]),
            time=f"{self.seconds:.3f}",
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="bundle", value=self.bundle_path)
        ET.SubElement(props, "property", name="backend", value=self.backend)
        ET.SubElement(props, "property", name="server", value=self.server)
        for s in self.steps:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"fixpack.rehearse.{self.bundle_id}.{s.phase}",
                name=s.name,
                time=f"{s.seconds:.3f}",
            )
            if s.status == FAILED:
                failure = ET.SubElement(case, "failure", message=s.detail or "failed", type=s.phase)
                failure.text = s.output or s.detail
            elif s.status in (SKIPPED, NOT_RUN):
                ET.SubElement(case, "skipped", message=s.detail or s.status)
            elif s.detail:
                ET.SubElement(case, "system-out").text = s.detail
        return suite


def junit_xml(reports: list[RehearsalReport]) -> str:
    """A <testsuites> document: one suite per rehearsed bundle (GitLab, GitHub, Jenkins read it)."""
    root = ET.Element(
        "testsuites",
        name="fixpack rehearse",
        tests=str(sum(len(r.steps) for r in reports)),
        failures=str(sum(r.counts()[FAILED] for r in reports)),
        time=f"{sum(r.seconds for r in reports):.3f}",
    )
    root.extend(r.junit_suite() for r in reports)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
