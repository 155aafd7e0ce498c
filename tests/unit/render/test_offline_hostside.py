"""render/offline_hostside.py: what an offline precheck prints about the host side, read-only."""

from __future__ import annotations

import pytest

from generator.errors import FixpackError
from generator.render.offline_hostside import (
    MAX_VIFS,
    cinder_attachments,
    instance_host_side,
    volume_host_side,
)
from tests.unit import world as w


def _text(lines: list[str]) -> str:
    return w.flat("\n".join(lines))


def test_instance_host_side_prints_host_node_and_the_libvirt_domain_name():
    text = _text(instance_host_side(w.INSTANCE))
    assert "REGEXP_REPLACE(`host`, '[[:cntrl:]]', '?') AS `host`" in text
    assert (
        "CONCAT('instance-', LPAD(LOWER(HEX(`id`)), "
        "GREATEST(8, LENGTH(LOWER(HEX(`id`)))), '0'), '') AS `instance_name`"
    ) in text


def test_a_decimal_name_template_is_computed_in_decimal():
    text = _text(instance_host_side(w.INSTANCE, "vm-%d"))
    assert "CONCAT('vm-', CAST(`id` AS CHAR), '') AS `instance_name`" in text


def test_a_template_sql_cannot_mirror_prints_null_for_the_name():
    assert "NULL AS `instance_name`" in _text(instance_host_side(w.INSTANCE, "%(uuid)s"))


def test_one_port_line_per_vif_up_to_the_limit():
    lines = instance_host_side(w.INSTANCE)
    assert sum("'port' AS `fixpack`" in line for line in lines) == MAX_VIFS


def test_volume_connections_never_print_chap_credentials():
    lines = instance_host_side(w.INSTANCE) + volume_host_side(w.VOLUME) + cinder_attachments(w.VOLUME)
    statements = [line for line in lines if not line.startswith("--")]
    assert statements and not any("auth_" in line for line in statements)


def test_invalid_json_prints_null_instead_of_failing():
    text = _text(volume_host_side(w.VOLUME))
    assert "IF(JSON_VALID(`connection_info`), " in text


def test_volume_host_side_finds_the_hosts_of_instances_with_a_live_bdm():
    text = _text(volume_host_side(w.VOLUME))
    assert (
        "WHERE `instances`.`uuid` IN (SELECT `block_device_mapping`.`instance_uuid` "
        "FROM `block_device_mapping` "
        f"WHERE `block_device_mapping`.`volume_id` = '{w.VOLUME}'"
    ) in text


def test_cinder_attachments_read_flattened_and_nested_connection_info():
    text = _text(cinder_attachments(w.VOLUME))
    assert "'$.target_iqn'" in text and "'$.data.target_iqn'" in text


def test_a_uuid_that_is_not_a_uuid_is_refused_before_reaching_sql():
    with pytest.raises(FixpackError):
        instance_host_side("x' OR '1'='1")


def test_volume_connections_print_what_to_finish_in_cinder():
    text = _text(instance_host_side(w.INSTANCE))
    assert "AS `attachment_id`" in text
    assert "AS `fixpack`, `delete_on_termination`, " in text


def test_instance_host_side_lists_the_migrations_whose_uuids_are_placement_consumers():
    text = _text(instance_host_side(w.INSTANCE))
    consumer = "REGEXP_REPLACE(`uuid`, '[[:cntrl:]]', '?') AS `consumer`"
    assert f"SELECT 'migration' AS `fixpack`, `deleted` AS `row_deleted`, {consumer}" in text
    where = f"`instance_uuid` = '{w.INSTANCE}' AND NOT `uuid` IS NULL"
    assert f"FROM `migrations` WHERE {where}" in text
