"""The facts of many instances read in one pass: a few round trips per database, not per instance.

`read_instances(live, uuids)` returns exactly what `read_instance(live, uuid)` returns for
each UUID (same rows, same scopes, same descriptions), for a fleet batch. Each per-instance
scope is built once as a *template* around a marker UUID; every instance's scope is a copy
of it with the marker replaced (its SQL text by string replacement, which is exact because
a UUID literal needs no escaping), so 1000 instances cost 1000 tree copies, not 30 000
sqlglot generations. The rows are read per chunk of instances with one multi-statement
round trip per database:

* a scope `column = <uuid> [AND …]` on the table itself becomes `column IN (<chunk>) [AND …]`
  and each row goes to the instance its `column` names;
* any other scope (references two levels deep, through a subquery) becomes a `UNION ALL` of
  the per-instance SELECTs, each tagged with the instance's index.

Rows keep the order the single read gives them (primary key), per instance.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlglot import exp

from generator.connect.cells import Cell
from generator.connect.optionfile import LABELS
from generator.errors import ConnectionProblem, TargetProblem
from generator.facts.batch_cinder import CinderReads
from generator.facts.instance import InstanceFacts, cell_wanted, scope_eq, volume_bdm_ids
from generator.facts.live import DatabaseInfo, LiveDatabases
from generator.facts.model import TableRows
from generator.facts.reader import select_for
from generator.ops.rows import Row, Scope
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.builders import eq as _eq
from generator.sqlgen.builders import isin as _in
from generator.sqlgen.dialect import to_sql
from generator.sqlgen.literals import sql_literal

MARK = "00000000-0000-0000-0000-fixpackmark0"  # never a real UUID: not hex
CHUNK = 250  # instances per round trip
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TAG = "fixpack_batch_n"


def _norm(value: object) -> str:
    return str(value).rstrip(" ").lower()


def _chunks(items: Sequence[str], size: int = CHUNK) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


class _Template:
    """One (table, scope) of the single-instance read, around MARK."""

    def __init__(self, table: str, scope: Scope) -> None:
        self.table = table
        self.scope = scope
        self.marked = sql_literal(MARK)
        self.column = self._simple_column(scope.condition)

    @staticmethod
    def _simple_column(tree: exp.Expr) -> str | None:
        """`col = MARK` alone or as a top-level AND term (and MARK nowhere else): col."""
        terms = list(tree.flatten()) if isinstance(tree, exp.And) else [tree]
        hits = [
            t
            for t in terms
            if isinstance(t, exp.EQ)
            and isinstance(t.this, exp.Column)
            and not t.this.table
            and isinstance(t.expression, exp.Literal)
            and t.expression.this == MARK
        ]
        if len(hits) != 1 or sum(1 for n in tree.find_all(exp.Literal) if n.this == MARK) != 1:
            return None
        return hits[0].this.name

    def for_uuid(self, uuid: str) -> Scope:
        """This instance's scope, equal to the one read_instance builds."""
        description = self.scope.description.replace(MARK, uuid)
        if not _UUID.match(uuid):  # the fast path relies on a literal needing no escaping
            tree = self.scope.tree()
            for node in tree.find_all(exp.Literal):
                if node.this == MARK:
                    node.replace(exp.Literal.string(uuid))
            return Scope(tree, description)

        def build() -> exp.Expr:
            tree = self.scope.tree()
            for node in tree.find_all(exp.Literal):
                if node.this == MARK:
                    node.set("this", uuid)
            return tree

        return Scope.built_later(build, description, self.scope.sql.replace(self.marked, sql_literal(uuid)))

    def statement(self, schema: SchemaSnapshot, uuids: list[str]) -> str:
        if self.column is not None:
            tree = self.scope.tree()
            hit = next(n for n in tree.find_all(exp.EQ) if n.expression.this == MARK)
            merged = _in(self.column, uuids)
            tree = merged if hit is tree else (hit.replace(merged) and tree)
            return select_for(schema, self.table, Scope(tree, ""))
        columns = schema.table(self.table).column_names
        base = to_sql(
            exp.select(*(exp.column(c) for c in columns)).from_(self.table).where(self.scope.tree())
        )
        key = schema.table(self.table).primary_key
        parts = [
            base.replace("SELECT", f"SELECT {n} AS {_TAG},", 1).replace(self.marked, sql_literal(u))
            for n, u in enumerate(uuids)
        ]
        order = ", ".join([_TAG, *(f"`{c}`" for c in key)])
        return " UNION ALL ".join(parts) + f" ORDER BY {order}"

    def split(self, rows: list[dict], uuids: list[str]) -> list[list[Row]]:
        out: list[list[Row]] = [[] for _ in uuids]
        if self.column is not None:
            index = {_norm(u): n for n, u in enumerate(uuids)}
            for r in rows:
                n = index.get(_norm(r[self.column]))
                if n is not None:
                    out[n].append(Row.from_dict(r))
            return out
        for r in rows:
            n = r.pop(_TAG)
            out[n].append(Row.from_dict(r))
        return out


