"""render/offline_rounds.py: the offline apply in rounds of at most --chunk-rows rows."""

from __future__ import annotations

from functools import cache

from generator.plan.vm_common import VmOptions
from generator.plan.vm_offline import plan_vm_offline
from generator.render.sql import render_sql
from generator.render.writeset import rounds_for
from tests.unit import world as w


@cache
def _apply(chunk_rows: int) -> str:
    plan = plan_vm_offline(w.INSTANCE, VmOptions(op="soft-delete"), w.RELEASE)
    files, _ = render_sql(plan, chunk_rows)
    return next(f.text for f in files if f.path == "sql/20-apply-nova.sql")


def test_one_transaction_per_round_each_with_the_chunk_as_its_budget():
    text = _apply(100)
    rounds = rounds_for(100)
    assert text.count("START TRANSACTION;") == rounds == text.count("COMMIT;")
    assert text.count("SET @fixpack_budget = 100;") == rounds
    assert f"-- ==== round {rounds}/{rounds}: one transaction, at most 100 row(s) in all steps ====" in text


def test_round_one_checks_the_totals_and_the_galera_limits_before_any_write():
    text = _apply(100)
    first_write = text.index("UPDATE `")
    assert text.index(f"'all steps together at most {rounds_for(100) * 100} rows' AS `guard`") < first_write
    assert text.index("'Galera write-set limits: a chunk of 100 row(s) fits (or wsrep is off)'") < first_write


def test_a_step_takes_the_rows_up_to_the_last_key_within_the_budget():
    text = w.flat(_apply(100))
    assert "SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);" in text
    assert "ROW_NUMBER() OVER (ORDER BY `id`) AS `fixpack_n`" in text
    assert "`fixpack_n` = @fixpack_take" in text
    assert "SET @fixpack_budget = @fixpack_budget - @fixpack_take;" in text


def test_only_the_last_round_requires_every_scope_empty():
    text = _apply(100)
    last = text.index(f"-- ==== round {rounds_for(100)}/")
    assert "no row is left needing the change" not in text[:last]
    assert "no row is left needing the change" in text[last:]
