"""Cinder quota_usages written for the seeded rows, the way cinder's own sync functions count.

The counting is domain/cinder_quota.py's (the one implementation of the release-aware recount);
this module only decides which rows exist. cinder/db/api.py (_sync_volumes, _sync_gigabytes,
_sync_snapshots, _sync_backups, _sync_backup_gigabytes) with default config:
- volumes / gigabytes: non-deleted volumes of the project Cinder counts (use_quota, and
  before 2024.1 no migration destination or temporary volume); gigabytes also adds the
  volume_size of its counted non-deleted snapshots (no_snapshot_gb_quota=False);
- per volume type: `volumes_<type name>` / `gigabytes_<type name>` the same filtered by
  volume_type_id — for snapshots via the snapshot's *volume's* type (a join), and
  `snapshots_<type name>`;
- backups / backup_gigabytes: count / sum(size) of non-deleted backups.
Rows exist only for resources a reservation ever touched (volume create reserves
volumes+gigabytes(+_type), snapshot create snapshots+gigabytes(+_type), backup create
backups+backup_gigabytes), so only those are created; existing rows are recounted.
race_preventer (Wallaby+) defaults to true in cinder's model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pymysql

from generator.domain import cinder_quota


def recount(cur: pymysql.cursors.Cursor, project_id: str, release: str) -> dict[str, int]:
    """The in_use value of every resource a reservation would have created for the project.

    Counted by the one implementation of Cinder's recount (domain/cinder_quota.py `usage_queries`,
    release-aware, the aggregates the live planners and the scan read); tests/test_seed.py
    checks the result against its own, independent re-implementation (the oracle)."""
    results: dict[str, list[dict]] = {}
    for kind, sql in cinder_quota.usage_queries(release, [project_id], None).items():
        cur.execute(sql)
        names = [d[0] for d in cur.description]
        results[kind] = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    counts = cinder_quota.counts_from_rows(results).get(project_id, cinder_quota.UsageCounts())
    cur.execute("SELECT id, name FROM volume_types")
    type_name = {type_id: name for type_id, name in cur.fetchall()}
    per_type_vol = {type_name[t]: v for t, v in counts.volumes.items() if t in type_name}
    per_type_snap = {type_name[t]: v for t, v in counts.snapshots.items() if t in type_name}
    out: dict[str, int] = {}
    snap_total = sum(n for n, _ in per_type_snap.values())
    snap_gb = sum(gb for _, gb in per_type_snap.values())
    if per_type_vol or per_type_snap:
        out["volumes"] = sum(n for n, _ in per_type_vol.values())
        out["gigabytes"] = sum(gb for _, gb in per_type_vol.values()) + snap_gb
    for name in sorted(set(per_type_vol) | set(per_type_snap)):
        out[f"volumes_{name}"] = per_type_vol.get(name, (0, 0))[0]
        out[f"gigabytes_{name}"] = per_type_vol.get(name, (0, 0))[1] + per_type_snap.get(name, (0, 0))[1]
    if per_type_snap:
        out["snapshots"] = snap_total
        for name, (n, _) in sorted(per_type_snap.items()):
            out[f"snapshots_{name}"] = n
    n_backups, backup_gb = counts.backups
    if n_backups:
        out["backups"] = n_backups
        out["backup_gigabytes"] = backup_gb
    return out


def sync_usages(
    cur: pymysql.cursors.Cursor,
    project_ids: Iterable[str],
    *,
    release: str,
    race_preventer: bool,
    when: dt.datetime,
) -> int:
    """Insert missing and correct existing quota_usages rows; returns rows touched."""
    touched = 0
    for project_id in sorted(set(project_ids)):
        usage = recount(cur, project_id, release)
        cur.execute(
            "SELECT id, resource FROM quota_usages WHERE project_id = %s AND deleted = 0",
            (project_id,),
        )
        existing = {resource: row_id for row_id, resource in cur.fetchall()}
        for resource in existing:
            usage.setdefault(resource, 0)
        inserts = []
        for resource, in_use in sorted(usage.items()):
            if resource in existing:
                cur.execute(
                    "UPDATE quota_usages SET in_use = %s, updated_at = %s WHERE id = %s",
                    (in_use, when, existing[resource]),
                )
            else:
                inserts.append((when, when, project_id, resource, in_use))
            touched += 1
        if inserts:
            cols = (
                "created_at, updated_at, deleted_at, deleted, project_id, resource, in_use, reserved, "
                "until_refresh"
            )
            vals = "%s, %s, NULL, 0, %s, %s, %s, 0, NULL"
            if race_preventer:
                cols += ", race_preventer"
                vals += ", 1"
            cur.executemany(f"INSERT INTO quota_usages ({cols}) VALUES ({vals})", inserts)
    return touched
