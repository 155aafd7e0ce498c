"""Cloud-scale seeding: a template written by the Seeder, copied server-side.

Building every row in Python and sending it as INSERT text costs about a millisecond per
instance on each side; a million instances took most of an hour. Here the Seeder writes a
template (the bulk path: every row a booted server has, with the realistic values of the
builders), then each copy is one `INSERT … SELECT` per table run by the server. A copy
rewrites what must differ between objects and keeps what objects share:

* per-object uuids (instances, BDMs, VIFs, volumes, attachments, snapshots, backups) keep
  their first 24 characters and get the copy number as the last 12 (the same function in
  every table, so instances.uuid, instance_mappings, consumers, allocations, BDMs and
  attachments still agree), and the blobs that carry them (request specs, network info,
  connection info) get the same replacement;
* integer ids are offset by the copy number times the table's largest template id, and
  integer references to cloned rows by the referenced table's offset;
* MAC addresses get the copy number as their second byte (unique per (address, deleted));
* the `bulk-N` / `vol-N` names are renumbered as if the Seeder had gone on counting.

Hosts, projects, users, flavors, providers, inventories and volume types are shared: the
template puts one instance on each host, so every copy lands on the same hosts and each
host ends with one instance per copy, as the bulk path spreads them. Host usage, provider
generations and Cinder quota usages are then set from the totals (`scale_hosts`, the
Seeder's quota sync). A template table with rows that is neither copied nor shared is an
error: a new builder table must say which it is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pymysql

from generator.scratch.deployment import Deployment, admin_connection
from generator.seed.writer import SeedError

if TYPE_CHECKING:
    from generator.seed.seeder import Seeder

Rule = Callable[[int], str]  # copy number -> SQL expression


def _uuid(col: str) -> Rule:
    return lambda c: f"IF({col} IS NULL, NULL, CONCAT(LEFT({col}, 24), LPAD(LOWER(HEX({c})), 12, '0')))"


def _replace_uuid(blob: str, *cols: str) -> Rule:
    """`blob` with every occurrence of each uuid column's value replaced by its copy."""

    def rule(c: int) -> str:
        out = blob
        for col in cols:
            out = f"IF({col} IS NULL, {out}, REPLACE({out}, {col}, {_uuid(col)(c)}))"
        return out

    return rule


def _offset(col: str, table: str) -> Rule:
    return lambda c: f"{col} + {c} * @span_{table}"


def _mac(col: str) -> Rule:
    # second byte 0x40 + copy: never the template's 16 (fa:16:3e:...), unique while copies < 192
    return lambda c: f"CONCAT(LEFT({col}, 3), LPAD(LOWER(HEX({0x40 + c})), 2, '0'), SUBSTRING({col}, 6))"


def _renumber(col: str, prefix: str, per_copy: str) -> Rule:
    """'prefix' N rest -> 'prefix' (N + copy * per_copy) rest, for the names the Seeder counts."""
    n = len(prefix)
    head = f"SUBSTRING_INDEX(SUBSTRING({col}, {n + 1}), '-', 1)"
    return lambda c: (
        f"IF({col} LIKE '{prefix}%', CONCAT('{prefix}', CAST({head} AS UNSIGNED) + {c} * @{per_copy}, "
        f"SUBSTRING({col}, {n + 1} + CHAR_LENGTH({head}))), {col})"
    )


@dataclass(frozen=True)
class Copied:
    """One table copied per copy: column rules (others kept), optional join and its alias."""

    table: str
    rules: Mapping[str, Rule]
    join: str = ""
    offset_id: bool = True


def _vif_rule(c: int) -> str:
    # the instance's VIF (the bulk path gives each one): its port id and MAC inside network_info
    base = f"REPLACE(t.network_info, v.uuid, {_uuid('v.uuid')(c)})"
    return f"IF(v.uuid IS NULL, t.network_info, REPLACE({base}, v.address, {_mac('v.address')(c)}))"


_VIF_JOIN = "LEFT JOIN virtual_interfaces AS v ON v.instance_uuid = t.instance_uuid AND v.deleted = 0"


def _request_id(c: int) -> str:
    return f"CONCAT('req-', {_uuid('SUBSTRING(request_id, 5)')(c)})"


