"""Run the differential tests for one release and keep what they showed under docs/evidence/.

CI runs the differential tests (tests/db/plan/test_differential_*.py) for 2026.2 only; older releases
need their own Python and cached service venvs, too slow for every run. This script runs them for
the release given (FIXPACK_DIFF_RELEASE, tests/differential.py) and writes
docs/evidence/<release>/differential.md and .json: the commit and whether the tree was dirty (with
the uncommitted diff), the date, the service package versions, each test's outcome, and a hash of
every file the evidence covers. tests/unit/test_differential_evidence.py fails once those files
change, so the evidence cannot silently describe code that is no longer there.

usage: .venv/bin/python tools/differential_evidence.py --release 2023.1
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVIDENCE = ROOT / "docs" / "evidence"
# What the evidence vouches for: the planners and the upstream mirrors the comparison is made
# with. Not generator/render/ (rewritten often; see tests/unit/test_differential_evidence.py).
COVERED = (
    "generator/plan/*.py",
    "tests/upstream/*.py",
    "tests/differential.py",
    "tests/db/plan/test_differential_*.py",
)
LIBRARIES = ("nova", "cinder", "SQLAlchemy", "oslo.db", "oslo.utils", "PyMySQL")


def code_digest(path: Path) -> str:
    """sha256 of what the file runs: its AST with docstrings dropped, unparsed (so comments,
    docstrings and formatting do not count, any change to the code does)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    return hashlib.sha256(ast.unparse(tree).encode()).hexdigest()


def covered_files(root: Path = ROOT) -> dict[str, str]:
    """Repository-relative path -> code digest of every covered file."""
    paths = sorted({p for pattern in COVERED for p in root.glob(pattern) if p.is_file()})
    return {p.relative_to(root).as_posix(): code_digest(p) for p in paths}


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def library_versions(venv: Path) -> dict[str, str]:
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wanted = {n.lower() for n in LIBRARIES}
    found = {p["name"]: p["version"] for p in json.loads(out) if p["name"].lower() in wanted}
    python = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return {"python": python, **found}


def outcomes(junit: Path) -> list[dict]:
    """One entry per test case of pytest's JUnit XML: passed, failed, xfailed or skipped, with why."""
    cases = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        result, reason = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                result, reason = "failed", (child.get("message") or "").splitlines()[0][:300]
            elif child.tag == "skipped":
                xfail = child.get("type") == "pytest.xfail"
                result, reason = ("xfailed" if xfail else "skipped"), child.get("message") or ""
        name = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        seconds = round(float(case.get("time") or 0), 1)
        cases.append({"test": name, "result": result, "reason": reason, "seconds": seconds})
    return cases


def run_tests(release: str, files: list[str]) -> list[dict]:
    env = {**os.environ, "FIXPACK_DIFF_RELEASE": release}
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:xdist",
            "-q",
            "-rfEsxX",
            f"--junitxml={junit}",
            *files,
        ]
        print("$ FIXPACK_DIFF_RELEASE=" + release + " " + " ".join(cmd[1:]), flush=True)
        subprocess.run(cmd, cwd=ROOT, env=env, check=False)
        if not junit.exists():
            raise SystemExit("pytest wrote no report: see its output above")
        return outcomes(junit)


def render_md(ev: dict) -> str:
    dirty = "yes: " + ", ".join(ev["dirty_files"]) + " (diff in the .json)" if ev["dirty"] else "no"
    venvs = "; ".join(
        f"{pkg}: " + ", ".join(f"{k} {v}" for k, v in libs.items()) for pkg, libs in ev["packages"].items()
    )
    rows = [
        f"| `{c['test']}` | {c['result']} | {c['seconds']} | {c['reason'].replace('|', '/')} |"
        for c in ev["tests"]
    ]
    return "\n".join(
        [
            f"# Differential tests, release {ev['release']}",
            "",
            f"Produced by `{ev['command']}` (tools/differential_evidence.py) at commit `{ev['commit']}`"
            f" on {ev['date']}. Uncommitted changes: {dirty}.",
            "",
            f"Service venvs: {venvs}.",
            "",
            f"Result: {ev['summary']}.",
            "",
            "| test | result | seconds | why |",
            "| --- | --- | --- | --- |",
            *rows,
            "",
            "Where the release's code differs from 2026.2, the upstream scripts say how they follow it",
            "(docstrings of tests/upstream/*.py; the xfail's reason above). The evidence covers",
            f"{len(ev['covered'])} files, their code digests in the .json: {', '.join(COVERED)}.",
            "tests/unit/test_differential_evidence.py fails when one changes, is added or removed: then",
            "re-run the command above. Not covered: generator/render/ and the rest of fixpack.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", required=True, help="catalog release, e.g. 2023.1")
    parser.add_argument("--out", type=Path, default=EVIDENCE)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from tests.differential import service_venv

    files = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("tests/db/plan/test_differential_*.py"))
    venvs = {pkg: service_venv(pkg, args.release) for pkg in ("nova", "cinder")}
    status = [line[3:] for line in git("status", "--porcelain").splitlines() if line.strip()]
    covered_before = covered_files()
    tests = run_tests(args.release, files)
    if covered_files() != covered_before:
        raise SystemExit("covered files changed while the tests ran: run again")
    counts: dict[str, int] = {}
    for case in tests:
        counts[case["result"]] = counts.get(case["result"], 0) + 1
    ev = {
        "release": args.release,
        "command": f"python tools/differential_evidence.py --release {args.release}",
        "commit": git("rev-parse", "HEAD").strip(),
        "dirty": bool(status),
        "dirty_files": status,
        "dirty_diff": git("diff", "HEAD") if status else "",
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "packages": {pkg: library_versions(v) for pkg, v in venvs.items()},
        "summary": ", ".join(f"{n} {r}" for r, n in sorted(counts.items())),
        "tests": tests,
        "digests_by": f"tools/differential_evidence.py code_digest, Python {sys.version.split()[0]}",
        "covered": covered_before,
    }
    out = args.out / args.release
    out.mkdir(parents=True, exist_ok=True)
    (out / "differential.json").write_text(json.dumps(ev, indent=1) + "\n")
    (out / "differential.md").write_text(render_md(ev))
    print(f"wrote {out}/differential.md and .json: {ev['summary']}")
    return 0 if counts.get("failed", 0) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
