"""The benchmark fast path: many ordinary instances, flushed in chunks to bound memory.

It takes the Seeder's `instance` and `flush` rather than the Seeder, so seeder.py
imports this module and not the other way round.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from generator.seed.model import ComputeHost, SeededInstance
from generator.seed.values import FLAVOR_ORDER


def bulk_instances(
    instance: Callable[..., SeededInstance],
    flush: Callable[..., object],
    n: int,
    *,
    hosts: Sequence[ComputeHost | str],
    project_ids: Sequence[str],
    chunk: int,
    vif_types: Sequence[str],
) -> list[SeededInstance]:
    """`n` active, healthy instances spread round-robin over hosts, projects and flavors.

    Each gets the full row set of a booted server (instance, extra, info cache + VIFs,
    system metadata, metadata, image BDM, id mapping, one create action + event,
    instance mapping, request spec, placement consumer + allocations) but no faults,
    tags or console tokens, which a healthy fleet mostly lacks.
    """
    flavors = FLAVOR_ORDER[:3]
    out: list[SeededInstance] = []
    for i in range(n):
        out.append(
            instance(
                host=hosts[i % len(hosts)],
                project_id=project_ids[i % len(project_ids)],
                vif_types=vif_types,
                tags=(),
                metadata={},
                faults=0,
                actions=1,
                console_tokens=0,
                flavor=flavors[i % len(flavors)],
                display_name=f"bulk-{i + 1}",
            )
        )
        if (i + 1) % chunk == 0:
            flush(background=True)
    flush()
    return out
