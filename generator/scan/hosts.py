"""instance-on-missing-host's read: live instances whose host has no live nova-compute service.

Kept apart from context.py because the obvious SQL is wrong on MariaDB (see below) and the
cheap form takes a few steps.
"""

from __future__ import annotations

from typing import Any

from generator.connect.session import Session

_IN_CHUNK = 5000  # hosts per IN list
_LIVE = "(i.deleted = 0 OR i.deleted IS NULL)"


def live_without_service(session: Session) -> list[dict[str, Any]]:
    """Rows (id, uuid, host, node, vm_state, power_state, task_state) of one cell's live
    instances whose host has no live nova-compute service row, hosts compared byte for byte
    (as Nova and Python compare them), in id order; only what is about to be reported crosses the network."""
    # The distinct host values (bytes) of live instances, grouped in order along the
    # (host, deleted, cleaned) index (no temporary table: each group's lowest and highest
    # bytes; only a group spelled several ways is asked for its spellings), and those of
    # live nova-compute services; their difference is taken here, as bytes. Not in SQL:
    # MariaDB 10.11 rewrites `s.host = i.host AND CAST(s.host AS BINARY) = CAST(i.host AS
    # BINARY)` through the case-insensitive equality, so 'CMP-1' matched 'cmp-1'.
    # Then the instances on the missing hosts (none on a healthy cloud), by the host index.
    live = _LIVE
    used: dict[bytes, str] = {}  # each spelling -> its group's host as the driver decoded it
    groups = session.query_tuples(
        "SELECT i.host, MIN(CAST(i.host AS BINARY)), MAX(CAST(i.host AS BINARY)) FROM instances AS i "
        f"WHERE ({live}) AND i.host IS NOT NULL GROUP BY i.host"
    )
    for host, low, high in groups:
        if low == high:  # the usual case: one spelling of the host
            used[bytes(low)] = host
            continue
        used.update(  # spellings equal under the collation (case, trailing space): each one
            (bytes(r[0]), host)
            for r in session.query_tuples(
                f"SELECT DISTINCT CAST(i.host AS BINARY) FROM instances AS i WHERE ({live}) AND i.host = %s",
                (host,),
            )
        )
    served = session.query_tuples(
        "SELECT DISTINCT CAST(host AS BINARY) FROM services "
        "WHERE `binary` = 'nova-compute' AND deleted = 0 AND host IS NOT NULL"
    )
    missing = sorted(set(used) - {bytes(r[0]) for r in served})
    rows: list[dict[str, Any]] = []
    for start in range(0, len(missing), _IN_CHUNK):
        part = missing[start : start + _IN_CHUNK]
        marks = ", ".join(["%s"] * len(part))
        rows += session.query(
            "SELECT i.id, i.uuid, i.host, i.node, i.vm_state, i.power_state, i.task_state "
            "FROM instances AS i "
            f"WHERE ({live}) AND i.host IN ({marks}) AND CAST(i.host AS BINARY) IN ({marks})",
            (*(used[h] for h in part), *part),  # the index finds the group, the bytes the spelling
        )
    rows.sort(key=lambda r: r["id"])
    return rows
