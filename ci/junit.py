"""Summarise ci/check-bundles.sh's per-bundle results: one line per bundle, and JUnit XML.

Standard library only (any python3 runs it). `junit.py report DIR` reads DIR/bundles/N/
(path, problem, verify/lint/rehearse .out and .rc, rehearse.xml), writes DIR/junit.xml with one
<testsuite> per bundle, prints a verdict per bundle and exits 1 if any failed.
`junit.py error DIR MESSAGE` writes a junit.xml whose one failure is MESSAGE (the job could not
check anything), so the CI's test report shows why.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def _verdict(output: str) -> str:
    """What a reviewer needs from a command's output: the files verify named, the lint findings, or
    the rehearsal's FAILED line and its failing step's reason (e.g. `cannot reach the server`)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    files = [line for line in lines if re.search(r": (MODIFIED|MISSING)\b|not in the manifest \(", line)]
    findings = [line for line in lines if re.match(r"\S+:\d+: ", line)]
    verdicts = [line for line in lines if line.startswith("FAILED")]
    steps = [
        re.sub(r"^FAIL\s+(.*?)\s+[\d.]+s\s+", r"\1: ", line) for line in lines if line.startswith("FAIL ")
    ]
    picked = files[:3] + findings[:3] + verdicts[-1:] + steps[:1]
    return "; ".join(picked) or (lines[-1] if lines else "no output")


def _case(
    suite: ET.Element, name: str, *, failure: str | None = None, skipped: str | None = None, output: str = ""
) -> None:
    case = ET.SubElement(suite, "testcase", classname=f"fixpack.{suite.get('name')}", name=name)
    if failure is not None:
        ET.SubElement(case, "failure", message=failure, type=name).text = output or failure
    elif skipped is not None:
        ET.SubElement(case, "skipped", message=skipped)
    elif output:
        ET.SubElement(case, "system-out").text = output


def bundle_suite(result: Path) -> tuple[ET.Element, str | None]:
    """One bundle's <testsuite>, and why it failed (None when it passed)."""
    path = _read(result / "path").strip()
    suite = ET.Element("testsuite", name=path)
    problem = _read(result / "problem").strip()
    if problem:
        _case(suite, "manifest", failure=problem)
        return suite, problem
    why = None
    for step in ("verify", "lint"):
        out = _read(result / f"{step}.out")
        if _read(result / f"{step}.rc").strip() == "0":
            _case(suite, step, output=out)
        else:
            message = f"{step} failed: {_verdict(out)}"
            _case(suite, step, failure=message, output=out)
            why = why or message
    if why is not None:
        _case(suite, "rehearse", skipped=f"not rehearsed: {why.split(':')[0]}")
        return suite, f"{why} (not rehearsed)"
    out = _read(result / "rehearse.out")
    xml = result / "rehearse.xml"
    if xml.exists():
        for case in ET.parse(xml).getroot().iter("testcase"):
            suite.append(case)
    if _read(result / "rehearse.rc").strip() != "0":
        message = f"rehearse failed: {_verdict(out)}"
        if not xml.exists():
            _case(suite, "rehearse", failure=message, output=out)
        return suite, message
    return suite, None


def _write(report: Path, suites: list[ET.Element]) -> None:
    root = ET.Element("testsuites", name="fixpack check-bundles")
    for suite in suites:
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
        root.append(suite)
    ET.indent(root)
    (report / "junit.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n", "utf-8"
    )


def report(report_dir: Path) -> int:
    results = sorted((report_dir / "bundles").iterdir(), key=lambda p: int(p.name))
    suites, failed = [], []
    for result in results:
        suite, why = bundle_suite(result)
        suites.append(suite)
        name = suite.get("name")
        print(f"check-bundles: {name}: " + (f"FAILED: {why}" if why else "PASSED (verify, lint, rehearse)"))
        if why:
            failed.append(name)
    _write(report_dir, suites)
    if results:
        print(
            f"check-bundles: {len(results)} bundle(s) checked: {len(results) - len(failed)} passed, "
            f"{len(failed)} failed" + (f" ({', '.join(failed)})" if failed else "")
        )
    return 1 if failed else 0


def error(report_dir: Path, message: str) -> int:
    suite = ET.Element("testsuite", name="check-bundles")
    _case(suite, "find the changed bundles", failure=message)
    _write(report_dir, [suite])
    return 0


if __name__ == "__main__":
    mode, directory = sys.argv[1], Path(sys.argv[2])
    sys.exit(report(directory) if mode == "report" else error(directory, " ".join(sys.argv[3:])))
