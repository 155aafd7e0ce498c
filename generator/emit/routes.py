"""Which repair each scan check's findings go to: the registry `REPAIRS` (check id -> Repair).

A Repair is one of
* a bundle kind (`build` set): the findings of the check are planned together by an existing
  job and written as one batch bundle per Nova cell (or one bundle for all, quota sync);
* `api`: the finding's own suggested command (already shell-quoted by scan/suggest.py) goes to
  the emitted controller.sh;
* `pending`: a fixpack repair exists or is coming but `--emit` does not build it yet: listed
  with its command in the README, never silently dropped;
* `choice`: the repair needs a decision the scan cannot make (rehost where, or soft-delete).

Adding a repair (e.g. `fixpack mapping UUID --op delete`) is one entry here: a kind and a
function from the findings to a `BatchOutcome`. tests/unit/test_emit.py checks the table
covers every check id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from generator.connect.sources import ConnectionTargets
from generator.errors import TargetProblem
from generator.jobs_volume import generate_quota_sync, generate_volume_batch
from generator.pipeline import OutputOptions
from generator.plan.volume_common import VolumeOptions
from generator.quoting import UnsafeValue
from generator.scan.model import Finding

API, PENDING, CHOICE = "api", "pending", "choice"


@dataclass(frozen=True)
class EmitContext:
    """What every build needs: the scan's connections and threshold, and where bundles go."""

    targets: ConnectionTargets
    stale_after: dt.timedelta  # the scan's --older-than: the repairs' --stale-after
    out_dir: Path  # this kind's directory inside the emit's temporary directory
    no_snapshot_gb_quota: bool = False
    chunk_rows: int | None = None


@dataclass(frozen=True)
class BatchOutcome:
    """Bundles written (path, the finding ids each covers) and findings refused (id -> the line)."""

    bundles: tuple[tuple[Path, tuple[str, ...]], ...] = ()
    refused: Mapping[str, str] = field(default_factory=dict)


BuildFn = Callable[[Sequence[Finding], EmitContext], BatchOutcome]


@dataclass(frozen=True)
class Repair:
    kind: str  # a bundle kind (directory name), or API / PENDING / CHOICE
    build: BuildFn | None = None
    why: str = ""  # for PENDING and CHOICE: what the operator does instead (shown in the README)


def _output(ctx: EmitContext) -> OutputOptions:
    if ctx.chunk_rows is None:
        return OutputOptions(out_dir=ctx.out_dir)
    return OutputOptions(out_dir=ctx.out_dir, chunk_rows=ctx.chunk_rows)


def _detach_from_nova(findings: Sequence[Finding], ctx: EmitContext) -> BatchOutcome:
    """bdm-without-volume: Nova's live BDMs of volumes Cinder deleted, soft-deleted per volume."""
    instances: dict[str, set[str]] = {}
    for f in findings:
        instances.setdefault(f.uuid, set()).add(str(f.details["instance_uuid"]))
    requests = [
        (
            volume_id,
            VolumeOptions(op="detach-from-nova", stale_after=ctx.stale_after, instances=tuple(sorted(uuids))),
        )
        for volume_id, uuids in sorted(instances.items())
    ]
    done = generate_volume_batch(requests, ctx.targets, "auto", _output(ctx))
    return BatchOutcome(tuple((r.path, r.plan.targets) for r in done.results), done.refused)


def _quota_sync(findings: Sequence[Finding], ctx: EmitContext) -> BatchOutcome:
    """cinder-quota-drift: one `quota sync` bundle for every drifting project."""
    projects = sorted({f.uuid for f in findings})
    try:
        result = generate_quota_sync(
            projects, ctx.targets, "auto", _output(ctx), no_snapshot_gb_quota=ctx.no_snapshot_gb_quota
        )
    except (TargetProblem, UnsafeValue) as exc:
        return BatchOutcome(refused={p: str(exc) for p in projects})
    return BatchOutcome(((result.path, tuple(projects)),))


_API = Repair(API)
_MAPPING_DELETE = Repair(
    PENDING, why="`fixpack mapping UUID --op delete` is not emitted yet: run the suggested command"
)

# Every check id of scan/registry.py CHECK_IDS, in its order.
REPAIRS: Mapping[str, Repair] = {
    "volume-attached-to-deleted-instance": _API,
    "bdm-without-volume": Repair("volume-detach-from-nova", _detach_from_nova),
    "volume-stuck": _API,
    "instance-stuck": _API,
    # `fixpack allocation CONSUMER --op delete` could replace Placement's API here: one entry.
    "allocation-orphaned": _API,
    # the wrong-cell case suggests `fixpack mapping … --op delete`: pending, by `route` below
    "instance-without-mapping": _API,
    "mapping-without-instance": _MAPPING_DELETE,
    "instance-on-missing-host": Repair(
        CHOICE,
        why="rehost it where the guest runs (replace HOST), or soft-delete it if the guest is gone",
    ),
    "provider-without-compute-node": _API,
    "cinder-quota-drift": Repair("quota-sync", _quota_sync),
    "build-request-stale": _MAPPING_DELETE,
}

_NOT_EMITTED = Repair(PENDING, why="its fixpack repair is not emitted yet: run the suggested command")
NO_COMMAND = "# no command"  # scan/suggest.py: a value that cannot be shown on a command line


def route(finding: Finding) -> Repair:
    """The repair of one finding: the check's entry, except that an API entry whose finding
    suggests a fixpack command (not an API one) is pending, and an unknown check is pending."""
    repair = REPAIRS.get(finding.check)
    if repair is None:
        return _NOT_EMITTED
    if repair.kind == API and finding.suggested.startswith("fixpack "):
        return _NOT_EMITTED
    return repair
