"""Volume and quota bundles end to end: facts -> plan -> `pipeline.assemble`.

Kept beside pipeline.py (which holds the VM job and the shared assemble stage) so
the volume operations add a module rather than edit the shared one.
"""

from __future__ import annotations

from collections.abc import Sequence

from generator.connect.sources import ConnectionTargets
from generator.errors import FixpackError
from generator.facts.live import LiveDatabases
from generator.pipeline import BundleResult, OutputOptions, generate
from generator.plan.model import Plan
from generator.plan.volume_common import VOLUME_OPS, VolumeOptions


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
        facts = DatabaseFacts(
            "cinder",
            info.label,
            info.release,
            info.schema,
            info.database,
            info.fingerprint,
            info.detection,
            tables,
            write_set=info.write_set,
            server=info.server,
        )
        return facts, usages

    return generate(
        targets, release, output, read=read,
        plan=lambda read_back: plan_quota_sync(read_back[0], read_back[1],
                                               no_snapshot_gb_quota=no_snapshot_gb_quota),
    )  # fmt: skip
