"""`fixpack scan --emit DIR`: the repairs of a scan's findings, written as one directory.

Each finding goes where `routes.REPAIRS` says: a batch bundle per repair kind (built by the
existing jobs, with the scan's --older-than as their --stale-after), controller.sh for the
API-repairable ones, or the README's lists (not emitted yet, the operator's choice, refused by
its repair, no command). Nothing is dropped: index.json and the README list every finding.
DIR is written atomically (a temporary sibling, then rename), so a failure leaves nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from generator import __version__
from generator.bundle.writer import DIR_MODE, write_private
from generator.connect.sources import ConnectionTargets
from generator.domain.staleness import format_duration
from generator.emit.index import (
    BUNDLE,
    CONTROLLER,
    REFUSED,
    Placement,
    placed,
    render_controller,
    render_index,
    render_readme,
)
from generator.emit.routes import PENDING, BatchOutcome, BuildFn, EmitContext, route
from generator.errors import REFUSED as EXIT_REFUSED
from generator.errors import FixpackError
from generator.scan.model import EXIT_PARTIAL, Finding, ScanReport
from generator.scan.registry import CHECK_IDS
from generator.secrets import mask_text

__all__ = ["EmitResult", "check_emit_dir", "emit", "exit_code"]


@dataclass(frozen=True)
class EmitResult:
    path: Path
    placements: tuple[Placement, ...]

    def count(self, where: str) -> int:
        return sum(p.where == where for p in self.placements)


def exit_code(scan_code: int, result: EmitResult | None) -> int:
    """The scan's code (0 clean, 1 found, 3 partial), except 5 when a repair refused a finding
    of a complete scan: the emitted directory is written, and its README lists the refusals."""
    if result is None or scan_code == EXIT_PARTIAL or not result.count(REFUSED):
        return scan_code
    return EXIT_REFUSED


def check_emit_dir(path: Path) -> None:
    """DIR must not exist yet, or be an empty directory: an emit never mixes with older files."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FixpackError(f"--emit {path}: exists and is not an empty directory; give a new one")


def emit(
    report: ScanReport,
    targets: ConnectionTargets,
    out: Path,
    *,
    stale_after: dt.timedelta,
    no_snapshot_gb_quota: bool = False,
    progress: Callable[[str], None] | None = None,
) -> EmitResult:
    """`progress` (cli/progress.py) hears each repair kind's batch start (`repair_kinds` of them)."""
    check_emit_dir(out)
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    except OSError as exc:
        raise FixpackError(f"--emit {out}: cannot write there ({exc.strerror or exc})") from None
    try:
        placements = _place(report, targets, tmp, stale_after, no_snapshot_gb_quota, progress)
        controller, lines = render_controller(placements, __version__)
        placements = [replace(p, line=lines[p.detail]) if p.where == CONTROLLER else p for p in placements]
        pending_why = {p.finding.check: route(p.finding).why for p in placements if p.where == PENDING}
        notes = {route(p.finding).kind: route(p.finding).note for p in placements if p.where == BUNDLE}
        threshold = format_duration(stale_after)
        files = {
            "controller.sh": controller,
            "README.md": render_readme(
                placements,
                stale_after=threshold,
                skipped=report.skipped,
                pending_why=pending_why,
                bundle_notes={kind: note for kind, note in notes.items() if note},
            ),
            "index.json": render_index(placements, stale_after_seconds=int(stale_after.total_seconds())),
        }
        for name, text in files.items():
            write_private(tmp / name, text)
        tmp.chmod(DIR_MODE)
        if out.is_dir():
            out.rmdir()  # empty (checked above)
        os.rename(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise FixpackError(f"--emit {out}: writing failed ({exc.strerror or exc}); nothing written") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return EmitResult(out, tuple(placements))


def repair_kinds(report: ScanReport) -> int:
    """How many batches `emit` builds for this report (one per repair kind with a finding)."""
    return len({route(f).kind for f in report.findings if route(f).build is not None})


def _ordered(findings: Sequence[Finding]) -> list[Finding]:
    order = {c: i for i, c in enumerate(CHECK_IDS)}
    return sorted(findings, key=lambda f: (order.get(f.check, len(order)), f.check, f.uuid))


def _place(
    report: ScanReport,
    targets: ConnectionTargets,
    tmp: Path,
    stale_after: dt.timedelta,
    no_snapshot_gb_quota: bool,
    progress: Callable[[str], None] | None = None,
) -> list[Placement]:
    findings = _ordered(report.findings)
    routed = [(f, route(f)) for f in findings]
    built: dict[str, tuple[dict[str, str], dict[str, str]]] = {}  # kind -> (covered, refused)
    kinds: dict[str, tuple[BuildFn, list[Finding]]] = {}
    for f, repair in routed:
        if repair.build is not None:
            kinds.setdefault(repair.kind, (repair.build, []))[1].append(f)
    for k, (kind, (build, members)) in enumerate(kinds.items(), 1):
        if progress is not None:
            progress(f"{kind} ({k}/{len(kinds)})")  # a fixed repair kind, never a database value
        (tmp / kind).mkdir(mode=DIR_MODE)
        (tmp / kind).chmod(DIR_MODE)
        ctx = EmitContext(targets, stale_after, tmp / kind, no_snapshot_gb_quota=no_snapshot_gb_quota)
        outcome: BatchOutcome = build(members, ctx)
        covered = {uuid: str(path.relative_to(tmp)) for path, uuids in outcome.bundles for uuid in uuids}
        built[kind] = (covered, dict(outcome.refused))
    out = []
    for f, repair in routed:
        if repair.build is None:
            out.append(placed(f, repair.kind))
            continue
        covered, refused = built[repair.kind]
        if f.uuid in covered:
            out.append(Placement(f, BUNDLE, covered[f.uuid]))
        else:
            line = refused.get(f.uuid, f"{repair.kind}: no bundle covers {f.uuid} (nothing planned for it)")
            out.append(Placement(f, REFUSED, mask_text(line)))
    return out
