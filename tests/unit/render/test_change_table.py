"""render/change_table.py: the table of every row a bundle changes, at the top of the runbook."""

from __future__ import annotations

import hashlib
import json
from functools import cache

from generator.ops.operations import DeleteRows, RowChange, UpdateRows
from generator.ops.rows import Row
from generator.plan.model import DatabaseTarget, Plan
from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from generator.plan.vm_offline import plan_vm_offline
from generator.quoting import md_code
from generator.render import change_table as ct
from generator.render.runbook import render_runbook
from generator.render.sql import render_sql
from tests.unit import world as w

DIGEST = "sha256:" + "ab" * 32
BUNDLE = "20260102T030405Z-test"
HOSTILE = "x|y`z\n<b>*bold*</b> $(rm -rf /)"
_INFO = json.loads(w.iscsi_connection())
SECRET_INFO = json.dumps({**_INFO, "data": {**_INFO["data"], "auth_password": "hunter2-secret"}})


@cache
def _live_plan():
    facts = w.vm(
        instance=w.instance_row(display_name=HOSTILE),
        cell_rows={
            "instance_metadata": [w.metadata(1, "a"), w.metadata(2, HOSTILE)],
            "block_device_mapping": [
                w.row(
                    "nova", "block_device_mapping", id=30, instance_uuid=w.INSTANCE, deleted=0,
                    volume_id=w.OTHER_VOLUME, connection_info=SECRET_INFO, device_name="/dev/vdb",
                )
            ],
        },
        api_rows={
            "instance_mappings": [
                w.row("nova_api", "instance_mappings", id=4, instance_uuid=w.INSTANCE, queued_for_delete=0)
            ]
        },
        placement_rows={
            "allocations": [w.allocation(11, w.INSTANCE, 1), w.allocation(12, w.INSTANCE, 1, rc=1)],
            "consumers": [w.consumer(5, w.INSTANCE)],
        },
    )  # fmt: skip
    return plan_vm(facts, VmOptions(op="soft-delete", skip_cinder=True))  # hand facts hold no Cinder database


def _md(plan=None) -> str:
    return ct.to_markdown(ct.build(plan or _live_plan()), DIGEST)


def test_every_changed_row_of_the_plan_has_one_line_under_its_step():
    plan = _live_plan()
    text = _md(plan)
    table = ct.build(plan)
    expected = sum(op.row_count or 0 for op in plan.operations)
    assert table.changed_rows == expected > 0
    rows_table = text.split("| before → after (update) / row (delete, insert) |")[1]
    row_lines = [ln for ln in rows_table.splitlines() if ln.startswith("| `db:")]
    assert len(row_lines) == expected
    for op in plan.operations:  # each step's count and each row's key
        step = next(s for s in table.steps if s.table == op.table and s.database == op.database)
        assert step.count == op.row_count == len(step.rows)


def test_an_update_shows_each_changed_column_before_and_after_and_apply_time_columns():
    table = ct.build(_live_plan())
    inst = next(s for s in table.steps if s.table == "instances")
    (row,) = inst.rows
    assert row.key == (("id", "7"),)
    changes = {c.column: c for c in row.changes}
    assert (changes["deleted"].before, changes["deleted"].after) == ("0", "7")
    assert (changes["vm_state"].before, changes["vm_state"].after) == ("error", "deleted")
    assert changes["task_state"].after is None  # NULL
    assert changes["deleted_at"].at_apply and changes["deleted_at"].after is None
    assert "display_name" not in changes  # unchanged columns are not listed
    text = _md()
    assert "| `db:nova` | 3 | instances | id=`7` | " in text and "; deleted: `0` → `7` |" in text
    assert "deleted_at: NULL → time of apply" in text


def test_a_delete_shows_the_key_and_a_short_summary():
    table = ct.build(_live_plan())
    alloc = next(s for s in table.steps if s.table == "allocations")
    assert alloc.action == "delete" and alloc.count == 2
    assert [r.key for r in alloc.rows] == [(("id", "11"),), (("id", "12"),)]
    assert all(0 < len(r.summary) <= ct.SUMMARY_COLUMNS for r in alloc.rows)
    assert "| `db:placement` | 1 | allocations | id=`11` | DELETE: " in _md()


def test_steps_are_grouped_by_database_with_counts():
    text = _md()
    summary = text.split("| database | step | table | action | rows | why |")[1].split("\n\n")[0]
    lines = [ln for ln in summary.splitlines() if ln.startswith("| `db:")]
    assert len(lines) == len(_live_plan().operations)
    assert any(
        ln.startswith("| `db:nova` `nova_cell1` |") and "| instances | update | 1 |" in ln for ln in lines
    )
    assert any("| allocations | delete | 2 |" in ln for ln in lines)


def _secret_plan() -> Plan:
    """A hand-built plan whose changed columns and deleted rows hold secrets."""
    before = Row(("id", "connection_info"), (1, SECRET_INFO))
    after = before.replace(connection_info=SECRET_INFO.replace("hunter2-secret", "other-secret"))
    gone = Row(("id", "provider_auth", "status"), ("v1", "CHAP admin hunter2-secret", HOSTILE))
    db = DatabaseTarget("cinder", "Cinder database", w.RELEASE, w.schema("cinder"), database="cinder")
    return Plan(
        "volume", "test", (w.VOLUME,), "live", w.RELEASE, (db,),
        (
            UpdateRows(
                "cinder", "volume_attachment", ("id",), "rewrite", changes=(RowChange(before, after),)
            ),
            DeleteRows("cinder", "volumes", ("id",), "remove", rows=(gone,)),
        ),
    )  # fmt: skip