def _read(
    session, schema: SchemaSnapshot, templates: list[_Template], uuids: list[str]
) -> list[dict[str, TableRows]]:
    """Every template's rows for every instance: one round trip per chunk of instances."""
    present = [t for t in templates if schema.has_table(t.table)]
    out: list[dict[str, TableRows]] = [{} for _ in uuids]
    start = 0
    for chunk in _chunks(uuids):
        results = session.query_many([(t.statement(schema, chunk), None) for t in present])
        for t, rows in zip(present, results, strict=True):
            for n, (u, found) in enumerate(zip(chunk, t.split(rows, chunk), strict=True)):
                out[start + n][t.table] = TableRows(t.table, t.for_uuid(u), tuple(found))
        start += len(chunk)
    return out


def _locate_all(live: LiveDatabases, uuids: list[str]) -> list[Cell]:
    """Each instance's cell, searched in the order _locate searches (its mapped cell first)."""
    cells = live.cells()
    if not cells:
        raise ConnectionProblem(
            "no Nova database given: pass --nova-api-url (cells are found from it) "
            "or --nova-url, or --nova-conf"
        )
    mapped: dict[str, Cell] = {}
    if live.has("nova_api"):
        by_uuid = {c.uuid: c for c in cells}
        for chunk in _chunks(uuids, 1000):
            rows = live.session("nova_api").query(
                "SELECT m.instance_uuid, c.uuid FROM instance_mappings m "
                "LEFT JOIN cell_mappings c ON c.id = m.cell_id "
                f"WHERE m.instance_uuid IN ({', '.join(['%s'] * len(chunk))})",
                tuple(chunk),
            )
            for r in rows:
                cell = by_uuid.get(r["uuid"]) if r["uuid"] else None
                key = _norm(r["instance_uuid"])
                if cell is not None and key not in mapped:
                    mapped[key] = cell
    found: dict[str, Cell] = {}

    def search(cell: Cell, wanted: list[str]) -> None:
        session = live.cell_session(cell)
        for chunk in _chunks(wanted, 1000):
            rows = session.query(
                f"SELECT uuid FROM instances WHERE uuid IN ({', '.join(['%s'] * len(chunk))})", tuple(chunk)
            )
            hits = {_norm(r["uuid"]) for r in rows}
            for u in chunk:
                if _norm(u) in hits:
                    found.setdefault(u, cell)

    for cell in cells:  # first round: every instance in its mapped cell
        wanted = [u for u in uuids if mapped.get(_norm(u)) is cell]
        if wanted:
            search(cell, wanted)
    for cell in cells:  # then the others, in order, for what is still missing
        wanted = [u for u in uuids if u not in found and mapped.get(_norm(u)) is not cell]
        if wanted:
            search(cell, wanted)
    for u in uuids:
        if u not in found:
            m = mapped.get(_norm(u))
            order = ([m] if m else []) + [c for c in cells if c is not m]
            searched = [c.name or c.uuid or live.cell_session(c).database for c in order]
            raise TargetProblem(
                f"instance {u} not found: no instance_mappings cell had it and no cell database "
                f"holds it (searched: {', '.join(searched)})"
            )
    return [found[u] for u in uuids]


