"""Batch facts: `read_instances` reads in one pass exactly what `read_instance` reads one by one."""

from __future__ import annotations

import dataclasses

import pytest

from generator.errors import TargetProblem
from generator.facts.batch import read_instances
from generator.facts.instance import InstanceFacts, read_instance
from generator.facts.live import LiveDatabases
from generator.seed import Seeder
from tests.bundles import targets_for

pytestmark = pytest.mark.db


def _comparable(facts: InstanceFacts) -> InstanceFacts:
    return dataclasses.replace(facts, read_at=None)  # type: ignore[arg-type]


def _tables(facts: InstanceFacts) -> dict[str, dict[str, tuple[str, str, tuple]]]:
    """Every table read, per database: scope SQL, scope description and rows (for a readable diff)."""
    out = {}
    for db in (facts.cell, facts.api, facts.placement, facts.cinder):
        if db is not None:
            out[db.role] = {t: (r.scope.sql, r.scope.description, r.rows) for t, r in db.tables.items()}
    return out


@pytest.mark.parametrize("include_shadow", [False, True])
def test_read_instances_equals_one_by_one(make_deployment, include_shadow: bool) -> None:
    dep = make_deployment("2025.1")
    s = Seeder(dep, seed=5)
    hosts = [s.compute_host(f"cmp-{i:02d}") for i in range(1, 4)]
    instances = [
        s.instance(host=hosts[0], vm_state="error", task_state="deleting", volumes=2, pci_devices=1,
                   vif_types=("ovs_hybrid", "ovs"), actions=3, faults=2),
        s.instance(host=hosts[1], migration="resize", migration_status="error", new_flavor="m1.medium"),
        s.instance(cell="cell0"),
        s.instance(host=hosts[2], volumes=1, tags=(), faults=0, console_tokens=0, shelved=True),
        *(s.instance(host=hosts[i % 3]) for i in range(6)),
    ]  # fmt: skip
    s.flush()
    uuids = [i.uuid for i in instances]
    for targets in (targets_for(dep), targets_for(dep, placement=False, cinder=False)):
        one_live = LiveDatabases(targets)
        batch_live = LiveDatabases(targets)
        try:
            single = [read_instance(one_live, u, include_shadow=include_shadow) for u in uuids]
            batch = read_instances(batch_live, uuids, include_shadow=include_shadow)
            few = LiveDatabases(targets)
            try:  # the first three cover both cells: as many round trips as all ten
                read_instances(few, uuids[:3], include_shadow=include_shadow)
            finally:
                few.close()
            assert batch_live.counter.count == few.counter.count < one_live.counter.count
        finally:
            one_live.close()
            batch_live.close()
        assert [b.uuid for b in batch] == uuids
        for a, b in zip(single, batch, strict=True):
            assert _tables(a) == _tables(b)
            assert _comparable(a) == _comparable(b)
            assert b.cell.rows("instances")[0]["uuid"] == b.uuid


def test_read_instances_missing_instance_is_the_same_error(make_deployment) -> None:
    dep = make_deployment("2025.1")
    s = Seeder(dep, seed=6)
    present = s.instance()
    s.flush()
    missing = "0a1b2c3d-0000-4000-8000-000000000001"
    live = LiveDatabases(targets_for(dep))
    try:
        with pytest.raises(TargetProblem) as one:
            read_instance(live, missing)
        with pytest.raises(TargetProblem) as batch:
            read_instances(live, [present.uuid, missing])
    finally:
        live.close()
    assert str(batch.value) == str(one.value)


def test_cinder_rows_read_by_key_are_the_rows_of_the_scopes(make_deployment) -> None:
    from generator.facts.instance import cinder_wanted, read_cinder, volume_bdm_ids
    from generator.facts.reader import read_tables

    dep = make_deployment("2025.1")
    s = Seeder(dep, seed=5)
    host = s.compute_host("cmp-01")
    with_volumes = s.instance(host=host, vm_state="error", task_state="deleting", volumes=2)
    without = s.instance(host=host)
    s.flush()
    live = LiveDatabases(targets_for(dep))
    try:
        for uuid in (with_volumes.uuid, without.uuid):
            facts = read_instance(live, uuid)
            assert facts.cinder is not None
            session, schema = live.session("cinder"), facts.cinder.schema
            wanted = cinder_wanted(uuid, volume_bdm_ids(facts.cell.tables))
            by_scope = read_tables(session, schema, wanted)
            by_key = read_cinder(session, schema, uuid, volume_bdm_ids(facts.cell.tables))
            assert by_key == by_scope  # same scopes (the bundle's guards), same rows
            assert [(t, r.scope.sql) for t, r in by_key.items()] == [(t, sc.sql) for t, sc in wanted]
        assert len(read_instance(live, with_volumes.uuid).cinder.tables["volumes"].rows) == 2
    finally:
        live.close()
