"""The orphan cleanups end to end: `fixpack allocation` and `fixpack mapping`, facts -> plan ->
`pipeline.assemble`.

Live only (no `offline=`): both decide "orphaned" from the rows of every Nova cell and nova_api,
which a bundle run on one database cannot re-check; without databases they stop with one line.
"""

from __future__ import annotations

from collections.abc import Sequence

from generator.connect.sources import ConnectionTargets
from generator.errors import FixpackError
from generator.pipeline import BundleResult, OutputOptions, generate
from generator.plan.allocation_delete import OrphanOptions

ALLOCATION_OPS = ("delete",)
MAPPING_OPS = ("delete",)


def generate_allocation_delete(
    consumers: Sequence[str],
    options: OrphanOptions,
    targets: ConnectionTargets,
    output: OutputOptions,
    release: str = "auto",
) -> BundleResult:
    """One bundle deleting the consumers' allocations and consumer rows (Placement + every cell read)."""
    from generator.facts.orphans import read_allocation_consumers
    from generator.plan.allocation_delete import plan_allocation_delete

    if targets.get("placement") is None:
        raise FixpackError(
            "allocation delete reads live rows: pass --placement-url or --placement-conf, and --nova-api-url "
            "or --nova-conf (every cell is checked)"
        )
    return generate(
        targets, release, output,
        read=lambda live: read_allocation_consumers(live, consumers),
        plan=lambda facts: plan_allocation_delete(facts, options),
    )  # fmt: skip


def generate_mapping_delete(
    uuids: Sequence[str],
    options: OrphanOptions,
    targets: ConnectionTargets,
    output: OutputOptions,
    release: str = "auto",
) -> BundleResult:
    """One bundle deleting the uuids' nova_api records no cell backs (nova_api + every cell read)."""
    from generator.facts.orphans import read_mappings
    from generator.plan.mapping_delete import plan_mapping_delete

    if targets.get("nova_api") is None:
        raise FixpackError(
            "mapping delete reads live rows: pass --nova-api-url or --nova-conf "
            "(every cell it lists is checked)"
        )
    return generate(
        targets, release, output,
        read=lambda live: read_mappings(live, uuids),
        plan=lambda facts: plan_mapping_delete(facts, options),
    )  # fmt: skip