COPIED: dict[str, tuple[Copied, ...]] = {
    "nova": (
        Copied("instances", {"uuid": _uuid("uuid"), "display_name": _renumber("display_name", "bulk-", "tpl"),
                             "hostname": _renumber("hostname", "bulk-", "tpl")}),
        Copied("instance_extra", {"instance_uuid": _uuid("instance_uuid")}),
        Copied("instance_info_caches", {"instance_uuid": _uuid("t.instance_uuid"), "network_info": _vif_rule},
               join=_VIF_JOIN),
        Copied("instance_id_mappings", {"uuid": _uuid("uuid")}),
        Copied("instance_system_metadata", {"instance_uuid": _uuid("instance_uuid")}),
        Copied("instance_metadata", {"instance_uuid": _uuid("instance_uuid")}),
        Copied("instance_actions", {"instance_uuid": _uuid("instance_uuid"),
                                    "request_id": _request_id}),
        Copied("instance_actions_events", {"action_id": _offset("action_id", "instance_actions")}),
        Copied("block_device_mapping", {
            "instance_uuid": _uuid("instance_uuid"), "uuid": _uuid("uuid"), "volume_id": _uuid("volume_id"),
            "attachment_id": _uuid("attachment_id"),
            "connection_info": _replace_uuid("connection_info", "volume_id", "attachment_id")}),
        Copied("virtual_interfaces", {"instance_uuid": _uuid("instance_uuid"), "uuid": _uuid("uuid"),
                                      "address": _mac("address")}),
    ),
    "nova_api": (
        Copied("instance_mappings", {"instance_uuid": _uuid("instance_uuid")}),
        Copied("request_specs", {"instance_uuid": _uuid("instance_uuid"),
                                 "spec": _replace_uuid("spec", "instance_uuid")}),
    ),
    "placement": (
        Copied("consumers", {"uuid": _uuid("uuid")}),
        Copied("allocations", {"consumer_id": _uuid("consumer_id")}),
    ),
    "cinder": (
        Copied("volumes", {"id": _uuid("id"), "display_name": _renumber("display_name", "vol-", "vols"),
                           "provider_location": _replace_uuid("provider_location", "id")}, offset_id=False),
        Copied("volume_attachment", {"id": _uuid("id"), "volume_id": _uuid("volume_id"),
                                     "instance_uuid": _uuid("instance_uuid"),
                                     "connection_info": _replace_uuid("connection_info", "volume_id")},
               offset_id=False),
        Copied("volume_admin_metadata", {"volume_id": _uuid("volume_id")}),
        Copied("volume_metadata", {"volume_id": _uuid("volume_id")}),
        Copied("snapshots", {"id": _uuid("id"), "volume_id": _uuid("volume_id"),
                             "display_name": _renumber("display_name", "vol-", "vols")}, offset_id=False),
        Copied("snapshot_metadata", {"snapshot_id": _uuid("snapshot_id")}),
        Copied("backups", {"id": _uuid("id"), "volume_id": _uuid("volume_id"),
                           "display_name": _renumber("display_name", "vol-", "vols"),
                           "service_metadata": _replace_uuid("service_metadata", "volume_id", "id")},
               offset_id=False),
    ),
}  # fmt: skip

SHARED: dict[str, frozenset[str]] = {
    "nova": frozenset({"services", "compute_nodes", "alembic_version", "migrate_version"}),
    "nova_api": frozenset({"key_pairs", "host_mappings", "flavors", "cell_mappings", "alembic_version",
                           "migrate_version", "flavor_extra_specs", "quotas", "project_user_quotas"}),
    "placement": frozenset({"users", "projects", "traits", "resource_provider_traits", "resource_providers",
                            "resource_classes", "inventories", "alembic_version", "consumer_types"}),
    "cinder": frozenset({"workers", "volume_types", "volume_type_extra_specs", "services", "quota_usages",
                         "quota_classes", "quotas", "group_types", "group_type_specs", "alembic_version",
                         "migrate_version", "reservations"}),
}  # fmt: skip


