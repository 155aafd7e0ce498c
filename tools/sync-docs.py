"""Write the files docs include verbatim into their fenced blocks (`--check`: only compare).

A block is included with a marker line `<!-- verbatim: PATH -->` directly before its opening
fence; PATH is relative to the repository. tests/db/ci/test_ci_docs.py fails when a block and its file
differ, so the docs always show the recipes that the tests run.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^<!-- verbatim: (\S+) -->\n(`{3,})(\w*)\n(.*?)^\2$", re.M | re.S)


def blocks(doc: Path) -> list[tuple[str, str]]:
    """(included path, block text) for every verbatim block of a document."""
    return [(m.group(1), m.group(4)) for m in MARKER.finditer(doc.read_text(encoding="utf-8"))]


def sync(doc: Path) -> str:
    def fill(m: re.Match) -> str:
        body = (REPO / m.group(1)).read_text(encoding="utf-8")
        return f"<!-- verbatim: {m.group(1)} -->\n{m.group(2)}{m.group(3)}\n{body}{m.group(2)}"

    return MARKER.sub(fill, doc.read_text(encoding="utf-8"))


if __name__ == "__main__":
    check = "--check" in sys.argv
    stale = []
    for doc in sorted((REPO / "docs").glob("*.md")):
        text = sync(doc)
        if text != doc.read_text(encoding="utf-8"):
            stale.append(str(doc.relative_to(REPO)))
            if not check:
                doc.write_text(text, encoding="utf-8")
    print(("stale: " if check else "updated: ") + (", ".join(stale) or "nothing"))
    sys.exit(1 if check and stale else 0)
