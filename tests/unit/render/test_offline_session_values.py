"""render/offline.py: a plan's session values, read after every START TRANSACTION of its database's files."""

from __future__ import annotations

import re

from generator.plan.vm_common import VmOptions
from generator.plan.vm_offline import plan_vm_offline
from generator.render.sql import render_sql
from tests.unit import world as w

U = w.INSTANCE
SET_ID = "SET @fixpack_move_id = (SELECT MAX(`id`) FROM `migrations`"


def _files() -> dict[str, str]:
    plan = plan_vm_offline(U, VmOptions(op="rehost", to_host="cmp-02", to_node="cmp-02.example"), w.RELEASE)
    files, _ = render_sql(plan)
    return {f.path.split("/")[-1]: f.text for f in files}


def _statement(text: str, start: str) -> str:
    at = text.index(start)
    return text[at : text.index(";\n", at)]


def test_every_apply_round_reads_the_open_move_first_under_lock():
    apply = _files()["20-apply-nova.sql"]
    rounds = apply.split("\n-- ==== round ")[1:]
    assert len(rounds) == len(re.findall(r"^START TRANSACTION;$", apply, re.M)) > 1
    for body in rounds:
        head = body[: body.index("@fixpack_scope")]  # before the first scope read of the round
        for name in ("fixpack_move_id", "fixpack_move_end", "fixpack_move_type"):
            assert f"SET @{name} = " in head
            assert _statement(body, f"SET @{name} = ").endswith("FOR UPDATE)")
        assert head.index("START TRANSACTION;") < head.index(SET_ID) < head.index("SET @fixpack_move_end")
    assert apply.count(SET_ID) == len(rounds)


def test_read_only_files_read_it_once_without_locks():
    files = _files()
    for name in ("10-precheck-nova.sql", "15-capture-nova.sql", "30-verify-nova.sql"):
        text = files[name]
        assert text.count(SET_ID) == 1, name
        assert text.index("START TRANSACTION;") < text.index(SET_ID), name
        assert "FOR UPDATE" not in _statement(text, SET_ID), name


def test_outcome_scopes_compare_the_variables_instead_of_reading_migrations():
    apply = _files()["20-apply-nova.sql"]
    assert "AS `fixpack_move`" not in apply  # no derived table of the move is left
    ends = [s for s in apply.split(";\n") if s.lstrip().startswith("UPDATE `migrations`")]
    assert ends and all("@fixpack_move_id" in s for s in ends)
    assert any("@fixpack_move_end <=> 'reverted'" in s for s in ends)
