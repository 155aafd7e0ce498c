"""render/writeset.py: chunk sizing under Galera's write-set limits, and what the runbook says."""

from __future__ import annotations

from dataclasses import replace

import pytest

from generator.errors import FixpackError
from generator.facts.model import WriteSetLimits
from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from generator.render.sqlfile import build_chunks
from generator.render.writeset import (
    MAX_ROUNDS,
    chunking_notes,
    image_bytes,
    op_bytes,
    rounds_for,
    row_estimates,
    sizing_for,
    value_bytes,
)
from tests.unit import world as w

GALERA = WriteSetLimits(wsrep_on=True, max_ws_rows=2, max_ws_size=2147483647, server="10.11-MariaDB")


def _plan(write_set: WriteSetLimits | None = None, rows: int = 5):
    cell = {"instance_metadata": [w.metadata(i, f"k{i}") for i in range(1, rows + 1)]}
    plan = plan_vm(w.vm(cell_rows=cell), VmOptions(op="soft-delete"))
    return replace(plan, databases=tuple(replace(db, write_set=write_set) for db in plan.databases))


def test_value_sizes_count_text_as_utf8_bytes_plus_a_length():
    assert value_bytes("é") == 2 + 4 and value_bytes(b"\x00\x01") == 2 + 4
    assert value_bytes(None) == 1 and value_bytes(7) == 8


def test_an_update_row_weighs_its_before_and_after_image_with_the_margin():
    op = next(o for o in _plan().operations if o.table == "instance_metadata")
    change = op.changes[0]
    assert row_estimates(op)[0] == 2 * (image_bytes(change.before) + image_bytes(change.after) + 64)
    assert op_bytes(op) == sum(row_estimates(op))


def test_without_wsrep_the_operators_chunk_size_is_kept():
    db = _plan(WriteSetLimits(wsrep_on=False, max_ws_rows=2)).database("nova")
    assert sizing_for(db, 1000).rows == 1000 and sizing_for(db, 1000).max_bytes is None


def test_wsrep_max_ws_rows_lowers_the_chunk_size_and_says_so():
    plan = _plan(GALERA)
    sizing = sizing_for(plan.database("nova"), 1000)
    assert (sizing.rows, sizing.lowered) == (2, True)
    notes, warnings = chunking_notes(plan, 1000)
    assert any("wsrep_on=ON, wsrep_max_ws_rows=2" in n and "chunks of at most 2 row(s)" in n for n in notes)
    assert any(w.startswith("--chunk-rows 1000 lowered to 2 for the Nova cell") for w in warnings)


def test_every_chunk_stays_within_the_rows_and_the_estimated_bytes():
    plan = _plan(replace(GALERA, max_ws_rows=100, max_ws_size=4000), rows=20)
    db = plan.database("nova")
    sizing = sizing_for(db, 1000)
    chunks = build_chunks(plan.operations_for("nova"), db, sizing.rows, sizing.max_bytes)
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.rows <= 100 and sum(op_bytes(s.op) for s in chunk.steps) <= 4000


def test_a_row_bigger_than_the_write_set_limit_is_refused_at_generation():
    plan = _plan(replace(GALERA, max_ws_rows=0, max_ws_size=50))
    db = plan.database("nova")
    with pytest.raises(FixpackError, match="more than wsrep_max_ws_size=50"):
        build_chunks(plan.operations_for("nova"), db, 1000, sizing_for(db, 1000).max_bytes)


def test_offline_rounds_hold_at_least_the_chunk_and_at_most_max_rounds():
    assert rounds_for(1000) == 2 and rounds_for(5000) == 1 and rounds_for(1) == MAX_ROUNDS