def _cell_templates(schema: SchemaSnapshot, include_shadow: bool) -> list[_Template]:
    """read_instance's cell reads (no rehost target), around MARK."""
    wanted = cell_wanted(schema, MARK, include_shadow)
    on_instance_host = exp.column("host").isin(
        query=exp.select("host").from_("instances").where(_eq("uuid", MARK))
    )
    services = Scope(
        exp.and_(
            exp.or_(on_instance_host, _eq("host", "")), _eq("binary", "nova-compute"), _eq("deleted", 0)
        ),
        "nova-compute services of the instance host and the target host",
    )
    wanted.append(("services", services))
    return [_Template(t, s) for t, s in wanted]


def _api_templates() -> list[_Template]:
    tables = ("instance_mappings", "request_specs", "build_requests", "instance_group_member")
    return [_Template(t, scope_eq("instance_uuid", MARK)) for t in tables]


def _read_each(
    session, schema: SchemaSnapshot, uuids: list[str], volumes: list[list[str]]
) -> list[dict[str, TableRows]]:
    """Scopes that differ per instance beyond its uuid (Cinder: the volumes of its own BDMs, as
    facts/instance.py cinder_wanted builds them): every statement of a chunk of instances in one
    multi-statement round trip (the statements' text from one rendering per shape: batch_cinder.py)."""
    reads = CinderReads(schema)
    out: list[dict[str, TableRows]] = []
    for start in range(0, len(uuids), CHUNK):
        chunk = [reads.of(uuids[n], volumes[n]) for n in range(start, min(start + CHUNK, len(uuids)))]
        results = iter(session.query_many([(text, None) for one in chunk for _, _, text in one]))
        for one in chunk:
            out.append({t: TableRows(t, s, tuple(map(Row.from_dict, next(results)))) for t, s, _ in one})
    return out


def _placement(
    live: LiveDatabases, uuids: list[str], cells: list[dict[str, TableRows]]
) -> list[dict[str, TableRows]]:
    """Allocations and consumers of each instance (and its migrations), then their providers."""
    p_session = live.session("placement")
    info = live.info("placement", p_session, "placement", LABELS["placement"])
    consumers = []
    for uuid, tables in zip(uuids, cells, strict=True):
        migrations = tables.get("migrations")
        consumers.append([uuid] + [m["uuid"] for m in migrations.rows if m["uuid"]] if migrations else [uuid])
    out: list[dict[str, TableRows]] = []
    for start in range(0, len(cells), CHUNK):
        mine = consumers[start : start + CHUNK]
        owner: dict[str, list[int]] = {}
        for n, ids in enumerate(mine):
            for c in ids:
                owner.setdefault(_norm(c), []).append(n)
        every = sorted({c for ids in mine for c in ids})
        wanted = [
            ("allocations", Scope(_in("consumer_id", every), ""), "consumer_id"),
            ("consumers", Scope(_in("uuid", every), ""), "uuid"),
        ]
        present = [w for w in wanted if info.schema.has_table(w[0])]
        results = p_session.query_many([(select_for(info.schema, t, s), None) for t, s, _ in present])
        part: list[dict[str, TableRows]] = [{} for _ in mine]
        for (table, _, column), rows in zip(present, results, strict=True):
            split: list[list[Row]] = [[] for _ in mine]
            for r in rows:
                for n in owner.get(_norm(r[column]), []):
                    split[n].append(Row.from_dict(r))
            for n, ids in enumerate(mine):
                description = (
                    "allocations held by the instance (and its migrations)"
                    if table == "allocations"
                    else "placement consumers of the instance"
                )
                part[n][table] = TableRows(table, Scope(_in(column, ids), description), tuple(split[n]))
        rp_ids = [sorted({a["resource_provider_id"] for a in p["allocations"].rows}) for p in part]
        every_rp = sorted({i for ids in rp_ids for i in ids})
        rows = p_session.query_many(
            [(select_for(info.schema, "resource_providers", Scope(_in("id", every_rp), "")), None)]
        )[0]
        for n, ids in enumerate(rp_ids):
            wanted_ids = set(ids)
            scope = Scope(exp.or_(_in("id", ids), _in("uuid", [])), "resource providers involved")
            found = tuple(Row.from_dict(r) for r in rows if r["id"] in wanted_ids)
            part[n]["resource_providers"] = TableRows("resource_providers", scope, found)
        out += part
    return out


