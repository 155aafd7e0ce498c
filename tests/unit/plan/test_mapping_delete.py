"""plan/mapping_delete.py: which nova_api records of a uuid go, decided by what the cells hold."""

from __future__ import annotations

import datetime as dt

import pytest

from generator.errors import TargetProblem
from generator.facts.orphans import CellRecord, MappingFacts, NovaEvidence
from generator.ops.rows import Row
from generator.plan.allocation_delete import OrphanOptions
from generator.plan.mapping_delete import plan_mapping_delete
from generator.plan.overrides import Overrides
from tests.unit import world as w

U = "7b2e5d2f-1c80-4e63-8d1b-6c4f3e2e1d02"
OLD = w.NOW - dt.timedelta(days=30)


def _mapping(cell: str | None = "cell1", created=OLD) -> Row:
    return Row(
        ("instance_uuid", "cell_id", "created_at", "cell_name"), (U, 1 if cell else None, created, cell)
    )


def _build(created=OLD) -> Row:
    return Row(("instance_uuid", "created_at"), (U, created))


def _facts(*records: CellRecord, cell: str | None = "cell1", build: bool = True, created=OLD) -> MappingFacts:
    api = w.database(
        "nova_api",
        "nova_api",
        {
            "instance_mappings": [w.row("nova_api", "instance_mappings", id=1, instance_uuid=U, cell_id=1)],
            "build_requests": [w.row("nova_api", "build_requests", id=2, instance_uuid=U)] if build else [],
            "request_specs": [w.row("nova_api", "request_specs", id=3, instance_uuid=U, spec="{}")],
            "instance_group_member": [
                w.row("nova_api", "instance_group_member", id=4, instance_uuid=U, group_id=1)
            ],
        },
    )
    nova = NovaEvidence(
        ("cell1", "cell2"), records, (_mapping(cell, created),), (_build(created),) if build else ()
    )
    return MappingFacts((U,), api, nova, w.NOW)


def _inst(cell: str, deleted: bool = False) -> CellRecord:
    return CellRecord(cell, "instance", U, deleted, "deleted" if deleted else "active", None, OLD)


def _tables(plan) -> list[str]:
    return [op.table for op in plan.operations]


def test_no_instance_anywhere_deletes_every_record_build_request_first():
    plan = plan_mapping_delete(_facts(), OrphanOptions())
    assert _tables(plan) == ["build_requests", "request_specs", "instance_group_member", "instance_mappings"]
    assert len(plan.postconditions) == 4 and [d.role for d in plan.databases] == ["nova_api"]
    assert plan.target_kind == "mapping" and plan.op == "delete"


def test_instance_in_the_mapped_cell_keeps_the_mapping_and_loses_a_leftover_build_request():
    plan = plan_mapping_delete(_facts(_inst("cell1", deleted=True)), OrphanOptions())
    assert _tables(plan) == ["build_requests"]
    assert any("kept: request_specs, instance_group_member, instance_mappings" in f for f in plan.findings)


def test_instance_in_the_mapped_cell_without_build_request_is_refused():
    with pytest.raises(TargetProblem, match=r"exists in cell1.*--allow-instance-exists"):
        plan_mapping_delete(_facts(_inst("cell1"), build=False), OrphanOptions())
    allowed = OrphanOptions(allow=Overrides.of("instance-exists"))
    assert _tables(plan_mapping_delete(_facts(_inst("cell1"), build=False), allowed)) == ["instance_mappings"]
    deleted = plan_mapping_delete(_facts(_inst("cell1", deleted=True), build=False), allowed)
    assert _tables(deleted) == ["request_specs", "instance_group_member", "instance_mappings"]


def test_instance_in_another_cell_loses_the_wrong_mapping_only():
    plan = plan_mapping_delete(_facts(_inst("cell2"), build=False), OrphanOptions())
    assert _tables(plan) == ["instance_mappings"]
    assert any("map_instances" in x for x in plan.warnings)


def test_a_fresh_build_is_refused():
    with pytest.raises(TargetProblem, match="--allow-recent-transition; accepted without"):
        plan_mapping_delete(_facts(cell=None, created=w.NOW - dt.timedelta(minutes=5)), OrphanOptions())
    allowed = OrphanOptions(allow=Overrides.of("recent-transition"))
    assert plan_mapping_delete(_facts(cell=None, created=w.NOW), allowed).operations


def test_nothing_to_delete():
    facts = _facts()
    empty = w.database("nova_api", "nova_api", {t: [] for t in facts.api.tables})
    with pytest.raises(TargetProblem, match="nothing to delete"):
        plan_mapping_delete(MappingFacts(facts.uuids, empty, facts.nova, facts.read_at), OrphanOptions())
