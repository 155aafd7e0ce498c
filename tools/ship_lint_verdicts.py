"""Rebuild generator/lint/data/verdicts.json: the sqlfluff verdict of every statement shape
the renderer produces for every catalog release (maintainers, at each release / sqlfluff pin).

    python tools/ship_lint_verdicts.py [--check] [--workers N]

The shapes are those of the offline bundles (no database) of every operation and
override set the CLI offers, for every release in the catalog, single and batched:
`release_shapes(release)`. `tests/unit/test_shipped_lint_verdicts.py` calls the same
function and fails when the shipped file misses a shape, holds one no release produces,
or was computed for another sqlfluff version or configuration. Live bundles have
their own statement templates (per-row guards, restores of recorded values); shapes
abstract values, layout, list lengths and table widths (lint/shapes.py), so the live
soft-delete and purge plans of an instance with synthetic rows in every table a live
read fills (`tools/live_shapes.py`, no database) give the shapes real instances' bundles
have. A live shape not shipped all the same (a rehost, a table reached only through
another's rows) is linted at generation as before and kept in the user cache.

`--check` only compares (exit 1 when stale), without running sqlfluff. A rebuild keeps the
verdicts the shipped file already holds for this salt (a key is the hash of the salt and the
exact shape text, so the same key is the same sqlfluff question) and lints only the new shapes;
`--full` lints every shape again.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))  # live_shapes

from generator import catalog  # noqa: E402
from generator.lint.shapes import shape_key, shape_of, skeleton_of, split_statements  # noqa: E402
from generator.lint.shipped import FILE, read_file, salt_digest  # noqa: E402
from generator.lint.sqlfluff_runner import cache_salt, lint_shapes, sqlfluff_version  # noqa: E402
from generator.plan.model import Plan  # noqa: E402
from generator.plan.overrides import OVERRIDES, Overrides  # noqa: E402
from generator.render.sql import DEFAULT_CHUNK_ROWS, render_sql  # noqa: E402

TARGET = Path(ROOT / "generator" / "lint" / "data" / FILE)
UUIDS = (
    "6f1c3a52-0b7e-4d7a-9a51-3c2f1d0e9b11",
    "0d2e4f60-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
    "9b8a7c6d-5e4f-4321-8fed-cba987654321",
)


def _allow(kind: str) -> Overrides:
    return Overrides.of(*(name for name, (users, _) in OVERRIDES.items() if kind in users))


def release_plans(release: str) -> Iterator[Plan]:
    """Every offline plan the CLI can make for `release`: each operation, no overrides and all."""
    from generator.plan.batch import merge_plans
    from generator.plan.vm import VM_OPS
    from generator.plan.vm_common import VmOptions
    from generator.plan.vm_offline import plan_vm_offline
    from generator.plan.volume_common import VolumeOptions
    from generator.plan.volume_offline import plan_volume_offline

    for op in VM_OPS:
        rehost = {"to_host": "cmp-target", "to_node": "cmp-target.example"} if op == "rehost" else {}
        for allow in (Overrides(), _allow("vm")):
            yield plan_vm_offline(UUIDS[0], VmOptions(op=op, allow=allow, **rehost), release)
        if op == "purge":
            yield plan_vm_offline(UUIDS[0], VmOptions(op=op, include_shadow=True), release)
        if op != "rehost":  # --with-cinder: the Cinder step group resolved at run time
            yield plan_vm_offline(UUIDS[0], VmOptions(op=op, with_cinder=True), release)
        if op != "rehost":  # --batch: merged scopes; lists of 2 and of 1000 share their shapes
            options = VmOptions(op=op)
            yield merge_plans([plan_vm_offline(u, options, release) for u in UUIDS[:2]])
    for op, extra in (("reset-detached", "detach_nova"), ("soft-delete", "cascade")):  # offline volume ops
        for allow in (Overrides(), _allow("volume")):
            yield plan_volume_offline(UUIDS[2], VolumeOptions(op=op, allow=allow), release)
        yield plan_volume_offline(UUIDS[2], VolumeOptions(op=op, **{extra: True}), release)


def plan_shapes(plan: Plan, salt: str) -> dict[str, str]:
    """{shape key: shape} of the SQL files a bundle of `plan` writes, as lint_files computes them."""
    sql_files, _ = render_sql(plan, DEFAULT_CHUNK_ROWS)
    targets = frozenset(plan.targets)
    out: dict[str, str] = {}
    for f in sql_files:
        if f.produced_by:  # written at run time, not linted at generation
            continue
        for statement in split_statements(f.path, f.text):
            shape = shape_of(skeleton_of(statement.text, targets))
            out[shape_key(shape, salt)] = shape
    return out


def release_shapes(release: str, salt: str) -> dict[str, str]:
    """Offline plans and live plans on synthetic rows (tools/live_shapes.py) of one release."""
    from live_shapes import live_plans

    out: dict[str, str] = {}
    for plan in release_plans(release):
        out.update(plan_shapes(plan, salt))
    for plan in live_plans(release):
        out.update(plan_shapes(plan, salt))
    return out


def all_shapes(salt: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """({release: sorted shape keys}, {shape key: shape}) over the whole catalog."""
    per_release: dict[str, list[str]] = {}
    shapes: dict[str, str] = {}
    names = [rel.name for rel in catalog.releases()]
    with ProcessPoolExecutor(max_workers=min(2, len(names))) as pool:  # rendering is CPU-bound
        for name, found in zip(names, pool.map(release_shapes, names, [salt] * len(names)), strict=True):
            per_release[name] = sorted(found)
            shapes.update(found)
    return per_release, shapes


def stale_reasons(data: dict | None, salt: str, per_release: dict[str, list[str]]) -> list[str]:
    """Why the shipped document does not match what this code renders (empty: up to date)."""
    if data is None:
        return [f"{TARGET.relative_to(ROOT)} is missing or unreadable"]
    reasons = []
    if data.get("salt") != salt_digest(salt):
        reasons.append(
            f"computed for sqlfluff {data.get('sqlfluff')} / another configuration "
            f"(now sqlfluff {sqlfluff_version()})"
        )
    shipped_releases = data.get("releases", {})
    verdicts = data.get("verdicts", {})
    for rel, keys in per_release.items():
        missing = [k for k in keys if k not in verdicts]
        if missing or sorted(shipped_releases.get(rel, [])) != keys:
            reasons.append(f"release {rel}: {len(missing)} shape(s) without a verdict, shape list differs")
    extra = set(shipped_releases) - set(per_release)
    if extra:
        reasons.append(f"releases no longer in the catalog: {', '.join(sorted(extra))}")
    unused = set(verdicts) - {k for keys in per_release.values() for k in keys}
    if unused:
        reasons.append(f"{len(unused)} verdict(s) for shapes no release produces")
    return reasons


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when stale")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--full", action="store_true", help="lint every shape, reusing nothing")
    args = parser.parse_args()
    salt = cache_salt()
    t0 = time.perf_counter()
    per_release, shapes = all_shapes(salt)
    print(f"{len(shapes)} distinct shapes over {len(per_release)} releases ({time.perf_counter() - t0:.1f}s)")
    if args.check:
        reasons = stale_reasons(read_file(), salt, per_release)
        for r in reasons:
            print(f"stale: {r}")
        return 1 if reasons else 0
    t0 = time.perf_counter()
    shipped = read_file() or {}
    known: dict = {}
    if not args.full and shipped.get("salt") == salt_digest(salt):
        known = {k: v for k, v in shipped.get("verdicts", {}).items() if k in shapes}
    fresh, _ = lint_shapes(
        {k: v for k, v in shapes.items() if k not in known}, use_cache=False, workers=args.workers
    )
    verdicts = {**known, **fresh}
    print(
        f"linted {len(fresh)} shape(s) in {time.perf_counter() - t0:.1f}s ({len(known)} kept from the shipped"
        f" file); {sum(1 for v in verdicts.values() if v)} with findings"
    )
    document = {
        "about": "sqlfluff verdicts of every statement shape fixpack renders; tools/ship_lint_verdicts.py",
        "sqlfluff": sqlfluff_version(),
        "salt": salt_digest(salt),
        "releases": per_release,
        "verdicts": {k: verdicts[k] for k in sorted(verdicts)},
    }
    tmp = TARGET.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=0, sort_keys=True) + "\n")
    tmp.replace(TARGET)
    print(f"wrote {TARGET.relative_to(ROOT)} ({TARGET.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
