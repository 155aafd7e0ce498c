"""Cinder quota_usages recounted from the rows, the way cinder's own sync functions count.

cinder/db/api.py (_sync_volumes, _sync_gigabytes, _sync_snapshots, _sync_backups,
_sync_backup_gigabytes) with default config:
- volumes / gigabytes: non-deleted volumes of the project with use_quota true (column
  from Xena); gigabytes also adds the volume_size of its non-deleted use_quota snapshots
  (no_snapshot_gb_quota=False);
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


def recount(cur: pymysql.cursors.Cursor, project_id: str, *, use_quota: bool) -> dict[str, int]:
    """The in_use value of every resource a reservation would have created for the project."""
    vq = " AND v.use_quota = 1" if use_quota else ""
    sq = " AND s.use_quota = 1" if use_quota else ""
    out: dict[str, int] = {}
    cur.execute(
        "SELECT t.name, COUNT(*), COALESCE(SUM(v.size), 0) FROM volumes v "
        "JOIN volume_types t ON t.id = v.volume_type_id "
        f"WHERE v.project_id = %s AND v.deleted = 0{vq} GROUP BY t.name",
        (project_id,),
    )
    per_type_vol = {name: (int(n), int(gb)) for name, n, gb in cur.fetchall()}
    cur.execute(
        "SELECT t.name, COUNT(*), COALESCE(SUM(s.volume_size), 0) FROM snapshots s "
        "JOIN volumes v ON v.id = s.volume_id JOIN volume_types t ON t.id = v.volume_type_id "
        f"WHERE s.project_id = %s AND s.deleted = 0{sq} GROUP BY t.name",
        (project_id,),
    )
    per_type_snap = {name: (int(n), int(gb)) for name, n, gb in cur.fetchall()}
    cur.execute(
        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM backups WHERE project_id = %s AND deleted = 0",
        (project_id,),
    )
    backups = cur.fetchone()
    assert backups is not None  # an aggregate without GROUP BY returns one row
    n_backups, backup_gb = backups
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
    if int(n_backups):
        out["backups"] = int(n_backups)
        out["backup_gigabytes"] = int(backup_gb)
    return out


def sync_usages(
    cur: pymysql.cursors.Cursor,
    project_ids: Iterable[str],
    *,
    use_quota: bool,
    race_preventer: bool,
    when: dt.datetime,
) -> int:
    """Insert missing and correct existing quota_usages rows; returns rows touched."""
    touched = 0
    for project_id in sorted(set(project_ids)):
        usage = recount(cur, project_id, use_quota=use_quota)
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
