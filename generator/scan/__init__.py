"""`fixpack scan`: find Nova/Cinder/Placement inconsistencies, read-only, and name each one's repair.

Library layout: `registry` (the check ids and what each needs), `checks/` (one module per
service group), `context` (the keys read once per database and shared by the checks),
`suggest` (repair commands, every value shell-quoted), `output` (table and JSON).
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from collections.abc import Callable, Sequence

import pymysql

from generator.connect.sources import ConnectionTargets
from generator.errors import FixpackError
from generator.facts.live import LiveDatabases
from generator.scan import prefetch
from generator.scan.context import NEED_LABELS, ScanContext, server_said
from generator.scan.model import CheckUnavailable, Finding, ScanReport
from generator.scan.registry import CHECK_IDS, all_checks

__all__ = ["CHECK_IDS", "ScanReport", "run_scan"]


def run_scan(
    targets: ConnectionTargets,
    *,
    checks: Sequence[str] = (),
    older_than: dt.timedelta = dt.timedelta(hours=1),
    no_snapshot_gb_quota: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ScanReport:
    """Run the selected checks (all when empty) against the given databases.

    A check whose databases are not given or cannot be read is listed in `skipped` with the
    reason; the others still run. Unknown check ids are refused before anything is read.
    """
    unknown = [c for c in checks if c not in CHECK_IDS]
    if unknown:
        raise FixpackError(f"unknown check {unknown[0]!r}; expected one of {', '.join(CHECK_IDS)}")
    selected = [c for c in all_checks() if not checks or c.id in checks]
    live = LiveDatabases(targets)
    ctx = ScanContext(live, older_than, no_snapshot_gb_quota=no_snapshot_gb_quota)
    findings: list[Finding] = []
    checked: dict[str, int] = {}
    skipped: dict[str, str] = {}
    start = time.perf_counter()
    # every database's key sets read concurrently, in threads (scan/prefetch.py): the checks
    # below find them read or being read; the report is the same as reading them in turn
    readers = prefetch.start(ctx, [c.id for c in selected if all(_given(live, n) for n in c.needs)])
    # Millions of small key records and no reference cycles: the cyclic collector would rescan
    # them again and again while they are read; reference counting frees them all the same.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for chk in selected:
            if progress:
                progress(chk.id)
            missing = [NEED_LABELS[n] for n in chk.needs if not _given(live, n)]
            if missing:
                skipped[chk.id] = missing[0]
                continue
            try:
                result = chk.run(ctx)
            except CheckUnavailable as exc:
                skipped[chk.id] = str(exc)
                continue
            except FixpackError as exc:
                skipped[chk.id] = str(exc)
                continue
            except pymysql.err.Error as exc:
                skipped[chk.id] = server_said(exc)
                continue
            findings += result.findings
            checked[chk.id] = result.examined
    finally:
        for reader in readers:  # nothing may read a session while it closes
            reader.join()
        live.close()
        if collecting:
            gc.enable()
    return ScanReport(
        tuple(findings),
        checked,
        skipped,
        older_than_seconds=int(older_than.total_seconds()),
        seconds=time.perf_counter() - start,
        round_trips=live.counter.count,
    )


def _given(live: LiveDatabases, need: str) -> bool:
    if need == "nova":
        return live.has("nova_api") or live.has("nova")
    return live.has(need)