def copy_template(dep: Deployment, copies: int, *, template_instances: int, template_volumes: int,
                  log: Callable[[str], None] = lambda _m: None) -> None:  # fmt: skip
    """Add `copies` copies of everything the template wrote (databases in parallel threads)."""
    errors: list[BaseException] = []

    def run(role: str) -> None:
        try:
            _copy_role(dep, role, copies, template_instances, template_volumes, log)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in ("nova", "nova_api", "placement", "cinder")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _copy_role(
    dep: Deployment, role: str, copies: int, tpl: int, vols: int, log: Callable[[str], None]
) -> None:
    with admin_connection(dep.server, dep.names[role]) as conn, conn.cursor() as cur:
        conn.autocommit(True)
        # the copies agree by construction: no per-row FK/unique lookups while writing them
        cur.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
        cur.execute(f"SET @tpl = {int(tpl)}, @vols = {int(vols)}")
        _refuse_unknown(cur, role)
        for spec in COPIED[role]:
            cols = _columns(cur, spec.table)
            if not cols:
                continue
            cur.execute(
                f"SELECT COUNT(*), {'COALESCE(MAX(id), 0)' if spec.offset_id else '0'} FROM `{spec.table}`"
            )
            rows, span = cur.fetchone() or (0, 0)
            if not rows:
                continue
            cur.execute(f"SET @span_{spec.table} = {int(span)}")
            _check_one_vif(cur, spec)
            if not spec.offset_id:  # uuid-keyed: the template rows are the ones there now
                cur.execute(f"CREATE TEMPORARY TABLE `tpl_{spec.table}` (id VARCHAR(36) PRIMARY KEY) "
                            f"SELECT id FROM `{spec.table}`")  # fmt: skip
            for c in range(1, copies + 1):
                exprs = []
                for col in cols:
                    if col == "id" and spec.offset_id:
                        exprs.append(f"t.id + {c} * {int(span)}")
                    elif col in spec.rules:
                        exprs.append(spec.rules[col](c))
                    else:
                        exprs.append(f"t.`{col}`")
                names = ", ".join(f"`{col}`" for col in cols)
                cur.execute(_statement(spec, names, exprs, span))
            log(f"    {role}.{spec.table}: {rows} template rows, {rows * copies} copied")


def _statement(spec: Copied, names: str, exprs: list[str], span: int) -> str:
    # integer ids: the template's are 1..span; uuid-keyed tables: the ids noted before copying
    where = f"t.id <= {int(span)}" if spec.offset_id else f"t.id IN (SELECT id FROM `tpl_{spec.table}`)"
    return (
        f"INSERT INTO `{spec.table}` ({names}) SELECT {', '.join(exprs)} "
        f"FROM `{spec.table}` AS t {spec.join} WHERE {where}"
    )


def _columns(cur: pymysql.cursors.Cursor, table: str) -> list[str]:
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() "
        "AND table_name = %s ORDER BY ordinal_position",
        (table,),
    )
    return [r[0] for r in cur.fetchall()]


def _refuse_unknown(cur: pymysql.cursors.Cursor, role: str) -> None:
    cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
    known = {s.table for s in COPIED[role]} | SHARED[role]
    for (table,) in cur.fetchall():
        if table in known:
            continue
        cur.execute(f"SELECT 1 FROM `{table}` LIMIT 1")
        if cur.fetchone():
            raise SeedError(f"the template wrote {role}.{table}, which clone.py neither copies nor shares")


def _check_one_vif(cur: pymysql.cursors.Cursor, spec: Copied) -> None:
    if spec.table != "instance_info_caches":
        return
    cur.execute(
        "SELECT COUNT(*) FROM virtual_interfaces WHERE deleted = 0 "
        "GROUP BY instance_uuid HAVING COUNT(*) > 1 LIMIT 1"
    )
    if cur.fetchone():
        raise SeedError("clone.py copies network_info for one VIF per instance; the template has more")


def scale_hosts(seeder: Seeder, factor: int) -> None:
    """Host usage and provider generations as if each host's template instances were `factor`
    times as many (what the copies made them); written by the Seeder's next flush."""
    for h in seeder.ctx.hosts.values():
        h.used_vcpus *= factor
        h.used_memory_mb *= factor
        h.used_disk_gb *= factor
        h.running_vms *= factor
        h.project_counts = {p: n * factor for p, n in h.project_counts.items()}
        h.rp_generation = 2 + (h.rp_generation - 2) * factor  # one bump per claim
        h.dirty = h.rp_dirty = True


# (role, table, columns) of the secondary unique keys the copies must keep unique: they were
# written with unique_checks off, so they are counted once afterwards instead.
UNIQUE = (
    ("nova", "instances", "uuid"),
    ("nova", "block_device_mapping", "uuid"),
    ("nova", "virtual_interfaces", "address, deleted"),
    ("nova_api", "instance_mappings", "instance_uuid"),
    ("nova_api", "request_specs", "instance_uuid"),
    ("placement", "consumers", "uuid"),
)


def verify_unique(dep: Deployment) -> None:
    for role, table, cols in UNIQUE:
        row = dep.query(role, f"SELECT COUNT(*) - COUNT(DISTINCT {cols}) AS dup FROM `{table}`")[0]
        if row["dup"]:
            raise SeedError(f"the copies duplicated {row['dup']} key(s) of {role}.{table} ({cols})")
