"""One step, two evaluators: the rows a live plan picks are the rows its SQL scope selects."""

from __future__ import annotations

import pytest
from sqlglot import exp

from generator.ops.operations import DeleteRows, UpdateRows
from generator.plan.recipe import Selected, Step, bind, live_step, offline_step, on_target, soft_delete_step
from generator.sqlgen.builders import eq
from tests.unit import world as w

STEP = soft_delete_step("nova", "instance_metadata", "instance_uuid", "soft-delete")


def test_binding_one_target_writes_equality_and_several_an_in_list():
    assert w.sql_of(bind(on_target("consumer_id"), ["a"])) == "consumer_id = 'a'"
    assert w.sql_of(bind(on_target("consumer_id"), ["a", "b"])) == "consumer_id IN ('a', 'b')"
    with pytest.raises(ValueError, match="at least one target"):
        bind(on_target("uuid"), [])


def test_the_declaration_is_not_changed_by_binding():
    bind(STEP.scope, ["x"])
    assert w.sql_of(STEP.where(["y"])) == "instance_uuid = 'y' AND deleted = 0"


def test_live_picks_exactly_the_rows_the_bound_scope_keeps():
    rows = [w.metadata(1, "a"), w.metadata(2, "b", deleted=2), w.metadata(3, "c", uuid=w.OTHER_INSTANCE)]
    db = w.database("nova", "nova", {"instance_metadata": rows})
    result = live_step(STEP, db, [w.INSTANCE])
    (op,) = result.operations
    assert isinstance(op, UpdateRows)
    assert [c.before["id"] for c in op.changes] == [1]
    assert w.sql_of(op.scope.condition) == f"instance_uuid = '{w.INSTANCE}' AND deleted = 0"
    assert w.post_texts(result.postconditions) == [
        "nova: no live instance_metadata rows of the instance remain: "
        "(SELECT COUNT(*) FROM instance_metadata "
        f"WHERE instance_uuid = '{w.INSTANCE}' AND deleted = 0) = 0"
    ]


def test_live_with_no_matching_row_changes_nothing_but_still_checks():
    db = w.database("nova", "nova", {"instance_metadata": [w.metadata(2, "b", deleted=2)]})
    result = live_step(STEP, db, [w.INSTANCE])
    assert result.operations == () and len(result.postconditions) == 1


def test_offline_emits_the_same_scope_to_change_at_run_time():
    result = offline_step(STEP, w.schema("nova"), [w.INSTANCE])
    (op,) = result.operations
    assert isinstance(op, UpdateRows) and op.changes is None
    assert w.sql_of(op.scope.condition) == f"instance_uuid = '{w.INSTANCE}' AND deleted = 0"
    assert [c for c, _ in op.assignments] == ["deleted", "deleted_at"]


def test_a_step_without_assignments_deletes_and_a_missing_table_is_skipped():
    step = Step("nova", "tags", on_target("resource_id"), "tags of {target}", "hard-delete")
    (op,) = offline_step(step, w.schema("nova"), ["u"]).operations
    assert isinstance(op, DeleteRows) and op.scope.description == "tags of u"
    absent = Step("nova", "no_such_table", eq("id", 1), "none", "nothing")
    assert offline_step(absent, w.schema("nova"), ["u"]).operations == ()


def test_a_query_target_binds_as_the_rows_it_finds_at_run_time():
    snapshots = exp.select("id").from_("snapshots").where(eq("volume_id", "v"))
    bound = bind(on_target("snapshot_id"), [Selected(snapshots, "the snapshots of v")])
    assert w.sql_of(bound) == "snapshot_id IN (SELECT id FROM snapshots WHERE volume_id = 'v')"


def _steps() -> list[Step]:
    from generator.plan import vm_recipes as r

    return [*r.SOFT_DELETE_API, *r.SOFT_DELETE_CELL_RELATED, r.SOFT_DELETE_INSTANCE, *r.RELEASE_ALLOCATIONS]


def test_a_scope_bound_to_one_uuid_has_the_text_its_tree_renders_to():
    """The text comes from one rendering around a marker (recipe._BoundTexts): it must be the
    scope's own rendering, for any UUID, upper case too; other targets are rendered as usual."""
    import uuid

    from generator.sqlgen.dialect import to_sql

    targets = [str(uuid.UUID(int=n * 7919)) for n in range(1, 4)] + [
        str(uuid.uuid4()).upper(),
        "not-a-uuid",
        42,
    ]
    for step in _steps():
        for t in targets:
            scope = step.scope_for([t])
            assert scope.sql == to_sql(scope.condition), (step.table, t)
        assert step._texts.ok is True, step.table


def test_a_check_built_later_is_the_check_bound_now():
    """Step.check's tree is bound on first use (model.Postcondition.built_later): the same tree,
    and equal to (and hashed as) the Postcondition of the same fields."""
    from generator.plan.model import Postcondition
    from generator.sqlgen.dialect import to_sql

    step = soft_delete_step("nova", "instance_metadata", "instance_uuid", "p")
    targets = ("6f1c3a52-0b7e-4d7a-9a51-3c2f1d0e9b11", "7f1c3a52-0b7e-4d7a-9a51-3c2f1d0e9b12")
    later = step.check(targets)
    assert later is not None
    now = Postcondition(
        "nova", later.description, bind(step.check_template, targets), later.template, targets
    )
    assert to_sql(later.condition) == to_sql(now.condition)
    assert later == now and now == later and hash(later) == hash(now)
    assert later != Postcondition("nova", "other", now.condition, now.template, targets)
