"""render/identity.py: every SQL file first proves it runs against the right database."""

from __future__ import annotations

import hashlib

from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from generator.plan.vm_offline import plan_vm_offline
from generator.render.identity import column_spec, identity_statements, table_hash
from tests.unit import world as w


def _soft_delete_plan():
    facts = w.vm(
        cell_rows={"instance_metadata": [w.metadata(1, "a")]},
        placement_rows={"allocations": [w.allocation(1, w.INSTANCE, 1)],
                        "consumers": [w.consumer(1, w.INSTANCE)]},
    )  # fmt: skip
    return plan_vm(facts, VmOptions(op="soft-delete"))


def _purge_plan():
    return plan_vm(w.vm(cell_rows={"instance_metadata": [w.metadata(1, "a")]}), VmOptions(op="purge"))


def _text(plan, role: str, **kw) -> str:
    return "\n".join(identity_statements(plan, plan.database(role), **kw))


def test_a_nova_cell_is_recognised_by_compute_nodes_and_instances():
    text = w.flat(_text(_soft_delete_plan(), "nova"))
    assert "IF(SUM(`TABLE_NAME` IN ('compute_nodes', 'instances')) = 2, NULL," in text


def test_placement_is_recognised_by_consumer_types_which_nova_api_lacks():
    assert "SUM(`TABLE_NAME` IN ('consumer_types')) = 1" in w.flat(_text(_soft_delete_plan(), "placement"))


def test_the_schema_is_judged_only_on_the_right_service_in_the_same_check():
    text = _text(_soft_delete_plan(), "nova")
    flat = w.flat(text)
    assert "SET @fixpack_check = COALESCE(@fixpack_check, (SELECT NULLIF(CONCAT_WS(" in flat
    assert flat.count("AS `guard`") == 2  # service and schema, then the target
    assert "identity 1/2" in text and "identity 2/2" in text and "3/3" not in text


def test_schema_check_expects_every_column_of_each_table_the_file_touches():
    plan = _soft_delete_plan()
    text = _text(plan, "nova")
    schema = plan.database("nova").schema
    for name in ("instance_metadata", "instances"):
        assert f"'{name}:{table_hash(schema.table(name))}'" in w.flat(text)


def test_table_hash_is_over_the_sorted_column_lines():
    meta = w.schema("nova").table("instance_metadata")
    lines = sorted(column_spec("instance_metadata", c).split(" ", 1)[1] for c in meta.columns)
    assert lines[0] == "created_at datetime NULL"
    assert table_hash(meta) == hashlib.sha256(", ".join(lines).encode()).hexdigest()[:16]


def test_column_spec_counts_json_as_longtext_and_says_null_or_not_null():
    table = w.schema("nova").table("instance_metadata")
    assert column_spec("instance_metadata", table.column("id")) == "instance_metadata id int NOT NULL"
    assert column_spec("instance_metadata", table.column("key")) == "instance_metadata key varchar NULL"


def test_a_vm_bundle_checks_the_instance_is_in_its_cell():
    text = w.flat(_text(_soft_delete_plan(), "nova"))
    assert f"SELECT COUNT(*) FROM `instances` WHERE `uuid` = '{w.INSTANCE}'" in text


def test_placement_in_a_vm_bundle_has_no_target_check():
    text = _text(_soft_delete_plan(), "placement")
    assert "identity 2/2: no target check here" in text
    assert "FROM `instances`" not in text


def test_a_purge_accepts_its_postconditions_in_place_of_the_gone_target_only_in_the_same_database():
    text = w.flat(_text(_purge_plan(), "nova"))
    assert "SET @fixpack_target_gone = (" in text
    assert "DATABASE() <=> COALESCE(@fixpack_database, 'nova_cell1')" in text


def test_a_captured_rollback_checks_the_database_its_capture_ran_on():
    plan = plan_vm_offline(w.INSTANCE, VmOptions(op="purge"), w.RELEASE)
    text = w.flat(_text(plan, "nova", captured=True))
    assert "COALESCE(@fixpack_database, @fixpack_captured_database)" in text


def test_offline_schema_check_names_the_release_catalog():
    plan = plan_vm_offline(w.INSTANCE, VmOptions(op="soft-delete"), "xena")
    assert "columns of release xena (fixpack catalog)" in w.flat(_text(plan, "nova"))


def test_silent_identity_checks_print_nothing_when_they_hold():
    text = w.flat(_text(_soft_delete_plan(), "nova", silent=True))
    assert "FROM (SELECT 1 AS `once`) AS `identity` WHERE (SELECT 1 UNION ALL SELECT 2" in text
    assert ") IS NULL;" in text
