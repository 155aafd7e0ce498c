"""plan/allocation_delete.py: an orphaned consumer's allocations and consumer row deleted, its
providers' generations bumped once each, and every way Nova may still use the consumer refused."""

from __future__ import annotations

import datetime as dt

import pytest

from generator.errors import TargetProblem
from generator.facts.orphans import AllocationFacts, CellRecord, NovaEvidence
from generator.ops.operations import DeleteRows, UpdateRows
from generator.ops.rows import Row
from generator.plan.allocation_delete import OrphanOptions, plan_allocation_delete
from generator.plan.overrides import Overrides
from tests.unit import world as w

C1 = "6a1d4c1e-0b7f-4d52-9c0a-5b3e2f1d0c01"
C2 = "6a1d4c1e-0b7f-4d52-9c0a-5b3e2f1d0c02"


def _nova(*records: CellRecord, mappings=(), builds=()) -> NovaEvidence:
    return NovaEvidence(("cell1",), tuple(records), tuple(mappings), tuple(builds))


def _deleted(uuid: str = C1) -> CellRecord:
    return CellRecord("cell1", "instance", uuid, True, "deleted", None, w.NOW - dt.timedelta(days=3))


def _facts(nova: NovaEvidence, consumers=(C1,), types=()) -> AllocationFacts:
    allocations = [w.allocation(1, C1, 10), w.allocation(2, C1, 11, rc=1, used=512)]
    if C2 in consumers:
        allocations.append(w.allocation(3, C2, 10))
    placement = w.database(
        "placement",
        "placement",
        {
            "allocations": allocations,
            "consumers": [w.consumer(1, c) for c in consumers],
            "resource_providers": [w.provider(10, "rp-a", "cmp-01"), w.provider(11, "rp-b", "cmp-02", 9)],
            "consumer_types": list(types),
        },
    )
    return AllocationFacts(tuple(consumers), placement, nova, w.NOW)


def test_deletes_allocations_and_consumer_and_bumps_each_provider_once():
    plan = plan_allocation_delete(_facts(_nova(_deleted(), _deleted(C2)), (C1, C2)), OrphanOptions())
    assert [(type(o), o.table) for o in plan.operations] == [
        (DeleteRows, "allocations"), (UpdateRows, "resource_providers"), (DeleteRows, "consumers"),
    ]  # fmt: skip
    allocs, providers, consumers = plan.operations
    assert [r["id"] for r in allocs.rows] == [1, 2, 3]
    assert {c.before["id"]: c.after["generation"] for c in providers.changes} == {10: 6, 11: 10}
    assert [r["uuid"] for r in consumers.rows] == [C1, C2]
    assert [d.role for d in plan.databases] == ["placement"] and plan.mode == "live"
    assert plan.targets == (C1, C2) and plan.target_kind == "allocation"
    assert len(plan.postconditions) == 2
    assert "openstack resource provider allocation delete" in plan.api_first[0].command


def test_rollback_restores_generation_and_rows():
    plan = plan_allocation_delete(_facts(_nova(_deleted())), OrphanOptions())
    reverse = [op.reverse() for op in reversed(plan.operations)]
    assert [type(o).__name__ for o in reverse] == ["InsertRows", "UpdateRows", "InsertRows"]


def test_refuses_a_live_instance_unless_allowed():
    live = CellRecord("cell1", "instance", C1, False, "active", None, w.NOW)
    with pytest.raises(TargetProblem, match=r"live instance in cell1.*--allow-live-consumer"):
        plan_allocation_delete(_facts(_nova(live)), OrphanOptions())
    plan = plan_allocation_delete(_facts(_nova(live)), OrphanOptions(allow=Overrides.of("live-consumer")))
    assert plan.warnings[0].startswith("--allow-live-consumer: ")


@pytest.mark.parametrize("status, refused", [("running", True), ("error", False), ("confirmed", False)])
def test_migration_in_progress_is_refused_finished_is_not(status: str, refused: bool):
    mig = CellRecord("cell1", "migration", C1, False, status, None, w.NOW)
    if refused:
        with pytest.raises(TargetProblem, match="--allow-live-consumer"):
            plan_allocation_delete(_facts(_nova(mig)), OrphanOptions())
    else:
        assert plan_allocation_delete(_facts(_nova(mig)), OrphanOptions()).operations


def test_unknown_or_foreign_consumers_are_refused():
    with pytest.raises(TargetProblem, match=r"Nova does not know.*--allow-foreign-consumer"):
        plan_allocation_delete(_facts(_nova()), OrphanOptions())
    blazar = w.row("placement", "consumer_types", id=4, name="RESERVATION")
    facts = _facts(_nova(_deleted()), types=[blazar])
    facts = AllocationFacts(facts.consumers, _with_type(facts, 4), facts.nova, facts.read_at)
    with pytest.raises(TargetProblem, match=r"'RESERVATION', another service's.*--allow-foreign-consumer"):
        plan_allocation_delete(facts, OrphanOptions())


def _with_type(facts: AllocationFacts, type_id: int):
    tables = {t: list(facts.placement.rows(t)) for t in facts.placement.tables}
    tables["consumers"] = [r.replace(consumer_type_id=type_id) for r in tables["consumers"]]
    return w.database("placement", "placement", tables)


def test_a_fresh_build_is_refused_with_the_time_it_is_accepted():
    mapping = Row(("instance_uuid", "cell_id", "created_at", "cell_name"), (C1, None, w.NOW, None))
    with pytest.raises(
        TargetProblem, match=r"build may be in flight.*--allow-recent-transition; accepted without"
    ):
        plan_allocation_delete(_facts(_nova(mappings=[mapping])), OrphanOptions())
    old = mapping.replace(created_at=w.NOW - dt.timedelta(days=2))
    plan = plan_allocation_delete(_facts(_nova(mappings=[old])), OrphanOptions())
    assert "nova_api still maps it" in plan.findings[0]


def test_nothing_to_delete():
    facts = _facts(_nova())
    other = AllocationFacts((C2,), facts.placement, facts.nova, facts.read_at)  # C2 has no rows at all
    with pytest.raises(TargetProblem, match="nothing to delete"):
        plan_allocation_delete(other, OrphanOptions())
