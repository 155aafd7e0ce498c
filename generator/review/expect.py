"""`fixpack verify BUNDLE --expect DIGEST`: is the bundle on disk byte for byte the one reviewed?

The reviewer signs the change table, which carries the bundle digest
(`bundle/digest.py`). Before the change window the operator passes that digest:
any file changed, added or removed since — SQL, shell, data, the runbook or the
manifest — gives a different digest, and the check fails naming the file(s).

The check reads the directory alone, before the manifest is trusted for
anything: the digest covers the manifest too, so the manifest is only used
afterwards, to say which file differs.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from generator.bundle import digest as bundle_digest

DIGEST_FORMAT = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class ExpectResult:
    expected: str
    found: str
    problem: str | None  # None: byte for byte the reviewed bundle

    @property
    def matches(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict[str, object]:
        return {
            "expected": self.expected,
            "found": self.found,
            "matches": self.matches,
            "problem": self.problem,
        }


def _files(root: Path) -> tuple[dict[str, bytes], list[str]]:
    """Every covered regular file's bytes, and what is not a regular file (links, devices)."""
    files: dict[str, bytes] = {}
    odd: list[str] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not bundle_digest.covered(rel) or (path.is_dir() and not path.is_symlink()):
            continue
        if path.is_symlink() or not path.is_file():
            odd.append(rel)
            continue
        files[rel] = path.read_bytes()
    return files, odd


def _listed(files: dict[str, bytes]) -> dict[str, str]:
    try:
        manifest = json.loads(files.get(bundle_digest.MANIFEST, b"").decode("utf-8"))
        listed = manifest.get("files") if isinstance(manifest, dict) else None
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v for k, v in listed.items() if isinstance(v, str)} if isinstance(listed, dict) else {}


def _which(files: dict[str, bytes], normal: dict[str, bytes]) -> list[str]:
    """What differs from the manifest's own record; the manifest itself when it agrees with the files."""
    listed = _listed(files)
    out = [f"{rel} removed" for rel in sorted(listed) if rel not in files]
    for rel in sorted(files):
        if rel == bundle_digest.MANIFEST:
            continue
        if rel not in listed:
            out.append(f"{rel} added")
        elif "sha256:" + hashlib.sha256(normal[rel]).hexdigest() != listed[rel]:
            out.append(f"{rel} changed")
    return out or [f"{bundle_digest.MANIFEST} changed"]


def check_expected(root: Path, expected: str) -> ExpectResult:
    """Compare the directory with the digest the reviewer signed."""
    files, odd = _files(root)
    normal = {rel: bundle_digest.normalized(rel, data, expected) for rel, data in files.items()}
    found = bundle_digest.digest_of(normal)
    problems: list[str] = [f"{rel} is not a regular file" for rel in odd]
    if b"\0" in files.get(bundle_digest.README, b""):
        problems.append(f"{bundle_digest.README} holds a NUL byte")
    if found != expected:
        problems += _which(files, normal)
    else:
        try:
            recorded = json.loads(files[bundle_digest.MANIFEST].decode("utf-8")).get("digest")
        except (KeyError, UnicodeDecodeError, ValueError, AttributeError):
            recorded = None
        if recorded != expected:
            problems.append(f"{bundle_digest.MANIFEST} does not record this digest")
    if not problems:
        return ExpectResult(expected, found, None)
    shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
    return ExpectResult(
        expected,
        found,
        f"{root.name} is not the bundle reviewed ({shown}): digest on disk {found}, expected {expected}",
    )
