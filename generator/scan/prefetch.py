"""Concurrent key reads: one thread per database, started before the checks run.

Read one after another, the key sets leave one core idle: while the server scans one
database the scan waits, and while the scan decodes the server waits. Here each database
(every Nova cell together, nova_api, Placement, Cinder) gets a thread that reads, in the
order the selected checks first need them, the key sets those checks use; the checks then
run as before and find each set read or being read (ScanContext._cached waits for it).
Each thread uses its database's one session (one snapshot, as before); a session takes one
statement at a time (its lock), so a check asking the same database meanwhile just waits
its turn. `READS` only decides what is read early: a reader missing here is read when its
check asks, and the report is the same either way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from generator.scan.checks.cinder_quota import read_all_usage
from generator.scan.context import ScanContext
from generator.scan.model import CheckUnavailable

# check id -> (database, ScanContext reader) in the order the check asks for them
READS: dict[str, tuple[tuple[str, str], ...]] = {
    "volume-attached-to-deleted-instance": (
        ("nova", "instance_index"), ("cinder", "attachments"), ("cinder", "volumes"), ("nova", "volume_bdms"),
    ),
    "bdm-without-volume": (("cinder", "volumes"), ("nova", "instance_index"), ("nova", "volume_bdms")),
    "volume-stuck": (("cinder", "attachments"),),
    "instance-stuck": (("nova", "instance_index"), ("nova", "stale_tasks")),
    "allocation-orphaned": (
        ("placement", "allocation_consumers"), ("placement", "consumer_types"), ("nova", "instance_index"),
        ("nova", "migrations"), ("nova_api", "mappings"), ("nova_api", "build_requests"),
    ),
    "instance-without-mapping": (
        ("nova_api", "mappings"), ("nova_api", "build_requests"), ("nova", "instance_index"),
    ),
    "mapping-without-instance": (
        ("nova_api", "mappings"), ("nova_api", "build_requests"), ("nova", "instance_index"),
    ),
    "instance-on-missing-host": (
        ("nova", "instance_index"), ("nova", "compute_nodes"), ("nova", "live_without_service"),
    ),
    "provider-without-compute-node": (
        ("placement", "providers"), ("nova", "compute_nodes"), ("nova", "compute_services"),
    ),
    "cinder-quota-drift": (("cinder", "cinder_usage"),),
    "build-request-stale": (("nova_api", "build_requests"), ("nova", "instance_index")),
}  # fmt: skip


def start(ctx: ScanContext, check_ids: Sequence[str]) -> list[threading.Thread]:
    """Start the readers of `check_ids` (one thread per database); join them before closing."""
    plan: dict[str, list[str]] = {}
    for cid in check_ids:
        for database, reader in READS.get(cid, ()):
            names = plan.setdefault(database, [])
            if reader not in names:
                names.append(reader)
    threads = []
    for database, readers in plan.items():
        try:  # open the sessions here, in one thread: LiveDatabases is not shared while it opens them
            ctx.require(database)
        except Exception:  # the checks that need it report why; nothing to read early
            continue
        calls = [_call(ctx, r) for r in readers]
        thread = threading.Thread(target=_run, args=(calls,), name=f"scan-read-{database}", daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def _call(ctx: ScanContext, reader: str) -> Callable[[], object]:
    if reader == "cinder_usage":
        return lambda: ctx.cinder_usage(read_all_usage)
    method: Callable[[], object] = getattr(ctx, reader)
    return method


def _run(calls: list[Callable[[], object]]) -> None:
    for call in calls:
        try:
            call()
        except CheckUnavailable:  # kept by the context: the check gets it when it asks
            continue
        except Exception:  # raised again, in the check's thread, when the check asks
            continue
