"""Compare a capture with the shipped catalog (`capture --compare`).

Schemas are compared by fingerprint (and listed difference by difference);
file text is judged too, with the parts a sync legitimately varies (index line
order, sync-time timestamps and UUIDs in seed rows) normalised away.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from generator.catalog.packages import MIGRATION_TREES
from generator.schema.ddl import snapshot_from_ddl
from generator.schema.diff import diff_snapshots

DATA_DIR = Path(__file__).parent / "data"


def _sql_body(text: str) -> str:
    """A catalog file without its header comments (which name the capture mode and packages)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("-- "))


_KEY_LINE = ("  KEY ", "  UNIQUE KEY ", "  FULLTEXT KEY ", "  CONSTRAINT ")
_SYNC_TIME = re.compile(r"'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?'")
_UUID = re.compile(r"'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'")


def _sql_normalised(text: str) -> str:
    """`_sql_body` less what legitimately changes from one sync to the next.

    SQLAlchemy emits a table's indexes in set order, which changes from run to
    run (`SHOW CREATE TABLE` keeps creation order), so each table's KEY and
    CONSTRAINT lines are sorted; seed rows carry the time of the sync and
    fresh UUIDs (Cinder's default volume and group types), which are masked.
    """
    out: list[str] = []
    keys: list[str] = []
    for line in _sql_body(text).splitlines():
        if line.startswith(_KEY_LINE):
            keys.append(line.rstrip(","))
            continue
        out += sorted(keys)
        keys = []
        out.append(_UUID.sub("'<uuid>'", _SYNC_TIME.sub("'<time>'", line.rstrip(","))))
    return "\n".join(out + sorted(keys))


def _text_verdict(new_text: str, old_text: str) -> tuple[str, list[str]]:
    """How the captured file's text compares with the shipped one, and the lines that differ."""
    if _sql_body(new_text) == _sql_body(old_text):
        return "text byte-identical", []
    old_lines, new_lines = _sql_normalised(old_text).splitlines(), _sql_normalised(new_text).splitlines()
    if old_lines == new_lines:
        return "text identical but for index order and sync-time timestamps/UUIDs", []
    diff = difflib.unified_diff(old_lines, new_lines, "shipped", "captured", lineterm="", n=0)
    return "text differs in index/FK names or seed rows", [line for line in diff if line[:2] != "@@"]


def compare_with_shipped(entries: dict[str, dict], out_root: Path, shipped: dict) -> int:
    """Print, per database, whether a capture matches the shipped catalog; the count that differ.

    Equal fingerprints mean equal schemas (tables, columns, keys, foreign keys;
    index/FK names left out). The file text is compared too, which also covers
    names and the seed rows, so a report can say "byte-identical" (or
    identical but for index order and sync-time values, see `_sql_normalised`).
    """
    differing = 0
    for name, entry in entries.items():
        ref = shipped.get("releases", {}).get(name)
        for kind in MIGRATION_TREES:
            got = entry["fingerprints"][kind]
            if ref is None:
                print(f"{name} {kind}: DIFFERENT (release not in the shipped catalog)")
                differing += 1
                continue
            new_text = (out_root / name / f"{kind}.sql").read_text()
            old_text = (DATA_DIR / name / f"{kind}.sql").read_text()
            if got == ref["fingerprints"][kind]:
                verdict, lines = _text_verdict(new_text, old_text)
                print(f"{name} {kind}: identical ({got[:19]}...; {verdict})")
                for line in lines[:40]:
                    print(f"    {line}")
                continue
            differing += 1
            shipped_fp = ref["fingerprints"][kind]
            print(f"{name} {kind}: DIFFERENT (shipped {shipped_fp[:19]}..., captured {got[:19]}...)")
            for d in diff_snapshots(snapshot_from_ddl(old_text), snapshot_from_ddl(new_text)):
                print(f"    {d.describe()}")
    print(f"compare: {differing} database(s) differ from the shipped catalog")
    return differing
