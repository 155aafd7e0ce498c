"""Placement against Nova: consumers nobody owns and providers of compute nodes that are gone."""

from __future__ import annotations

from collections.abc import Iterable

from generator.domain.nova import MIGRATION_DONE, NOVA_CONSUMER_TYPES
from generator.scan import suggest
from generator.scan.context import ScanContext
from generator.scan.model import CheckResult, Finding
from generator.scan.registry import check

# os-resource-classes STANDARDS index = resource_classes.id placement syncs at start-up (VCPU, MEMORY_MB)
COMPUTE_CLASS_IDS = (0, 1)
_CHUNK = 5000


def _allocations_of(ctx: ScanContext, column: str, keys: Iterable[object]) -> dict[object, list[tuple]]:
    """Allocations of the given consumers (column consumer_id) or providers (resource_provider_id):
    one query per 5000 keys, only for what a check is about to report."""
    session = ctx.session("placement")
    wanted = sorted(set(keys), key=str)
    out: dict[object, list[tuple]] = {}
    for start in range(0, len(wanted), _CHUNK):
        part = wanted[start : start + _CHUNK]
        marks = ", ".join(["%s"] * len(part))
        rows = session.query_tuples(
            "SELECT a.consumer_id, a.resource_provider_id, rp.uuid, rp.name, rc.name, a.used "
            "FROM allocations AS a JOIN resource_providers AS rp ON rp.id = a.resource_provider_id "
            "LEFT JOIN resource_classes AS rc ON rc.id = a.resource_class_id "
            f"WHERE a.{column} IN ({marks})",
            tuple(part),
        )
        for row in rows:
            out.setdefault(row[0] if column == "consumer_id" else row[1], []).append(row)
    return out


@check(
    "allocation-orphaned",
    "placement",
    ("placement", "nova_api", "nova"),
    "a consumer of Nova's holding allocations that is neither a live instance nor a moving migration",
)
def allocation_orphaned(ctx: ScanContext) -> CheckResult:
    ctx.require("nova_api")
    consumers = ctx.allocation_consumers()
    types = ctx.consumer_types()
    index = ctx.instance_index()
    migrations = ctx.migrations()
    mappings = ctx.mappings()
    builds = ctx.build_requests()
    orphans: dict[str, str] = {}
    # live instances (soft_deleted included: they keep theirs until reclaimed): set aside at C speed
    for consumer in consumers - index.live:
        ctype = types.get(consumer)
        if ctype is not None and ctype not in NOVA_CONSUMER_TYPES:
            continue  # Blazar, Zun, ...: another service's consumer
        inst = consumer in index.known  # a deleted instance's row
        migration = migrations.get(consumer)
        if migration is not None and not migration[2] and migration[0] not in MIGRATION_DONE:
            continue
        mapped = mappings.get(consumer)
        if consumer in builds or (
            mapped is not None and mapped[0] is None and not ctx.stale(mapped[1], "nova_api")
        ):
            continue  # a build in flight: the scheduler claims before the instance row exists
        if inst:
            orphans[consumer] = "instance deleted"
        elif migration is not None:
            orphans[consumer] = f"migration {migration[0]}" + (" (deleted)" if migration[2] else "")
        elif mapped is not None:
            orphans[consumer] = "no instance in any cell" + (
                " (build abandoned)" if mapped[0] is None else ""
            )
        # else: Nova never knew this consumer (another service's, untyped): not Nova's to judge
    details = _allocations_of(ctx, "consumer_id", orphans) if orphans else {}
    findings = tuple(
        Finding(
            "allocation-orphaned",
            consumer,
            "placement",
            {
                "reason": reason,
                "allocations": [
                    {"provider": r[2], "provider_name": r[3], "resource_class": r[4], "used": r[5]}
                    for r in details.get(consumer, [])
                ],
                # Placement's own delete frees the same rows but bumps no provider generation
                "alternative": suggest.delete_allocations(consumer),
            },
            suggest.fixpack("allocation", consumer, "delete", *suggest.stale_after(ctx.older_than)),
        )
        for consumer, reason in sorted(orphans.items())
    )
    return CheckResult(findings, len(consumers))


@check(
    "provider-without-compute-node",
    "placement",
    ("placement", "nova_api", "nova"),
    "a compute resource provider whose compute node or nova-compute service is gone",
)
def provider_without_compute_node(ctx: ScanContext) -> CheckResult:
    ctx.require("nova_api")
    providers = ctx.providers()
    nodes = ctx.compute_nodes()
    services = ctx.compute_services()
    compute_rps = {
        r[0]
        for r in ctx.session("placement").query_tuples(
            "SELECT DISTINCT resource_provider_id FROM inventories WHERE resource_class_id IN (%s, %s)",
            COMPUTE_CLASS_IDS,
        )
    }
    ever = {n.uuid for n in nodes if n.uuid}
    live = {n.uuid: n for n in nodes if n.uuid and not n.deleted}
    gone: dict[int, tuple[str, str | None, str]] = {}
    for rp_id, uuid, name, parent in providers:
        if parent is not None or not (uuid in ever or rp_id in compute_rps):
            continue  # nested (Neutron, Cyborg) or not a compute node's provider (sharing, Blazar)
        node = live.get(uuid)
        if node is None:
            gone[rp_id] = (uuid, name, "compute node deleted" if uuid in ever else "no compute node")
        elif (node.hypervisor_type or "").lower() != "ironic" and node.host not in services.get(
            node.cell, set()
        ):
            gone[rp_id] = (uuid, name, "no live nova-compute service on its host")
    allocations = _allocations_of(ctx, "resource_provider_id", gone) if gone else {}
    findings = tuple(
        Finding(
            "provider-without-compute-node",
            uuid,
            "placement",
            {"name": name, "reason": reason, "consumers": sorted({r[0] for r in allocations.get(rp_id, [])})},
            suggest.delete_provider(uuid),
        )
        for rp_id, (uuid, name, reason) in sorted(gone.items())
    )
    return CheckResult(findings, len(providers))
