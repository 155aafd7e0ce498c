"""Which repair each scan check's findings go to: the registry `REPAIRS` (check id -> Repair).

A Repair is one of
* a bundle kind (`build` set): the findings of the check are planned together by an existing
  job and written as one batch bundle per Nova cell (or one bundle for all, quota sync);
* `api`: the finding's own suggested command (already shell-quoted by scan/suggest.py) goes to
  the emitted controller.sh;
* `pending`: a fixpack repair `--emit` does not build (an unknown check, or an API check whose
  finding suggests a fixpack command with no bundle kind here): listed with its command in the
  README, never silently dropped;
* `choice`: the repair needs a decision the scan cannot make (rehost where, or soft-delete).

Adding a repair is one entry here: a kind and a function from the findings to a `BatchOutcome`
(and, when an API check's finding may suggest it, one entry in `FIXPACK_REPAIRS`).
tests/unit/emit/test_emit.py checks the table covers every check id.
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from generator.connect.sources import ConnectionTargets
from generator.errors import TargetProblem
from generator.facts.live import LiveDatabases
from generator.facts.orphans import read_allocation_consumers, read_mappings
from generator.jobs_orphans import generate_allocation_delete, generate_mapping_delete
from generator.jobs_volume import generate_quota_sync, generate_volume_batch
from generator.pipeline import BundleResult, OutputOptions
from generator.plan.allocation_delete import OrphanOptions, plan_allocation_delete
from generator.plan.mapping_delete import plan_mapping_delete
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
    note: str = ""  # for a bundle kind: what the README says beside its bundles (e.g. an API alternative)


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


OrphanJob = Callable[[Sequence[str], OrphanOptions, ConnectionTargets, OutputOptions], BundleResult]
Probe = Callable[[LiveDatabases, str, OrphanOptions], object]  # plans one id; raises its refusal


def _orphan_batch(
    findings: Sequence[Finding], ctx: EmitContext, job: OrphanJob, probe: Probe
) -> BatchOutcome:
    """One bundle for every id of the findings. The job refuses a whole batch for one id
    (TargetProblem): then each id is planned alone (read and plan, nothing written) to find the
    ones that refuse, and the rest is generated as one bundle."""
    ids = sorted({f.uuid for f in findings})
    options = OrphanOptions(stale_after=ctx.stale_after)
    try:
        result = job(ids, options, ctx.targets, _output(ctx))
        return BatchOutcome(((result.path, tuple(result.plan.targets)),))
    except (TargetProblem, UnsafeValue):
        pass
    refused = _refusals(ids, options, ctx.targets, probe)
    rest = [i for i in ids if i not in refused]
    if not rest:
        return BatchOutcome(refused=refused)
    try:
        result = job(rest, options, ctx.targets, _output(ctx))
    except (TargetProblem, UnsafeValue) as exc:  # refused as a batch only (or the rows moved meanwhile)
        return BatchOutcome(refused={**refused, **{i: str(exc) for i in rest}})
    return BatchOutcome(((result.path, tuple(result.plan.targets)),), refused)


def _refusals(
    ids: Sequence[str], options: OrphanOptions, targets: ConnectionTargets, probe: Probe
) -> dict[str, str]:
    """id -> refusal line, for each id whose repair, planned alone, refuses."""
    refused: dict[str, str] = {}
    live = LiveDatabases(targets, "auto")
    try:
        for uuid in ids:
            try:
                probe(live, uuid, options)
            except (TargetProblem, UnsafeValue) as exc:
                refused[uuid] = str(exc)
    finally:
        live.close()
    return refused


def _allocation_delete(findings: Sequence[Finding], ctx: EmitContext) -> BatchOutcome:
    """allocation-orphaned: one `fixpack allocation --op delete` bundle for every orphaned consumer."""
    return _orphan_batch(
        findings, ctx, generate_allocation_delete,
        lambda live, uuid, options: plan_allocation_delete(read_allocation_consumers(live, [uuid]), options),
    )  # fmt: skip


def _mapping_delete(findings: Sequence[Finding], ctx: EmitContext) -> BatchOutcome:
    """mapping-without-instance, build-request-stale, a wrong-cell mapping: one `fixpack mapping
    --op delete` bundle for every uuid."""
    return _orphan_batch(
        findings, ctx, generate_mapping_delete,
        lambda live, uuid, options: plan_mapping_delete(read_mappings(live, [uuid]), options),
    )  # fmt: skip


_API = Repair(API)
_MAPPING_DELETE = Repair("mapping-delete", _mapping_delete)
_ALLOCATION_DELETE = Repair(
    "allocation-delete",
    _allocation_delete,
    note="Placement's own `openstack resource provider allocation delete CONSUMER` frees the same rows "
    "but bumps no provider generation: each finding's API alternative is in the table",
)

# Every check id of scan/registry.py CHECK_IDS, in its order.
REPAIRS: Mapping[str, Repair] = {
    "volume-attached-to-deleted-instance": _API,
    "bdm-without-volume": Repair("volume-detach-from-nova", _detach_from_nova),
    "volume-stuck": _API,
    "instance-stuck": _API,
    "allocation-orphaned": _ALLOCATION_DELETE,  # the API command: the finding's details.alternative
    # the wrong-cell case suggests `fixpack mapping … --op delete`: a mapping-delete, by `route` below
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

# The bundle kind of a fixpack command an API check's finding may suggest: `fixpack KIND ... --op OP`.
FIXPACK_REPAIRS: Mapping[tuple[str, str], Repair] = {
    ("mapping", "delete"): _MAPPING_DELETE,
    ("allocation", "delete"): _ALLOCATION_DELETE,
}

_NOT_EMITTED = Repair(PENDING, why="its fixpack repair is not emitted yet: run the suggested command")
NO_COMMAND = "# no command"  # scan/suggest.py: a value that cannot be shown on a command line


def _fixpack_command(finding: Finding) -> tuple[str, str] | None:
    """(target kind, op) of a `fixpack KIND ID --op OP ...` suggestion (scan/suggest.py's form)
    that names the finding's own id; None for anything else."""
    try:
        words = shlex.split(finding.suggested)
    except ValueError:
        return None
    if len(words) < 5 or words[0] != "fixpack" or words[2] != finding.uuid or words[3] != "--op":
        return None
    return words[1], words[4]


def route(finding: Finding) -> Repair:
    """The repair of one finding: the check's entry, except that an API entry whose finding
    suggests a fixpack command (not an API one) goes to that command's bundle kind (pending if
    `--emit` builds none), and an unknown check is pending."""
    repair = REPAIRS.get(finding.check)
    if repair is None:
        return _NOT_EMITTED
    if repair.kind == API and finding.suggested.startswith("fixpack "):
        command = _fixpack_command(finding)
        return FIXPACK_REPAIRS.get(command, _NOT_EMITTED) if command else _NOT_EMITTED
    return repair
