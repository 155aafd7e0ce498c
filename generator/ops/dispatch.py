"""Behaviour chosen by an operation's type: one registry per concern, instead of isinstance chains.

The way alembic's `Operations.implementation_for` / `dispatch_for` and sqlglot's
`Generator.TRANSFORMS` do it: each concern (live DML, guards, pre-images, …) keeps a
`Dispatch` from operation type to what that concern does for it, filled by
`@REGISTRY.register(UpdateRows)` next to the code, and looked up along the type's MRO. A type
nobody registered is a one-line error naming the concern and the type, not a silent fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class UnregisteredType(TypeError):
    """A Dispatch has nothing for this type (nor for any of its bases)."""


class Dispatch(Generic[V]):
    """Type -> value (usually a function taking an instance of that type), looked up along the MRO."""

    def __init__(self, concern: str) -> None:
        self.concern = concern  # what the values do, for the error: "no {concern} for {type}"
        self._by_type: dict[type, V] = {}

    def register(self, *types: type) -> Callable[[V], V]:
        """Decorator (or plain call) registering a value for `types`; each type only once."""

        def add(value: V) -> V:
            for cls in types:
                if cls in self._by_type:
                    raise ValueError(f"{self.concern}: {cls.__name__} is registered twice")
                self._by_type[cls] = value
            return value

        return add

    def get(self, cls: type) -> V | None:
        """The value for `cls` or its nearest registered base; None if there is none."""
        for klass in cls.__mro__:
            if klass in self._by_type:
                return self._by_type[klass]
        return None

    def lookup(self, cls: type) -> V:
        found = self.get(cls)
        if found is None:
            known = ", ".join(sorted(c.__name__ for c in self._by_type))
            raise UnregisteredType(f"no {self.concern} for {cls.__name__} (registered: {known})")
        return found

    def of(self, obj: Any) -> V:
        """The value for `type(obj)`."""
        return self.lookup(type(obj))
