"""The benchmark fast path: many ordinary instances, flushed in chunks to bound memory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from generator.seed.model import ComputeHost, SeededInstance
from generator.seed.values import FLAVOR_ORDER

if TYPE_CHECKING:
    from generator.seed.seeder import HostArg, Seeder


def bulk_instances(
    seeder: Seeder,
    n: int,
    *,
    hosts: Sequence[HostArg] | None,
    projects: int,
    chunk: int,
    vif_types: Sequence[str],
) -> list[SeededInstance]:
    """`n` active, healthy instances spread round-robin over hosts, projects and flavors.

    Each gets the full row set of a booted server (instance, extra, info cache + VIFs,
    system metadata, metadata, image BDM, id mapping, one create action + event,
    instance mapping, request spec, placement consumer + allocations) but no faults,
    tags or console tokens, which a healthy fleet mostly lacks.
    """
    host_list: list[ComputeHost | str] = (
        [h for h in hosts if h is not None] if hosts else list(seeder.hosts_for(n))
    )
    project_ids = [seeder.project() for _ in range(max(1, projects))]
    flavors = FLAVOR_ORDER[:3]
    out: list[SeededInstance] = []
    for i in range(n):
        out.append(
            seeder.instance(
                host=host_list[i % len(host_list)],
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
            seeder.flush(background=True)
    seeder.flush()
    return out
