"""Partial live applies: a target instance with many system-metadata rows, and a writer racing the apply.

`apply_until(run, k)` runs the nova apply file up to and including chunk k's
COMMIT and then ends the client, exactly as if the session stopped at that
boundary; the writer then changes a row of a later chunk (`drift_row`), and
the operator re-runs the whole apply, which resumes and stops at the
changed row's chunk.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.rehearse.client import ClientRun, run_sql_file
from generator.seed import Seeder

from .bundles import BundleRun, targets_for


def seed_many_sysmeta(dep, total: int, *, seed: int = 21):
    """A stuck instance (error/deleting) with `total` instance_system_metadata rows, plus bystanders."""
    s = Seeder(dep, seed=seed)
    h1 = s.compute_host("cmp-01")
    for _ in range(3):
        s.instance(host=h1)
    target = s.instance(host=h1, vm_state="error", task_state="deleting", power_state=4, volumes=1)
    s.flush()
    have = dep.query(
        "nova", "SELECT COUNT(*) AS n FROM instance_system_metadata WHERE instance_uuid = %s", (target.uuid,)
    )[0]["n"]
    extra = total - have
    assert extra >= 0
    if extra:
        values = ", ".join(["(UTC_TIMESTAMP() - INTERVAL 3 DAY, NULL, NULL, %s, %s, %s, 0)"] * extra)
        params: list[object] = []
        for i in range(extra):
            params += [f"custom_key_{i:04d}", f"value {i}", target.uuid]
        dep.execute(
            "nova",
            "INSERT INTO instance_system_metadata (created_at, updated_at, deleted_at, `key`, value, "
            f"instance_uuid, deleted) VALUES {values}",
            params,
        )
    return target


def generate(dep, uuid: str, out: Path, chunk_rows: int):
    return generate_vm(
        uuid,
        VmOptions(op="soft-delete"),
        targets_for(dep),
        "auto",
        OutputOptions(out_dir=out, chunk_rows=chunk_rows),
    )


def nova_guards(bundle: Path) -> list[dict]:
    return json.loads((bundle / "data/guards.json").read_text())["databases"]["nova"]["apply"]


def nova_chunks(bundle: Path) -> int:
    return max(g["chunk"] for g in nova_guards(bundle))


@dataclass(frozen=True)
class DriftRow:
    table: str
    id: int
    column: str
    original: object


def drift_row(dep, bundle: Path, chunk: int) -> DriftRow:
    """Another writer changes one row of `chunk` (a column the apply does not set)."""
    g = next(g for g in nova_guards(bundle) if g["chunk"] == chunk and not g["check_only"])
    key = int(re.search(r"IN \(\s*(\d+)", g["key_condition"]).group(1))  # type: ignore[union-attr]
    table = g["table"]
    column = "value" if table == "instance_system_metadata" else "created_at"
    original = dep.query("nova", f"SELECT `{column}` AS v FROM `{table}` WHERE id = %s", (key,))[0]["v"]
    if column == "value":
        dep.execute("nova", f"UPDATE `{table}` SET value = 'changed by another writer' WHERE id = %s", (key,))
    else:
        dep.execute(
            "nova", f"UPDATE `{table}` SET created_at = created_at + INTERVAL 1 SECOND WHERE id = %s", (key,)
        )
    return DriftRow(table, key, column, original)


def put_back(dep, row: DriftRow) -> None:
    dep.execute("nova", f"UPDATE `{row.table}` SET `{row.column}` = %s WHERE id = %s", (row.original, row.id))


def apply_until(run: BundleRun, chunk: int, tmp: Path, *, mid_next: bool = False) -> ClientRun:
    """The nova apply file cut right after chunk `chunk`'s COMMIT: the session ends at that boundary.

    `mid_next`: cut inside the next chunk instead, after its changes and before its COMMIT — the
    client dies mid-transaction and the server rolls that chunk back.
    """
    step = next(s for s in run.manifest["steps"] if s["phase"] == "apply" and s["target"] == "db:nova")
    text = (run.path / step["file"]).read_text()
    marker = f"-- ==== chunk {chunk + 1}/"
    cut = text.index(marker) if marker in text else len(text)
    if mid_next:
        cut = text.index("\nCOMMIT;", cut)
    part = tmp / f"apply-until-{chunk}.sql"
    part.write_text(text[:cut])
    return run_sql_file(run.url_for("db:nova"), part)
