"""Lint verdicts shipped in the wheel: a first run is as fast as a warm one.

sqlfluff costs seconds per bundle on an empty cache (importing it alone ~1 s, then
tens of ms per statement shape). The renderer produces a bounded set of shapes per
catalog release, so the release process lints them all once (`tools/ship_lint_verdicts.py`)
and ships `data/verdicts.json`: `{shape key: violations}`. A shape key is
`sha256(salt + shape)` where the salt holds the sqlfluff version, its configuration
and the excluded rules (`sqlfluff_runner.cache_salt`), so a shipped verdict is used only
by the exact sqlfluff and configuration it was computed with; the file also records the
salt's digest and is ignored whole when it differs. Any shape not in the file is
linted as before (user cache, then sqlfluff). `tests/unit/test_shipped_lint_verdicts.py`
regenerates every release's shapes and fails when the file is stale or misses one.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import resources
from typing import Any

FILE = "verdicts.json"


def salt_digest(salt: str) -> str:
    return hashlib.sha256(salt.encode()).hexdigest()


def read_file() -> dict[str, Any] | None:
    """The shipped document, or None when absent or unreadable (then nothing is shipped)."""
    try:
        text = (resources.files("generator.lint") / "data" / FILE).read_text()
        data = json.loads(text)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@functools.lru_cache(maxsize=4)
def verdicts(salt: str) -> dict[str, list[dict]]:
    """{shape key: violations} shipped for this exact salt (empty when it does not match)."""
    data = read_file()
    if data is None or data.get("salt") != salt_digest(salt):
        return {}
    found = data.get("verdicts")
    return found if isinstance(found, dict) else {}
