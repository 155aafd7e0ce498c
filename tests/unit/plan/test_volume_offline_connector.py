"""plan/volume_offline_connector.py: offline reset-detached writes the legacy specs into the connector
at run time, as Cinder's `_from_db_object` + `jsonutils.dumps` do, or refuses where SQL cannot."""

from __future__ import annotations

from generator.ops.operations import FromQuery
from tests.unit import world as w
from tests.unit.plan.test_volume_offline import V, _plan


def test_offline_reset_detached_writes_the_connector_from_the_live_specs_in_the_close_itself():
    # Cinder's _from_db_object: connector = jsonutils.dumps(attachment_specs_get(...)), before the specs go
    plan = _plan("reset-detached")
    close = w.one_op(plan, "volume_attachment")
    connector = dict(close.assignments)["connector"]
    assert isinstance(connector, FromQuery)
    sql = w.sql_of(connector.query)
    s = "attachment_specs"
    assert (
        f"GROUP_CONCAT(CONCAT(JSON_QUOTE({s}.`key`), ': ', COALESCE(JSON_QUOTE({s}.`value`), 'null')) "
        f"ORDER BY {s}.id SEPARATOR ', ')" in sql
    )
    assert f"WHERE {s}.attachment_id = volume_attachment.id AND {s}.deleted = 0" in sql
    assert "'}'), volume_attachment.connector)" in sql  # no live specs: the connector is kept
    tables = [o.table for o in plan.operations]
    assert tables.index("volume_attachment") < tables.index("attachment_specs")  # read before soft-deleted


def test_offline_reset_detached_specs_scope_means_the_same_before_and_after_the_close():
    specs = w.sql_of(w.one_op(_plan("reset-detached"), "attachment_specs").scope.condition)
    assert f"volume_id = '{V}' AND (deleted = 0 OR NOT connector IS NULL))" in specs, specs


def test_offline_reset_detached_refuses_at_run_time_specs_sql_cannot_dump_as_json_dumps():
    pre = {p.description: w.sql_of(p.condition) for p in _plan("reset-detached").preconditions}
    ascii_only = next(t for d, t in pre.items() if "printable ASCII only" in d)
    assert "REGEXP_INSTR(HEX(attachment_specs.`key`), '^([2-6][0-9A-F]|7[0-9A-E])+$') = 1" in ascii_only
    assert "attachment_specs.`key` IS NULL OR" in ascii_only
    twice = next(t for d, t in pre.items() if "key twice" in d)
    assert "volume_attachment.id IN (SELECT attachment_specs.attachment_id FROM attachment_specs" in twice
    assert "GROUP BY attachment_specs.attachment_id, HEX(attachment_specs.`key`)" in twice
    probe = next(t for d, t in pre.items() if "JSON_QUOTE on this server escapes printable ASCII" in d)
    assert "'5D5E5F606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C', '7D7E22')" in probe