def read_instances(
    live: LiveDatabases, uuids: Sequence[str], *, include_shadow: bool = False
) -> list[InstanceFacts]:
    """`[read_instance(live, u, include_shadow=…) for u in uuids]`, read in one pass per database."""
    uuids = list(uuids)
    if not uuids:
        return []
    located = _locate_all(live, uuids)
    order = list(dict.fromkeys(located))  # cells in order of first appearance, as one-by-one reads meet them
    infos: dict[Cell, DatabaseInfo] = {}

    def cell_info(cell: Cell) -> DatabaseInfo:
        if cell not in infos:
            session = live.cell_session(cell)
            label = f"Nova cell database ({cell.name or session.database})"
            infos[cell] = live.info("cell:" + cell.uuid, session, "nova", label)
        return infos[cell]

    cell_info(
        order[0]
    )  # detection order as read_instance meets the databases: first cell, api, placement, cinder
    api_info = (
        live.info("nova_api", live.session("nova_api"), "nova_api", LABELS["nova_api"])
        if live.has("nova_api")
        else None
    )
    p_info = (
        live.info("placement", live.session("placement"), "placement", LABELS["placement"])
        if live.has("placement")
        else None
    )
    cinder_info = (
        live.info("cinder", live.session("cinder"), "cinder", LABELS["cinder"])
        if live.has("cinder")
        else None
    )
    cell_tables: list[dict[str, TableRows]] = [{} for _ in uuids]
    read_at = {}
    for cell in order:
        info = cell_info(cell)
        mine = [n for n, c in enumerate(located) if c is cell]
        rows = _read(live.cell_session(cell), info.schema, _cell_templates(info.schema, include_shadow),
                     [uuids[n] for n in mine])  # fmt: skip
        for n, tables in zip(mine, rows, strict=True):
            cell_tables[n] = tables
    api = _read(live.session("nova_api"), api_info.schema, _api_templates(), uuids) if api_info else None
    placement = _placement(live, uuids, cell_tables) if p_info else None
    cinder = (
        _read_each(
            live.session("cinder"),
            cinder_info.schema,
            uuids,
            [volume_bdm_ids(tables) for tables in cell_tables],
        )
        if cinder_info
        else None
    )
    for cell in order:
        read_at[cell] = live.cell_session(cell).query("SELECT UTC_TIMESTAMP() AS now")[0]["now"]
    out = []
    for n, (uuid, cell) in enumerate(zip(uuids, located, strict=True)):
        info = cell_info(cell)
        out.append(
            InstanceFacts(
                uuid,
                cell.uuid or None,
                cell.name,
                cell_tables[n]["instances"].rows[0],
                info.facts(cell_tables[n]),
                api_info.facts(api[n]) if api_info and api else None,
                p_info.facts(placement[n]) if p_info and placement else None,
                cinder_info.facts(cinder[n]) if cinder_info and cinder else None,
                read_at[cell],
                None,
                include_shadow,
            )
        )
    return out
