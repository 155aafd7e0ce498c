"""ops/dispatch.py: behaviour chosen by type, looked up along the MRO, one registry per concern."""

from __future__ import annotations

import pytest

from generator.ops.dispatch import Dispatch, UnregisteredType
from generator.ops.operations import (
    CapturedRestore,
    CheckRows,
    DeleteRows,
    InsertRows,
    Operation,
    ScopedOperation,
    UpdateRows,
)
from generator.render.dml import DML, dml_for
from generator.render.guards import GUARDS
from tests.unit import world as w


class _Base:
    pass


class _Child(_Base):
    pass


class _Grandchild(_Child):
    pass


class _Other:
    pass


def test_a_subclass_finds_the_value_of_its_nearest_registered_base():
    names: Dispatch[str] = Dispatch("name")
    names.register(_Base)("base")
    assert names.lookup(_Grandchild) == "base" and names.of(_Child()) == "base"
    names.register(_Child)("child")
    assert names.lookup(_Grandchild) == "child" and names.lookup(_Base) == "base"


def test_register_is_a_decorator_returning_what_it_registers_for_every_type_named():
    shout: Dispatch = Dispatch("shout")

    @shout.register(_Base, _Other)
    def loud(obj: object) -> str:
        return type(obj).__name__.upper()

    assert shout.of(_Child())(_Child()) == "_CHILD" and shout.lookup(_Other) is loud


def test_an_unregistered_type_is_a_one_line_error_naming_the_concern_and_the_type():
    names: Dispatch[str] = Dispatch("name")
    names.register(_Child, _Other)("x")
    assert names.get(_Base) is None
    with pytest.raises(UnregisteredType) as raised:
        names.lookup(_Base)
    message = str(raised.value)
    assert message == "no name for _Base (registered: _Child, _Other)" and "\n" not in message
    assert isinstance(raised.value, TypeError)  # what the isinstance chains raised before


def test_a_type_is_registered_once_per_concern():
    names: Dispatch[str] = Dispatch("name")
    names.register(_Base)("one")
    with pytest.raises(ValueError, match="name: _Base is registered twice"):
        names.register(_Base)("two")


def test_the_renderer_names_the_operation_type_it_has_no_dml_for():
    check = CheckRows("nova", "instance_metadata", ("id",), "p", rows=(w.metadata(1, "a"),))
    with pytest.raises(UnregisteredType, match=r"^no DML for CheckRows \(registered: "):
        dml_for(check, w.schema("nova").table("instance_metadata"))


def test_every_live_operation_type_has_a_guard_and_the_writing_ones_dml():
    for cls in (UpdateRows, DeleteRows, InsertRows, CheckRows):
        assert GUARDS.get(cls) is not None
    assert [c.__name__ for c in (UpdateRows, DeleteRows, InsertRows, CheckRows) if DML.get(c)] == [
        "UpdateRows",
        "DeleteRows",
        "InsertRows",
    ]
    assert GUARDS.get(CapturedRestore) is None  # offline only: run-time rows, no live guard


def test_scoped_operations_keep_their_field_order_and_stay_frozen():
    assert issubclass(UpdateRows, ScopedOperation) and issubclass(DeleteRows, ScopedOperation)
    assert not issubclass(InsertRows, ScopedOperation) and issubclass(ScopedOperation, Operation)
    update = UpdateRows("nova", "t", ("id",), "p", None, None, None, True, frozenset(), 3)
    assert (update.scope, update.stays_in_scope, update.scope_count) == (None, True, 3)
    delete = DeleteRows("nova", "t", ("id",), "p", None, None, 2)
    assert (delete.scope_count, delete.stays_in_scope) == (2, False)
    with pytest.raises(AttributeError):
        delete.scope_count = 1  # type: ignore[misc]
