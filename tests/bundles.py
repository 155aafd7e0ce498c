"""Helpers for tests that generate a bundle and then execute it against a deployment."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from generator.catalog import catalog_snapshot
from generator.connect.sources import ConnectionOptions, ConnectionTargets, resolve
from generator.connect.urls import DatabaseURL
from generator.ops.operations import CheckRows, DeleteRows, InsertRows, UpdateRows
from generator.plan.model import Plan
from generator.rehearse.client import ClientRun, run_sql_file
from generator.rehearse.tables import State, diff_states, table_state
from generator.scratch.deployment import ROLES, Deployment


def targets_for(
    dep: Deployment, *, api: bool = True, placement: bool = True, cinder: bool = True, nova: bool = False
) -> ConnectionTargets:
    urls = {
        "nova_api": dep.url("nova_api").render(with_password=True) if api else None,
        "nova": dep.url("nova").render(with_password=True) if nova else None,
        "placement": dep.url("placement").render(with_password=True) if placement else None,
        "cinder": dep.url("cinder").render(with_password=True) if cinder else None,
    }
    return resolve(ConnectionOptions(urls=urls), env={})


def all_states(dep: Deployment) -> dict[str, State]:
    """Every row of every table of every database of the deployment."""
    return {
        role: table_state(dep.url(role), catalog_snapshot(dep.release, kind)) for role, kind in ROLES.items()
    }


@dataclass
class BundleRun:
    dep: Deployment
    path: Path

    @property
    def manifest(self) -> dict:
        return json.loads((self.path / "manifest.json").read_text())

    def url_for(self, target: str) -> DatabaseURL:
        role = target.removeprefix("db:")
        name = self.manifest["databases"][role]["database_at_generation"]
        for dep_role, dep_name in self.dep.names.items():
            if dep_name == name:
                return self.dep.url(dep_role)
        # offline bundles record no database name: the role names the deployment database
        return self.dep.url(role)

    def run(self, phase: str) -> list[ClientRun]:
        runs = []
        for step in self.manifest["steps"]:
            if step["phase"] == phase and step["kind"] == "sql":
                runs.append(run_sql_file(self.url_for(step["target"]), self.path / step["file"]))
                if not runs[-1].ok:
                    break
        return runs


def assert_all_ok(runs: list[ClientRun]) -> None:
    assert runs, "no SQL step ran"
    for run in runs:
        assert run.ok, f"{run.file} failed ({run.returncode}): {run.stderr.strip()}\n{run.stdout[-800:]}"


def allowed_changes(plan: Plan, dep: Deployment, run: BundleRun) -> dict[tuple[str, str], set[tuple]]:
    """(deployment role, table) -> primary keys the plan may touch."""
    out: dict[tuple[str, str], set[tuple]] = {}
    for op in plan.operations:
        if isinstance(op, CheckRows):
            continue
        url = run.url_for(f"db:{op.database}")
        role = next(r for r, n in dep.names.items() if n == url.database)
        keys = out.setdefault((role, op.table), set())
        if isinstance(op, UpdateRows):
            keys |= {c.before.key(op.key) for c in op.changes or ()}
        elif isinstance(op, DeleteRows | InsertRows):
            keys |= {r.key(op.key) for r in op.rows or ()}
    return out


def assert_only_planned_rows_changed(
    before: dict[str, State], after: dict[str, State], allowed: dict[tuple[str, str], set[tuple]]
) -> int:
    """Every changed row is one the plan names; returns how many rows changed."""
    changed = 0
    for role in before:
        for table, diff in diff_states(before[role], after[role]).items():
            extra = diff.keys - allowed.get((role, table), set())
            assert not extra, f"{role}.{table}: rows changed that the plan does not name: {sorted(extra)[:5]}"
            changed += len(diff.keys)
    return changed


def assert_identical(before: dict[str, State], after: dict[str, State]) -> None:
    for role in before:
        diffs = diff_states(before[role], after[role])
        assert not diffs, f"{role}: tables differ: " + ", ".join(
            f"{t} (changed {len(d.changed)}, added {len(d.added)}, removed {len(d.removed)})"
            for t, d in diffs.items()
        )


def run_offline(run: BundleRun, phase: str) -> list[ClientRun]:
    """Like BundleRun.run, but a capture step writes the rollback file it produces."""
    from generator.rehearse.client import run_sql_file as run_file

    out = []
    for step in run.manifest["steps"]:
        if step["phase"] != phase or step["kind"] != "sql":
            continue
        if step.get("produces"):
            result = run_file(run.url_for(step["target"]), run.path / step["file"], raw=True)
            target = run.path / step["produces"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(result.stdout)
        else:
            result = run_file(run.url_for(step["target"]), run.path / step["file"])
        out.append(result)
        if not result.ok:
            break
    return out


def assert_values_as_planned(plan: Plan, dep: Deployment, run: BundleRun) -> int:
    """Every row another bundle (an offline one, run after `plan` was made live from the same rows)
    changed that `plan` updates holds the live post-image: each planned column the planned value
    (an ApplyTime column: set, i.e. no longer its pre-image value), every other column as before.
    `assert_only_planned_rows_changed` says which rows; this says with which values — what the
    offline planners must share with the live ones (updated_at stamps, the migrated connector).
    Rows `plan` updates that the other bundle left as they were are skipped (what an offline bundle
    cannot do, its warnings say). Returns how many rows were compared."""
    compared = 0
    for op in plan.operations:
        if not isinstance(op, UpdateRows) or not op.changes:
            continue
        url = run.url_for(f"db:{op.database}")
        role = next(r for r, n in dep.names.items() if n == url.database)
        where = " AND ".join(f"`{k}` = %s" for k in op.key)
        volatile = op.apply_time_columns
        for change in op.changes:
            rows = dep.query(role, f"SELECT * FROM `{op.table}` WHERE {where}", change.before.key(op.key))
            assert rows, f"{role}.{op.table} {change.before.key(op.key)}: gone, the plan updates it"
            now = rows[0]
            if all(now[c] == change.before[c] for c in change.before):
                continue
            wrong = {
                c: (change.before[c], change.after[c], now[c])
                for c in change.before
                if (now[c] == change.before[c] if c in volatile else now[c] != change.after[c])
            }
            assert not wrong, f"{role}.{op.table} {change.before.key(op.key)}: (before, planned, now) {wrong}"
            compared += 1
    return compared