def test_secrets_are_masked_and_never_shown():
    plan = _secret_plan()
    text = _md(plan)
    data = json.dumps(ct.as_json(ct.build(plan), DIGEST))
    for shown in (text, data, _md(), json.dumps(ct.as_json(ct.build(_live_plan()), DIGEST))):
        assert "hunter2" not in shown and "other-secret" not in shown
    assert "`CHAP ***`" in text and "***" in data
    bdm = next(s for s in ct.build(_live_plan()).steps if s.table == "block_device_mapping")
    assert bdm.rows  # the BDM with CHAP credentials is listed, its secret not


def test_shown_masks_then_shortens_long_values_with_a_hash_of_the_shown_value():
    assert ct.shown("provider_auth", "CHAP user s3cret") == "CHAP ***"
    masked = ct.shown("connection_info", SECRET_INFO)
    assert masked is not None and "hunter2" not in masked
    long = "a" * 100
    out = ct.shown("value", long)
    digest = hashlib.sha256(long.encode()).hexdigest()[: ct.HASH_DIGITS]
    assert out == "a" * ct.SHORT + f"… [sha256:{digest}]"
    assert ct.shown("v", "short") == "short"
    assert ct.shown("v", None) is None
    assert ct.shown("v", b"\xff\x00") == "0xff00"
    assert ct.shown("v", True) == "1"


def test_hostile_values_stay_inside_their_table_cell():
    text = _md(_secret_plan())
    line = next(ln for ln in text.splitlines() if "| volumes | id=" in ln)
    assert HOSTILE not in text and "\n<b>" not in text  # never a raw newline
    assert text.count("<b>") == 1  # only inside the code span below, where it is literal text
    assert line.replace("\\|", "").count("|") == 6  # the value's pipe cannot open a column
    assert "\\x0a" in line  # the newline is shown escaped, on the row's one line
    assert md_code(HOSTILE, in_table=True) in line


def test_the_table_carries_the_digest_and_the_verify_command():
    text = _md()
    assert text.startswith("## Change table (sign this)\n")
    assert f"`fixpack verify . --expect {DIGEST}`" in text  # from inside the bundle, as the runbook says
    assert ct.as_json(ct.build(_live_plan()), DIGEST)["digest"] == DIGEST


def test_json_has_the_same_steps_rows_and_counts():
    plan = _live_plan()
    data = ct.as_json(ct.build(plan), DIGEST)
    assert data["mode"] == "live" and data["changed_rows"] == ct.build(plan).changed_rows
    assert len(data["steps"]) == len(plan.operations)
    inst = next(s for s in data["steps"] if s["table"] == "instances")
    assert inst["changes"][0]["key"] == {"id": "7"}
    assert inst["changes"][0]["columns"]["deleted"] == {"before": "0", "after": "7"}
    assert inst["changes"][0]["columns"]["deleted_at"]["at_apply"] is True
    alloc = next(s for s in data["steps"] if s["table"] == "allocations")
    assert {"key", "summary"} == set(alloc["changes"][0])
    json.dumps(data)  # plain JSON types only


@cache
def _offline_plan():
    return plan_vm_offline(w.INSTANCE, VmOptions(op="soft-delete"), w.RELEASE)


def test_offline_steps_give_scope_in_words_and_sql_what_they_set_and_the_precheck_line():
    plan = _offline_plan()
    table = ct.build(plan)
    assert table.mode == "offline" and all(s.count is None and s.rows == () for s in table.steps)
    inst = next(s for s in table.steps if s.table == "instances")
    assert inst.scope and w.INSTANCE in (inst.scope_sql or "") and "\n" not in (inst.scope_sql or "")
    assert dict(inst.sets)["deleted"] == "its own id" and dict(inst.sets)["deleted_at"] == ct.AT_APPLY
    text = _md(plan)
    assert "no rows were read" in text and "`rows_to_change`" in text
    lines = [ln for ln in text.splitlines() if ln.startswith("| `db:")]
    assert len(lines) == len(plan.operations)
    assert f"`step {inst.number}: instances` `rows_to_change`" in text
    data = ct.as_json(table, DIGEST)
    assert all({"scope", "scope_sql", "sets", "precheck_prints"} <= set(s) for s in data["steps"])


def test_offline_step_numbers_are_the_ones_the_precheck_prints():
    plan = _offline_plan()
    files = {f.path: f.text for f in render_sql(plan)[0]}
    for step in ct.build(plan).steps:
        precheck = next(t for p, t in files.items() if p.endswith(f"precheck-{step.database}.sql"))
        assert f"'step {step.number}: {step.table}'" in precheck


def test_the_runbook_opens_with_the_change_table():
    plan = _live_plan()
    files = render_sql(plan)[0]
    run = [f for f in files if f.phase != "rollback"]
    back = [f for f in files if f.phase == "rollback"]
    text = render_runbook(plan, BUNDLE, "2026-01-02T03:04:05Z", run, back, digest=DIGEST)
    assert text.index("## Change table (sign this)") < text.index("## 1. What was found")
    assert text.count(DIGEST) == 2
