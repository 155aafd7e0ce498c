"""Volume and quota bundles end to end: facts -> plan -> `pipeline.assemble`.

Kept beside pipeline.py (which holds the VM job and the shared assemble stage) so
the volume operations add a module rather than edit the shared one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from generator.connect.sources import ConnectionTargets
from generator.errors import FixpackError, TargetProblem
from generator.facts.live import LiveDatabases
from generator.pipeline import BundleResult, OutputOptions, assemble, generate
from generator.plan.model import Plan
from generator.plan.volume_common import VOLUME_OPS, VolumeOptions
from generator.quoting import UnsafeValue


def plan_volume(facts, options: VolumeOptions) -> Plan:
    """Dispatch a volume operation to its (pure) planner."""
    if options.op == "reset-detached":
        from generator.plan.volume_reset_detached import plan_reset_detached

        return plan_reset_detached(facts, options)
    if options.op == "detach-from-nova":
        from generator.plan.volume_detach_from_nova import plan_detach_from_nova

        return plan_detach_from_nova(facts, options)
    if options.op == "soft-delete":
        from generator.plan.volume_soft_delete import plan_soft_delete

        return plan_soft_delete(facts, options)
    if options.op == "purge":
        from generator.plan.volume_purge import plan_purge

        return plan_purge(facts, options)
    raise FixpackError(f"unknown volume operation {options.op!r}; expected one of {', '.join(VOLUME_OPS)}")


def generate_volume(
    uuid: str, options: VolumeOptions, targets: ConnectionTargets, release: str, output: OutputOptions
) -> BundleResult:
    """Live when any database is given, else offline from the catalog of `release`."""
    from generator.facts.volume import read_volume
    from generator.plan.volume_offline import plan_volume_offline

    return generate(
        targets,
        release,
        output,
        read=lambda live: read_volume(live, uuid, instances=options.instances),
        plan=lambda facts: plan_volume(facts, options),
        offline=lambda: plan_volume_offline(uuid, options, release),
    )


@dataclass(frozen=True)
class VolumeBatch:
    """What a volume batch wrote, and the volumes whose planner refused (uuid -> the refusal line)."""

    results: tuple[BundleResult, ...]
    refused: Mapping[str, str]


def generate_volume_batch(
    requests: Sequence[tuple[str, VolumeOptions]],
    targets: ConnectionTargets,
    release: str,
    output: OutputOptions,
    *,
    all_or_nothing: bool = False,
    progress: Callable[[str], None] | None = None,
) -> VolumeBatch:
    """One bundle per Nova cell (or Cinder alone) for many volumes of one operation.

    Live only: every volume is read and planned as `generate_volume` would (the LiveDatabases,
    their detection and schemas shared), then the plans of one cell are merged by
    `plan/batch.py` exactly as a VM batch. A volume whose planner refuses (a named protection,
    nothing to do) is not dropped: it comes back in `refused` with its one-line reason, and the
    others are still written (`all_or_nothing`: the first refusal is raised before anything is
    written, as a VM batch does). A batch of one is the volume's own bundle.
    """
    from generator.facts.volume import read_volume
    from generator.plan.batch import merge_plans

    if not targets.any:
        raise FixpackError("a volume batch reads live rows: pass connection options")
    if len({op.op for _, op in requests}) > 1:
        raise FixpackError("a batch bundle holds one operation")
    if len({uuid for uuid, _ in requests}) != len(requests):
        raise FixpackError("the same volume is listed twice")
    say = progress or (lambda _step: None)
    refused: dict[str, str] = {}
    groups: dict[tuple[str, ...], list[Plan]] = {}
    live = LiveDatabases(targets, release)
    try:
        for n, (uuid, options) in enumerate(requests, 1):
            say(f"reading and planning {n}/{len(requests)}")
            try:
                plan = plan_volume(read_volume(live, uuid, instances=options.instances), options)
            except (TargetProblem, UnsafeValue) as exc:  # UnsafeValue: the CLI's refusal too (exit 5)
                refused[uuid] = str(exc)
                continue
            key = tuple(sorted(f"{db.role}={db.database}" for db in plan.databases))
            groups.setdefault(key, []).append(plan)
        rounds = live.counter.count
    finally:
        live.close()
    if refused and all_or_nothing:
        raise TargetProblem(next(iter(refused.values())) + "; nothing written")
    results = []
    for k, plans in enumerate(groups.values(), 1):
        say(f"bundle {k}/{len(groups)}: merge, render, lint, write")
        results.append(
            assemble(plans[0] if len(plans) == 1 else merge_plans(plans), output, round_trips=rounds)
        )
    return VolumeBatch(tuple(results), refused)


def generate_quota_sync(
    projects: Sequence[str] | None,
    targets: ConnectionTargets,
    release: str,
    output: OutputOptions,
    *,
    no_snapshot_gb_quota: bool = False,
) -> BundleResult:
    """Recount Cinder quota usage of `projects` (None: every project with quota_usages rows)."""
    from generator.facts.model import DatabaseFacts
    from generator.facts.volume import cinder_info, prefer_cell_release, read_usage
    from generator.plan.quota_sync import plan_quota_sync

    if not targets.any:
        raise FixpackError("quota sync recounts live rows: pass --cinder-url or --cinder-conf")

    def read(live: LiveDatabases) -> tuple[DatabaseFacts, object]:
        prefer_cell_release(live)  # a Nova cell, when given, pins the release Cinder's markers share
        session, info = cinder_info(live)
        usages, tables = read_usage(session, info, list(projects) if projects is not None else None)
        facts = info.facts(tables, "cinder")
        return facts, usages

    return generate(
        targets, release, output, read=read,
        plan=lambda read_back: plan_quota_sync(read_back[0], read_back[1],
                                               no_snapshot_gb_quota=no_snapshot_gb_quota),
    )  # fmt: skip
