"""manifest.json: what a machine needs to run, check and rehearse a bundle.

`steps` is the ordered run list (file, kind, phase, target, purpose); `files`
maps every other file of the bundle to its sha256, so `fixpack verify` can
report tampering by file. The manifest cannot hash itself. README.md names the
bundle digest (bundle/digest.py), so its entry is the sha256 of its placeholder
form, and `digest` is filled in when the bundle is sealed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from generator import __version__
from generator.plan.model import Plan
from generator.render.files import RenderedFile

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def sha256_text(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def manifest_text(manifest: Mapping[str, object]) -> str:
    """manifest.json as written (the bundle digest hashes exactly these bytes)."""
    return json.dumps(manifest, indent=2) + "\n"


def build_manifest(
    plan: Plan,
    bundle_id: str,
    created_at: str,
    steps: list[RenderedFile],
    files: Mapping[str, str],
    lint: Mapping[str, object],
) -> dict:
    return {
        "format": FORMAT_VERSION,
        "fixpack_version": __version__,
        "bundle_id": bundle_id,
        "created_at": created_at,
        "target": {"kind": plan.target_kind, "op": plan.op, "ids": list(plan.targets)},
        "mode": plan.mode,
        "release": plan.release,
        "databases": {
            db.role: {
                "label": db.label,
                "release": db.release,
                "schema_fingerprint": db.schema_fingerprint,
                "database_at_generation": db.database,
                "release_detection": db.detection,
            }
            for db in plan.databases
        },
        "options": {k: v for k, v in plan.options.items() if isinstance(v, str | int | float | bool | None)},
        "steps": [
            {
                k: v
                for k, v in {
                    "file": f.path,
                    "kind": f.kind,
                    "phase": f.phase,
                    "target": f.target,
                    "purpose": f.purpose,
                    "rows": f.rows,
                    "produces": f.produces,
                    "produced_by": f.produced_by,
                }.items()
                if v is not None
            }
            for f in steps
        ],
        "files": {path: sha256_text(text) for path, text in sorted(files.items())},
        "lint": dict(lint),
        "findings": list(plan.findings),
        "warnings": list(plan.warnings),
    }
