"""The host side of an offline bundle, printed read-only by its precheck.

An offline bundle is generated without a database, so it cannot know where the
instance runs, what its libvirt domain is called, which ports it has or which
volumes are connected to its host. The precheck of the Nova cell database
prints exactly that, before anything changes, so the operator knows where to
run `shell/compute.sh` and what it should find there:

* the instance's `host`, `node` and libvirt domain name (CONF.instance_name_template
  of `instances.id`, computed in SQL the way `nova.domain_name()` does);
* one line per VIF of `instance_info_caches.network_info`: port id, type, tap
  device, the hybrid-plug bridge and veth pair (`qbr`/`qvb`/`qvo` + 11
  characters of the port id, as `hostside.network_info.hybrid_names`), bridge
  and preserve_on_delete;
* one line per migration of the instance: its uuid, the placement consumer that may
  still hold a move's source allocations (placement is another database);
* one line per volume BDM: driver, iSCSI target IQN / portal / LUN (and the
  multipath lists), RBD image, NFS export, FC WWNs, plus an `iscsi_target` word
  triple ready for the compute script's `--iscsi`. Only these named fields are
  extracted: connection_info's CHAP `auth_password` / `auth_username` are never
  printed.

Every printed value passes through `_printable`: control characters become
`?` in SQL, so a hostile row cannot drive the operator's terminal. Invalid JSON
prints NULL instead of failing (MySQL raises an error for JSON_EXTRACT on
invalid text; the CASE on JSON_VALID comes first). Everything is a plain
SELECT inside the precheck's read-only transaction.
"""

from __future__ import annotations

import re

import sqlglot

from generator.domain import nova
from generator.hostside import validate
from generator.render.sqlfile import comment
from generator.sqlgen.dialect import to_sql
from generator.sqlgen.literals import sql_literal

MAX_VIFS = 16  # network_info entries printed one per line; more are counted, not listed
_TEMPLATE = re.compile(r"([A-Za-z0-9_.+-]*)%(0?)([0-9]*)([xd])([A-Za-z0-9_.+-]*)")


def _sql(text: str) -> str:
    return to_sql(sqlglot.parse_one(text, read="mysql")) + ";"


def _printable(expr: str) -> str:
    """SQL text: the value with every control character shown as `?`."""
    return f"REGEXP_REPLACE({expr}, '[[:cntrl:]]', '?')"


def _json(column: str, path: str, *, checked: bool = False) -> str:
    """SQL text: one JSON field as printable text; NULL when the column is not valid JSON.

    `checked`: the statement's WHERE already requires valid JSON (the select list is only
    evaluated for rows that pass it), so the JSON_VALID test is left out.
    """
    inner = _printable(f"JSON_UNQUOTE(JSON_EXTRACT({column}, {sql_literal(path)}))")
    return inner if checked else f"IF(JSON_VALID({column}), {inner}, NULL)"


def _domain_name_sql(template: str) -> str:
    """SQL text computing `template % instances.id`, or NULL for a template SQL cannot mirror."""
    match = _TEMPLATE.fullmatch(template)
    if not match:
        return "NULL"
    prefix, zero, width, conv, suffix = match.groups()
    digits = "LOWER(HEX(`instances`.`id`))" if conv == "x" else "CAST(`instances`.`id` AS CHAR)"
    if width:
        pad = sql_literal("0" if zero else " ")
        digits = f"LPAD({digits}, GREATEST({int(width)}, LENGTH({digits})), {pad})"
    return f"CONCAT({sql_literal(prefix)}, {digits}, {sql_literal(suffix)})"


