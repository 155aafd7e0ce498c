"""Cinder's per-instance reads of a batch, each instance's SELECTs from one rendering per shape.

An instance's Cinder scopes (facts/instance.py `cinder_wanted`) differ per instance beyond its
UUID — they name the volumes of its own BDMs — so facts/batch.py reads them with one SELECT
per instance and table. Rendering those SELECTs (every column of the table, subqueries, the
qualifier pass) cost a 1000-VM batch a quarter of its time, yet they differ only by their
literals: every instance with the same number of BDM volumes gets the same statement around
its UUID and its volume ids. So each shape (number of volumes) is rendered once around
marker UUIDs and an instance's statement is that text with the markers' literals replaced.

That is exact only when a value's literal needs no escaping and is as long as its marker's
(the layout breaks lines by length): both hold for UUIDs, the only values taken this way (a
volume id from the database that is not UUID-shaped is rendered the ordinary way). The first
instance of each shape is also rendered the ordinary way and compared: a shape whose text
differs is never used.
"""

from __future__ import annotations

import re
from functools import partial

from sqlglot import exp

from generator.facts.instance import cinder_wanted
from generator.facts.reader import select_for
from generator.ops.rows import Scope
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.literals import sql_literal

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_INSTANCE = "00000000-0000-0000-0000-fixpackinst0"  # never a real UUID (not hex), 36 characters
_MAX_VOLUMES = 10_000  # marker numbers have four digits


def _volume(n: int) -> str:
    return f"00000000-0000-0000-0000-fixpackv{n:04d}"  # 36 characters, distinct from _INSTANCE


def _substitute(text: str, uuid: str, volumes: list[str]) -> str:
    text = text.replace(sql_literal(_INSTANCE), sql_literal(uuid))
    for n, volume in enumerate(volumes):
        text = text.replace(sql_literal(_volume(n)), sql_literal(volume))
    return text


def _condition(uuid: str, volumes: tuple[str, ...], table: str) -> exp.Expr:
    return dict(cinder_wanted(uuid, list(volumes)))[table].condition


class CinderReads:
    """`[(table, scope, select_for(schema, table, scope)) for the instance's cinder_wanted]`,
    tables absent from the schema left out, with the SELECT text from its shape's rendering
    (and the scope's tree built when first used: `Scope.built_later`)."""

    def __init__(self, schema: SchemaSnapshot) -> None:
        self.schema = schema
        # per number of volumes: table -> (scope description, SELECT text); None: failed its check
        self._shapes: dict[int, dict[str, tuple[str, str]] | None] = {}

    def _plain(self, uuid: str, volumes: list[str]) -> list[tuple[str, Scope, str]]:
        wanted = [(t, s) for t, s in cinder_wanted(uuid, volumes) if self.schema.has_table(t)]
        return [(t, s, select_for(self.schema, t, s)) for t, s in wanted]

    def of(self, uuid: str, volumes: list[str]) -> list[tuple[str, Scope, str]]:
        if len(volumes) >= _MAX_VOLUMES or not all(_UUID.match(v) for v in (uuid, *volumes)):
            return self._plain(uuid, volumes)
        count = len(volumes)
        if count not in self._shapes:
            marked = cinder_wanted(_INSTANCE, [_volume(n) for n in range(count)])
            built = {
                t: (s.description, select_for(self.schema, t, s))
                for t, s in marked
                if self.schema.has_table(t)
            }
            plain = self._plain(uuid, volumes)
            same = [t for t, _, _ in plain] == list(built) and all(
                (s.description, text) == (built[t][0], _substitute(built[t][1], uuid, volumes))
                for t, s, text in plain
            )
            self._shapes[count] = built if same else None
            return plain
        shape = self._shapes[count]
        if shape is None:
            return self._plain(uuid, volumes)
        frozen = tuple(volumes)
        return [
            (
                t,
                Scope.built_later(partial(_condition, uuid, frozen, t), words),
                _substitute(text, uuid, volumes),
            )
            for t, (words, text) in shape.items()
        ]
