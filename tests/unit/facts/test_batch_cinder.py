"""facts/batch_cinder.py: an instance's Cinder SELECTs from its shape's rendering are exactly
the ones `select_for` renders for its own scopes, and values that are not UUIDs take the
ordinary way."""

from __future__ import annotations

import uuid

import pytest

from generator.catalog import catalog_snapshot
from generator.facts.batch_cinder import CinderReads
from generator.facts.instance import cinder_wanted
from generator.facts.reader import select_for
from generator.sqlgen.dialect import to_sql


def _expected(schema, instance: str, volumes: list[str]) -> list[tuple[str, str, str, str]]:
    return [
        (t, s.description, select_for(schema, t, s), s.sql)
        for t, s in cinder_wanted(instance, volumes)
        if schema.has_table(t)
    ]


def _got(reads: CinderReads, instance: str, volumes: list[str]) -> list[tuple[str, str, str, str]]:
    """Each scope's tree (built on first use) rendered too: the scope of the instance's own reads."""
    return [(t, s.description, text, to_sql(s.condition)) for t, s, text in reads.of(instance, volumes)]


@pytest.mark.parametrize("release", ["2023.1", "2025.1"])
def test_every_instance_gets_the_statements_of_its_own_scopes(release: str) -> None:
    schema = catalog_snapshot(release, "cinder")
    reads = CinderReads(schema)
    for n in range(12):  # counts seen twice or more: the second comes from the shape
        instance = str(uuid.UUID(int=n + 1))
        volumes = sorted(str(uuid.uuid4()).upper() if k % 2 else str(uuid.uuid4()) for k in range(n % 4))
        assert _got(reads, instance, volumes) == _expected(schema, instance, volumes)
    assert {k for k, v in reads._shapes.items() if v is not None} == {0, 1, 2, 3}


def test_values_that_are_not_uuids_are_rendered_the_ordinary_way() -> None:
    schema = catalog_snapshot("2025.1", "cinder")
    reads = CinderReads(schema)
    instance = str(uuid.UUID(int=7))
    reads.of(instance, [str(uuid.UUID(int=8))])  # the one-volume shape exists
    odd = ["it's-not-a-uuid", "x" * 36, "00000000-0000-0000-0000-fixpackv0000"]
    for volume in odd:
        assert _got(reads, instance, [volume]) == _expected(schema, instance, [volume])