def instance_host_side(uuid: str, template: str = nova.DEFAULT_INSTANCE_NAME_TEMPLATE) -> list[str]:
    """Precheck lines (comments and SELECTs) printing what the host side of instance `uuid` needs."""
    u = sql_literal(validate.uuid(uuid, "instance UUID"))
    ic = "`instance_info_caches`.`network_info`"
    out = comment(
        "host side (read-only): where shell/compute.sh must run and what it should find there; "
        "run it on the compute host printed as `host` below"
    )
    out.append(
        _sql(
            f"SELECT 'host side' AS `fixpack`, {_printable('`instances`.`host`')} AS `host`, "
            f"{_printable('`instances`.`node`')} AS `node`, "
            f"{_domain_name_sql(template)} AS `instance_name`, "
            f"{_printable('`instances`.`vm_state`')} AS `vm_state`, "
            f"{_printable('`instances`.`task_state`')} AS `task_state` "
            f"FROM `instances` WHERE `instances`.`uuid` = {u}"
        )
    )
    length = f"IF(JSON_VALID({ic}), JSON_LENGTH({ic}), 0)"
    out += comment(f"network_info: one line per VIF (the first {MAX_VIFS}); `vifs` says whether more exist")
    out.append(
        _sql(
            f"SELECT 'network_info' AS `fixpack`, {length} AS `vifs`, "
            f"IF(JSON_VALID({ic}), IF({length} > {MAX_VIFS}, 'more VIFs than listed: read network_info', "
            "'all listed'), 'network_info is not valid JSON') AS `note` "
            f"FROM `instance_info_caches` WHERE `instance_info_caches`.`instance_uuid` = {u} "
            "AND `instance_info_caches`.`deleted` = 0"
        )
    )
    for i in range(MAX_VIFS):

        def field(path: str, i: int = i) -> str:
            return _json(ic, f"$[{i}].{path}", checked=True)

        prefix = f"LEFT({field('id')}, 11)"
        out.append(
            _sql(
                f"SELECT 'port' AS `fixpack`, {i + 1} AS `vif`, {field('id')} AS `port_id`, "
                f"{field('type')} AS `vif_type`, "
                f"COALESCE({field('devname')}, CONCAT('tap', {prefix})) AS `devname`, "
                f"IF({field('details.ovs_hybrid_plug')} = 'true', "
                f"CONCAT('qbr', {prefix}, ' qvb', {prefix}, ' qvo', {prefix}), NULL) AS `hybrid_plug`, "
                f"COALESCE({field('network.bridge')}, {field('details.bridge_name')}) AS `bridge`, "
                f"{field('preserve_on_delete')} AS `preserve_on_delete` "
                f"FROM `instance_info_caches` WHERE `instance_info_caches`.`instance_uuid` = {u} "
                f"AND `instance_info_caches`.`deleted` = 0 AND {length} > {i}"
            )
        )
    out += volume_connections(f"`block_device_mapping`.`instance_uuid` = {u}")
    out += comment("shelved snapshot (only for a shelved instance): controller.sh does not know it offline")
    out.append(
        _sql(
            "SELECT 'shelved image' AS `fixpack`, "
            f"{_printable('`instance_system_metadata`.`value`')} AS `shelved_image_id` "
            f"FROM `instance_system_metadata` WHERE `instance_system_metadata`.`instance_uuid` = {u} "
            "AND `instance_system_metadata`.`key` = 'shelved_image_id' "
            "AND `instance_system_metadata`.`deleted` = 0"
        )
    )
    out += comment(
        "migrations: each `consumer` (the migration uuid) is a placement consumer that may still hold the "
        "source allocations of a move; placement lives in another database, so this bundle does not free them"
    )
    out.append(
        _sql(
            "SELECT 'migration' AS `fixpack`, `migrations`.`deleted` AS `row_deleted`, "
            f"{_printable('`migrations`.`uuid`')} AS `consumer`, "
            f"{_printable('`migrations`.`migration_type`')} AS `migration_type`, "
            f"{_printable('`migrations`.`status`')} AS `status`, "
            f"{_printable('`migrations`.`source_compute`')} AS `source_compute`, "
            f"{_printable('`migrations`.`dest_compute`')} AS `dest_compute` "
            f"FROM `migrations` WHERE `migrations`.`instance_uuid` = {u} AND `migrations`.`uuid` IS NOT NULL"
        )
    )
    return out


