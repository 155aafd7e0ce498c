"""Write a bundle directory atomically: a temporary sibling directory, then rename.

An operator never sees half a bundle: if anything fails (lint refusal, disk
full, a bug) the temporary directory is removed and nothing is left under
`out/`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from generator.bundle.manifest import MANIFEST
from generator.errors import FixpackError


def write_atomically(out_dir: Path, bundle_id: str, files: dict[str, str], manifest: dict) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / bundle_id
    if final.exists():
        raise FixpackError(f"bundle directory already exists: {final}")
    tmp = Path(tempfile.mkdtemp(prefix=f".{bundle_id}.", dir=out_dir))
    try:
        for rel, text in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            if rel.endswith(".sh"):
                path.chmod(0o750)
            else:
                path.chmod(0o640)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        tmp.chmod(0o750)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
