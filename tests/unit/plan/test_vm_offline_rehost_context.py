"""plan/vm_offline_rehost_context.py: the migration context applied in SQL when the file runs."""

from __future__ import annotations

from generator.ops.operations import ApplyTime, FromQuery
from generator.plan import vm_offline_rehost_context as ctx
from tests.unit import world as w
from tests.unit.plan.test_vm_offline_rehost import _plan


def test_pci_requests_are_an_empty_list_or_null_and_any_request_stops_the_file():
    # rebuilding to_json's keys per request in SQL made the file unreviewable (module docstring):
    # offline, a side without requests is written '[]' (to_json of no requests), NULL stays NULL,
    # and the precondition admits no request at all
    assert ctx.PCI_REQUEST_LIMIT == 0
    text = ctx.value_sql("new_", "pci_requests")
    side = "'$.\"nova_object.data\".new_pci_requests'"
    assert text == (
        f"CASE WHEN COALESCE(JSON_TYPE(JSON_EXTRACT(migration_context, {side})), 'NULL') = 'NULL' "
        "THEN NULL ELSE '[]' END"
    )
    assert 'JSON_LENGTH(JSON_EXTRACT(migration_context, \'$."nova_object.data".new_pci_requests' in (
        ctx.faithful_sql("new_")
    )
    assert ", 0) <= 0 AND TRUE))" in ctx.faithful_sql("new_")


def test_numa_topology_and_resources_are_the_context_values_as_stored():
    at = "JSON_EXTRACT(migration_context, '$.\"nova_object.data\".old_resources')"
    assert ctx.value_sql("old_", "resources") == (
        f"CASE WHEN COALESCE(JSON_TYPE({at}), 'NULL') = 'NULL' THEN NULL ELSE {at} END"
    )


def test_the_copy_is_made_only_from_json_dumps_text_on_mariadb():
    text = ctx.faithful_sql("new_")
    for term in (
        "VERSION() LIKE '%MariaDB%'",
        "JSON_VALID(migration_context)",
        "CHAR_LENGTH(migration_context) = LENGTH(migration_context)",
        "LOCATE(CHAR(92), migration_context) = 0",
        "'[,:]([^ ]|$)'",
        "'[0-9][.eE]|-0'",
        f"<= {ctx.PCI_REQUEST_LIMIT}",
    ):
        assert term in text, term


def test_each_side_is_applied_and_guarded_for_its_outcome_only():
    plan = _plan()
    steps = [o for o in w.ops_on(plan, "instance_extra") if "resources" in dict(o.assignments)]
    assert len(steps) == 2
    for step, side in zip(steps, ("new_", "old_"), strict=True):
        values = dict(step.assignments)
        assert isinstance(values["updated_at"], ApplyTime)
        assert all(isinstance(values[c], FromQuery) for c in ctx.COLUMNS)
        scope = w.sql_of(step.scope.condition)
        assert f"{side}pci_requests" in scope and "CAST(numa_topology AS BINARY)" in scope
    assert "IN ('resize', 'migration')" in w.sql_of(steps[1].scope.condition)
    assert "IN ('resize', 'migration')" not in w.sql_of(steps[0].scope.condition)  # any completed move
    guards = [p for p in w.post_texts(plan.preconditions) if "in json.dumps form" in p]
    assert len(guards) == 2 and all("NOT COALESCE(VERSION() LIKE '%MariaDB%'" in g for g in guards)


def test_the_context_is_applied_before_it_is_dropped():
    ops = w.ops_on(_plan(), "instance_extra")
    drop = next(i for i, o in enumerate(ops) if "migration_context" in dict(o.assignments))
    assert all("resources" in dict(o.assignments) for o in ops[:drop]) and drop == 2
