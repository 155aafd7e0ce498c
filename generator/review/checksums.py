"""Offline half of `fixpack verify`: every file of a bundle against its manifest sha256.

The manifest lists a sha256 for every file it ships. A file whose bytes
differ (a hand edit, a one-byte tamper, an editor's line-ending change), a
listed file that is gone, and an executable-looking file the manifest does
not know (a `.sql` or `.sh` someone added) are each reported by path. Files
a step writes at run time (an offline bundle's captured rollback) are
expected to appear; each is checked against the `.sha256` its capture command
wrote beside it, and one that differs is MODIFIED. Other extra files (an
operator's saved output, notes) are listed but do not fail the check.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

from generator.bundle import digest as bundle_digest
from generator.bundle.manifest import MANIFEST
from generator.review.bundle import Bundle

OK, MODIFIED, MISSING, UNLISTED = "ok", "modified", "missing", "unlisted"
EXTRA, PRODUCED, CAPTURED = "extra", "produced", "captured"
CAPTURE_SUM = ".sha256"  # written by the runbook's capture command beside each captured file
CAPTURE_MODIFIED = "capture-modified"
FAILING = frozenset({MODIFIED, MISSING, UNLISTED, CAPTURE_MODIFIED})
_RUNNABLE_SUFFIXES = (".sql", ".sh", ".json")
_RUNNABLE_DIRS = ("sql/", "shell/", "data/")


@dataclass(frozen=True)
class FileCheck:
    path: str
    status: str  # ok | modified | missing | unlisted | extra | produced | captured
    expected: str | None = None
    found: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILING

    def describe(self) -> str:
        if self.status == MODIFIED:
            return f"{self.path}: MODIFIED since generation (manifest {self.expected}, file {self.found})"
        if self.status == MISSING:
            return f"{self.path}: MISSING (the manifest lists it)"
        if self.status == UNLISTED:
            return f"{self.path}: NOT IN THE MANIFEST (SQL, shell and data files cannot be added)"
        if self.status == EXTRA:
            return f"{self.path}: not in the manifest (ignored: not SQL, shell or data)"
        if self.status == PRODUCED:
            if self.found and not self.path.endswith(CAPTURE_SUM):
                return f"{self.path}: written at run time by a capture step, with no {CAPTURE_SUM} beside it"
            return f"{self.path}: written at run time by a capture step"
        if self.status == CAPTURE_MODIFIED:
            return (
                f"{self.path}: MODIFIED since its capture ({CAPTURE_SUM} {self.expected}, "
                f"file {self.found}): do not run it"
            )
        if self.status == CAPTURED:
            return f"{self.path}: captured at run time; matches its {CAPTURE_SUM}"
        return f"{self.path}: ok"

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def sha256_listed(bundle: Bundle, rel: str) -> str:
    """A listed file's sha256 as the manifest records it: README.md names the bundle digest, so its
    entry is over the text with the digest as the placeholder (bundle/digest.py). A README.md with a
    NUL byte is hashed as it is: the placeholder can never be forged into it."""
    path = bundle.file(rel)
    recorded = bundle.manifest.get("digest")
    if rel != bundle_digest.README or not isinstance(recorded, str) or not recorded:
        return sha256_file(path)
    data = path.read_bytes()
    if b"\0" not in data:
        data = bundle_digest.normalized(rel, data, recorded)
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_captured(bundle: Bundle, rel: str) -> FileCheck:
    """A file a capture step wrote, against the `<file>.sha256` the runbook's capture command wrote
    beside it (sha256sum format): a captured rollback edited after the capture is MODIFIED."""
    found = sha256_file(bundle.file(rel))
    sums = bundle.file(rel + CAPTURE_SUM)
    if not sums.is_file():
        return FileCheck(rel, PRODUCED, found=found)
    fields = sums.read_text(encoding="utf-8", errors="replace").split()
    expected = "sha256:" + fields[0].lower() if len(fields) == 2 and fields[1] == rel else "unreadable"
    return FileCheck(rel, CAPTURED if expected == found else CAPTURE_MODIFIED, expected, found)


def check_files(bundle: Bundle) -> list[FileCheck]:
    """One FileCheck per listed file and per file found on disk, sorted by path."""
    listed: dict[str, str] = dict(bundle.manifest["files"])
    produced = bundle.produced_at_run_time
    out: dict[str, FileCheck] = {}
    for rel, expected in listed.items():
        path = bundle.file(rel)
        if not path.is_file():
            out[rel] = FileCheck(rel, MISSING, expected)
            continue
        found = sha256_listed(bundle, rel)
        out[rel] = FileCheck(rel, OK if found == expected else MODIFIED, expected, found)
    for step in bundle.steps:
        rel = step["file"]
        if rel not in listed and rel not in produced:
            # a step the manifest runs but does not hash: as bad as an added file
            out[rel] = FileCheck(rel, UNLISTED if bundle.file(rel).is_file() else MISSING)
    for path in sorted(p for p in bundle.path.rglob("*") if p.is_file()):
        rel = path.relative_to(bundle.path).as_posix()
        if rel == MANIFEST or rel in out:
            continue
        if rel in produced:
            out[rel] = check_captured(bundle, rel)
        elif rel.removesuffix(CAPTURE_SUM) in produced:
            out[rel] = FileCheck(rel, PRODUCED)
        elif rel.endswith(_RUNNABLE_SUFFIXES) or rel.startswith(_RUNNABLE_DIRS):
            out[rel] = FileCheck(rel, UNLISTED, found=sha256_file(path))
        else:
            out[rel] = FileCheck(rel, EXTRA)
    return [out[k] for k in sorted(out)]
