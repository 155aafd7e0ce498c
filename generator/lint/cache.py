"""An on-disk cache of lint results, shared by the sqlfluff and shellcheck runners.

Entries are JSON files named by a sha256 key under
`$FIXPACK_CACHE_DIR/<namespace>` (default `~/.cache/fixpack/<namespace>`).
The key covers the tool version and configuration as well as the input, so
upgrading a tool or changing its configuration simply misses. A missing or
unwritable cache only costs time: every error here is swallowed.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def cache_root() -> Path:
    root = os.environ.get("FIXPACK_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "fixpack")
    return Path(root)


def read(directory: Path, key: str) -> Any | None:
    path = directory / key[:2] / f"{key}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write(directory: Path, key: str, value: Any) -> None:
    """Atomic (temporary file + rename), so parallel runs never read half an entry."""
    try:
        target = directory / key[:2]
        target.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(value, fh)
        os.replace(tmp, target / f"{key}.json")
    except OSError:
        pass
