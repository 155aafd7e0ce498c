"""Allocation delete: free what an orphaned Placement consumer holds, as Placement itself does.

Nova frees an instance's (or migration's) resources with `PUT /allocations/{consumer}` and an
empty body (scheduler report client `delete_allocation_for_instance`); Placement runs it through
`replace_all` -> `_set_allocations` (placement/objects/allocation.py): the consumer's allocation
rows are deleted, the generation of every provider they were on is incremented (the provider
objects `_check_capacity_exceeded` collected, `used = 0` allocations included), and the consumer
row, left with no allocations, is deleted (`delete_consumers_if_no_allocations`). Its projects
and users rows are kept. (`DELETE /allocations/{consumer}`, `delete_all`, deletes the same rows
without the generation bump; fixpack follows Nova's path, so a client holding a provider's
generation sees that its usage changed.)

A consumer is only deleted when Nova no longer uses it, judged from every cell and nova_api:
a live instance or a migration still in progress is refused (`--allow-live-consumer`), a build in
flight (a build request or a cell-less mapping younger than --stale-after) too
(`--allow-recent-transition`), and a consumer Nova never knew or typed for another service
(`--allow-foreign-consumer`). Live only: see `plan_allocation_delete`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from generator.domain.nova import MIGRATION_DONE, NOVA_CONSUMER_TYPES
from generator.domain.staleness import DEFAULT_STALE_AFTER, judge
from generator.errors import TargetProblem
from generator.facts.orphans import AllocationFacts, NovaEvidence
from generator.ops.operations import Operation
from generator.plan import builders as b
from generator.plan.model import ApiCommand, Plan
from generator.plan.overrides import Overrides, flag, override_record
from generator.plan.recipe import live_step
from generator.plan.vm_recipes import RELEASE_ALLOCATIONS
from generator.plan.vm_soft_delete import database_target
from generator.quoting import shell_arg


@dataclass(frozen=True)
class OrphanOptions:
    """Options of the orphan cleanups (`fixpack allocation` and `fixpack mapping`)."""

    op: str = "delete"
    allow: Overrides = field(default_factory=Overrides)
    stale_after: dt.timedelta = DEFAULT_STALE_AFTER


def build_in_flight(
    nova: NovaEvidence, uuid: str, read_at: dt.datetime, options: OrphanOptions, warnings: list[str], op: str
) -> None:
    """Refuse (recent-transition) when nova_api shows a build of `uuid` younger than --stale-after:
    the scheduler claims before the instance row exists, and the conductor maps it afterwards."""
    if nova.of(uuid, "instance"):
        return
    build = nova.build_request(uuid)
    mapping = nova.mapping(uuid)
    started = build["created_at"] if build is not None else None
    if started is None and mapping is not None and mapping["cell_id"] is None:
        started = mapping["created_at"]
    if started is None:
        return
    what = "build request" if build is not None else "instance mapping without a cell"
    seen = judge(what, started, read_at, options.stale_after)
    if not seen.stale:
        options.allow.refuse(
            "recent-transition",
            uuid,
            f"a {what} created {seen.since().removeprefix('last updated ')} says a build may be in flight",
            op,
            warnings,
            when=seen.accepted_without(flag("recent-transition")),
        )


def _judge_consumer(
    facts: AllocationFacts, consumer: str, options: OrphanOptions, warnings: list[str]
) -> str:
    """Why the consumer is an orphan (for the runbook), or a refusal."""
    op = "delete the allocations of"
    nova = facts.nova
    types = {r["id"]: r["name"] for r in facts.placement.rows("consumer_types")}
    row = next((c for c in facts.placement.rows("consumers") if c["uuid"] == consumer), None)
    ctype = types.get(row["consumer_type_id"]) if row is not None and "consumer_type_id" in row else None
    if ctype is not None and ctype not in NOVA_CONSUMER_TYPES:
        options.allow.refuse(
            "foreign-consumer", consumer, f"the consumer's type is {ctype!r}, another service's", op, warnings
        )
    for rec in nova.of(consumer):
        if rec.kind == "instance" and not rec.deleted:
            options.allow.refuse(
                "live-consumer",
                consumer,
                f"it is a live instance in {rec.cell} (vm_state {rec.state}, task_state {rec.task_state})",
                op,
                warnings,
                hint="for an instance that should be gone: fixpack vm UUID --op soft-delete",
            )
        if rec.kind == "migration" and not rec.deleted and rec.state not in MIGRATION_DONE:
            options.allow.refuse(
                "live-consumer", consumer, f"it is a migration in {rec.cell} with status {rec.state!r}",
                op, warnings,
            )  # fmt: skip
    build_in_flight(nova, consumer, facts.read_at, options, warnings, op)
    records = nova.of(consumer)
    if records:
        rec = records[0]
        gone = "deleted" if rec.deleted else (rec.state or "")
        return f"{rec.kind} in {rec.cell}: {gone}"
    if nova.mapping(consumer) is not None or nova.build_request(consumer) is not None:
        return "no instance in any cell (" + ", ".join(nova.cells_searched) + "); nova_api still maps it"
    options.allow.refuse(
        "foreign-consumer",
        consumer,
        "Nova does not know this consumer (no instance, migration, mapping or build request in "
        + ", ".join(nova.cells_searched)
        + "): it may be another service's",
        op,
        warnings,
    )
    return "unknown to Nova"


def plan_allocation_delete(facts: AllocationFacts, options: OrphanOptions) -> Plan:
    """Delete the consumers' allocations and consumer rows and bump their providers' generations.

    Pure; one or many consumers (`facts.consumers`): each provider's generation is bumped once.
    Live only: whether a consumer is orphaned is decided from rows in every cell and nova_api,
    which an offline bundle (SQL run on the Placement database alone) cannot see.
    """
    p = facts.placement
    warnings: list[str] = []
    findings: list[str] = []
    allocations = p.rows("allocations")
    consumer_rows = p.rows("consumers")
    for consumer in facts.consumers:
        held = [a for a in allocations if a["consumer_id"] == consumer]
        has_row = any(c["uuid"] == consumer for c in consumer_rows)
        if not held and not has_row:
            raise TargetProblem(
                f"consumer {consumer}: no allocations and no consumer row in Placement: nothing to delete"
            )
        why = _judge_consumer(facts, consumer, options, warnings)
        findings.append(
            f"consumer {consumer}: {len(held)} allocation row(s) on "
            f"{len({a['resource_provider_id'] for a in held})} provider(s), "
            f"{'a' if has_row else 'no'} consumer row; Nova: {why}"
        )
    ids = list(facts.consumers)
    providers = p.rows("resource_providers")
    bumped = [(rp, rp.replace(generation=rp["generation"] + 1)) for rp in providers]
    # Placement's own rows of a consumer (vm_recipes.RELEASE_ALLOCATIONS), in the words of this repair
    allocs, consumers = (
        replace(RELEASE_ALLOCATIONS[0], purpose="delete the consumer's allocations (placement "
                "_set_allocations with an empty body)", postcondition="the consumer(s) hold no allocations"),
        replace(RELEASE_ALLOCATIONS[1], purpose="delete the consumer record left with no allocations "
                "(delete_consumers_if_no_allocations)", postcondition="no consumer row is left"),
    )  # fmt: skip
    freed, gone = live_step(allocs, p, ids), live_step(consumers, p, ids)
    bump = b.update_each(
        p, "resource_providers", bumped,
        purpose="bump the generation of each provider the allocations were on, as placement does",
    )  # fmt: skip
    ops: list[Operation] = [*freed.operations, *b.present(bump), *gone.operations]
    for rp in providers:
        findings.append(
            f"provider {rp['uuid']} ({rp['name']!r}): generation {rp['generation']} -> {rp['generation'] + 1}"
        )
    if providers:
        warnings.append(
            "apply soon after generation: any allocation or inventory write on these providers bumps their "
            "generation and makes the guard stop the apply (regenerate then)"
        )
    posts = [*freed.postconditions, *gone.postconditions]
    one = ids[0] if len(ids) == 1 else "<consumer>"
    return Plan(
        target_kind="allocation",
        op=options.op,
        targets=tuple(ids),
        mode="live",
        release=p.release,
        databases=(database_target(p),),
        operations=tuple(ops),
        postconditions=tuple(posts),
        findings=tuple(findings),
        warnings=tuple(warnings),
        api_first=(
            ApiCommand(
                f"openstack resource provider allocation delete {shell_arg(one)}",
                "Placement's own delete (allocations and consumer; provider generations are not bumped)",
            ),
        ),
        options={**override_record(options), "cells_checked": list(facts.nova.cells_searched)},
    )