def volume_connections(where: str) -> list[str]:
    """Precheck lines printing the connection of every live volume BDM matching `where` (SQL text).

    Only named fields are extracted; CHAP credentials in `data` are never printed.
    """
    ci = "`block_device_mapping`.`connection_info`"
    iqn, portal = _json(ci, "$.data.target_iqn"), _json(ci, "$.data.target_portal")
    lun = _json(ci, "$.data.target_lun")
    out = comment(
        "volume connections (block_device_mapping.connection_info; CHAP credentials are never printed): "
        "pass each `iscsi_target` to shell/compute.sh as --iscsi IQN PORTAL LUN; `attachment_id` and "
        "`delete_on_termination` say what to finish in Cinder (runbook)"
    )
    out.append(
        _sql(
            "SELECT 'volume' AS `fixpack`, "
            "`block_device_mapping`.`delete_on_termination`, "
            f"{_printable('`block_device_mapping`.`instance_uuid`')} AS `instance_uuid`, "
            f"{_printable('`block_device_mapping`.`volume_id`')} AS `volume_id`, "
            f"{_printable('`block_device_mapping`.`device_name`')} AS `device_name`, "
            f"{_printable('`block_device_mapping`.`attachment_id`')} AS `attachment_id`, "
            f"{_json(ci, '$.driver_volume_type')} AS `driver`, "
            f"CONCAT({iqn}, ' ', {portal}, ' ', COALESCE({lun}, '0')) AS `iscsi_target`, "
            f"{_json(ci, '$.data.target_iqns')} AS `target_iqns`, "
            f"{_json(ci, '$.data.target_portals')} AS `target_portals`, "
            f"{_json(ci, '$.data.target_luns')} AS `target_luns`, "
            f"{_json(ci, '$.data.name')} AS `rbd_name`, "
            f"{_json(ci, '$.data.export')} AS `nfs_export`, "
            f"{_json(ci, '$.data.target_wwn')} AS `fc_target_wwn` "
            f"FROM `block_device_mapping` WHERE {where} AND `block_device_mapping`.`deleted` = 0 "
            "AND `block_device_mapping`.`volume_id` IS NOT NULL"
        )
    )
    return out


def volume_host_side(volume_id: str) -> list[str]:
    """Precheck lines for a volume detach: the hosts of the instances holding it, and its connections."""
    v = sql_literal(validate.uuid(volume_id, "volume UUID"))
    out = comment(
        "host side (read-only): the compute host of each instance with a live BDM of this volume; "
        "its storage session is disconnected there (iscsiadm -m session), not by this bundle"
    )
    out.append(
        _sql(
            f"SELECT 'host side' AS `fixpack`, {_printable('`instances`.`uuid`')} AS `instance_uuid`, "
            f"{_printable('`instances`.`host`')} AS `host`, {_printable('`instances`.`node`')} AS `node` "
            "FROM `instances` WHERE `instances`.`uuid` IN (SELECT `block_device_mapping`.`instance_uuid` "
            f"FROM `block_device_mapping` WHERE `block_device_mapping`.`volume_id` = {v} "
            "AND `block_device_mapping`.`deleted` = 0)"
        )
    )
    return out + volume_connections(f"`block_device_mapping`.`volume_id` = {v}")


def cinder_attachments(volume_id: str) -> list[str]:
    """Cinder precheck lines: each live attachment's host and connection (never its CHAP secrets)."""
    v = sql_literal(validate.uuid(volume_id, "volume UUID"))
    ci = "`volume_attachment`.`connection_info`"

    def field(name: str) -> str:  # Cinder stores it flattened (data's keys at the top); older rows nested
        return f"COALESCE({_json(ci, '$.' + name)}, {_json(ci, '$.data.' + name)})"

    iqn, portal, lun = field("target_iqn"), field("target_portal"), field("target_lun")
    out = comment(
        "host side (read-only): the volume's attachments as Cinder records them; a storage session "
        "left on `attached_host` is logged out there by hand (iscsiadm -m session), not by this bundle"
    )
    out.append(
        _sql(
            "SELECT 'attachment' AS `fixpack`, "
            f"{_printable('`volume_attachment`.`id`')} AS `attachment_id`, "
            f"{_printable('`volume_attachment`.`instance_uuid`')} AS `instance_uuid`, "
            f"{_printable('`volume_attachment`.`attached_host`')} AS `attached_host`, "
            f"{_printable('`volume_attachment`.`attach_status`')} AS `attach_status`, "
            f"{_json(ci, '$.driver_volume_type')} AS `driver`, "
            f"CONCAT({iqn}, ' ', {portal}, ' ', COALESCE({lun}, '0')) AS `iscsi_target` "
            f"FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` = {v} "
            "AND `volume_attachment`.`deleted` = 0"
        )
    )
    return out
