"""Identity and schema guards: the first statements of every SQL file of a bundle.

Before anything is locked, captured or changed, each file proves three things
about the database the client is connected to, in two checks (the second
needs the first's premise, so a wrong database never gets as far as a cryptic
ERROR 1054 or 1146):

1. *service and schema*, one check (both read only information_schema). The
   tables only that service has are here — nova_api keeps legacy
   `allocations`/`consumers`/`resource_providers` and a cell legacy
   `allocations`/`inventories`, so Placement is known by `consumer_types`,
   nova_api by `cell_mappings` + `instance_mappings`, a cell by `instances` +
   `compute_nodes`, Cinder by `volumes` + `volume_attachment` (every catalog
   release) — and, on the right service only, every table the file touches
   has exactly the columns the bundle was made for: names, NULL/NOT NULL,
   information_schema's DATA_TYPE (MariaDB's JSON is a LONGTEXT: `json` counts
   as `longtext`); live the schema read at generation, offline the --release
   catalog (a xena bundle on a 2026.2 database stops here);
2. *target* — the target is in this database (what tells a cell from cell0 and
   from another cell; a re-run or rollback after a soft-delete or rehost still
   finds it). A purge removes the target's rows: then the purge's
   postconditions holding here stand in for them — live, and in the rollback a
   capture writes, only in the database of the same name (at generation, or
   where the capture ran), so a rollback cannot re-insert into a wrong cell.
   Placement and Cinder in VM bundles have no target check (see TARGETS).

Each check measures into `@fixpack_check` (a purge's verdict into
`@fixpack_target_gone`), prints what was expected and what was found only when the
check fails, then stops the client with the usual scalar-subquery guard
(ERROR 1242). They read information_schema, the target's key and the purge's
postconditions: cheap, no locks, nothing changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp

from generator.plan.model import DatabaseTarget, Plan
from generator.render import statements as st
from generator.render.sqlfile import comment
from generator.schema.model import Column, Table
from generator.sqlgen.dialect import dual, to_sql
from generator.sqlgen.literals import literal_node

CHECK = st.CHECK


@dataclass(frozen=True)
class Service:
    label: str
    markers: tuple[str, ...]  # tables only this service has, in every catalog release


SERVICES = {
    "nova": Service("a Nova cell database", ("compute_nodes", "instances")),
    "nova_api": Service("the Nova API database", ("cell_mappings", "instance_mappings")),
    "placement": Service("the Placement database", ("consumer_types",)),
    "cinder": Service("the Cinder database", ("volume_attachment", "volumes")),
}
ALL_MARKERS = tuple(sorted({t for s in SERVICES.values() for t in s.markers}))


@dataclass(frozen=True)
class Target:
    """Which rows say "the target is here", and whether the postconditions may stand in for them."""

    table: str
    column: str
    noun: str
    done_counts: bool  # a purge removes these rows: then its postconditions stand in for them


# (target kind, role) -> how the target is recognised. Roles not listed are recognised by
# service and schema only: there is one Placement and one Cinder database per deployment,
# and a VM's Placement consumer or Cinder rows may legitimately be absent (no allocations,
# no volumes), so their absence cannot tell a wrong database from a right one.
TARGETS = {
    ("vm", "nova"): Target("instances", "uuid", "instance", True),
    ("vm", "nova_api"): Target("instance_mappings", "instance_uuid", "instance mapping", True),
    ("volume", "cinder"): Target("volumes", "id", "volume", True),
    # Nova soft-deletes block_device_mapping rows (never removes them), and "no live BDM of the
    # volume" holds in every cell: only the rows themselves tell the volume's cell.
    ("volume", "nova"): Target("block_device_mapping", "volume_id", "block_device_mapping row", False),
}


# -- small builders ------------------------------------------------------------------
def _info_schema(table: str, where: exp.Expr) -> exp.Select:
    """`… FROM information_schema.<table> WHERE TABLE_SCHEMA = DATABASE() AND …` (this database only)."""
    here = exp.EQ(this=exp.column("TABLE_SCHEMA"), expression=exp.Anonymous(this="DATABASE", expressions=[]))
    source = exp.Table(this=exp.to_identifier(table), db=exp.to_identifier("information_schema"))
    return exp.select().from_(source, copy=False).where(exp.and_(here, where), copy=False)


def _strings(values: Sequence[str]) -> list[exp.Expr]:
    return [literal_node(v) for v in values]


def silent_guard(label: str, condition: exp.Expr) -> str:
    """`st.guard` that prints no row when it holds: a capture file's output is the rollback script.

    The same scalar subquery (ERROR 1242 unless the condition holds), tested in a WHERE clause
    that is false when it passes (over a one-row derived table: sqlfluff parses no WHERE without
    FROM, and two DUALs in one statement are a duplicate alias to it).
    """
    failing = exp.union(
        exp.select(exp.Literal.number(1)),
        exp.select(exp.Literal.number(2))
        .from_(dual(), copy=False)
        .where(exp.Not(this=exp.Paren(this=condition)), copy=False),
        distinct=False,
    )
    once = exp.select(exp.alias_(exp.Literal.number(1), "once")).subquery("identity", copy=False)
    statement = (
        exp.select(exp.alias_(literal_node(label), "guard"))
        .from_(once, copy=False)
        .where(exp.Is(this=exp.Subquery(this=failing), expression=exp.Null()), copy=False)
    )
    return to_sql(statement) + ";"


def _check(
    label: str,
    measure: exp.Expr,
    expected: str,
    found: exp.Expr,
    holds: exp.Expr,
    silent: bool = False,
) -> list[str]:
    """Measure into @fixpack_check; print expected/found only if `holds` is false; then the guard."""
    show = (
        exp.select(exp.alias_(literal_node(expected), "expected"), exp.alias_(found, "found"))
        .from_(dual(), copy=False)
        .where(exp.Not(this=exp.Paren(this=holds.copy())), copy=False)
    )
    guard = silent_guard(label, holds) if silent else st.guard(label, holds)
    return [st.set_var(CHECK, measure), to_sql(show) + ";", guard]


def _comment(text: str) -> list[str]:
    return comment(text)


# -- 1. service and schema ----------------------------------------------------------------
def _service_problem(role: str) -> exp.Select:
    """NULL when the service's marker tables are all here; else `service tables here: …` (every
    service's markers found, or `none`): one read of information_schema.TABLES."""
    name = exp.column("TABLE_NAME")
    markers = SERVICES[role].markers
    here = exp.Sum(this=name.isin(*_strings(markers)))
    listed = exp.GroupConcat(
        this=exp.Order(this=name.copy(), expressions=[exp.Ordered(this=name.copy(), nulls_first=True)]),
        separator=exp.Literal.string(", "),
    )
    problem = exp.If(
        this=exp.EQ(this=here, expression=exp.Literal.number(len(markers))),
        true=exp.Null(),
        false=exp.Concat(
            expressions=[
                exp.Literal.string("service tables here: "),
                exp.Coalesce(this=listed, expressions=[exp.Literal.string("none")]),
            ]
        ),
    )
    query = _info_schema("TABLES", name.copy().isin(*_strings(ALL_MARKERS)))
    return query.select(problem, copy=False)


def service_and_schema_check(
    role: str, tables: Sequence[Table], source: str, silent: bool = False
) -> list[str]:
    """The service's marker tables are here and, only then, every touched table has its columns.

    `@fixpack_check` is NULL when both hold, else what differs: the service tables here (a wrong
    service; the schema is not judged), or each differing table with the columns it has here.
    """
    service = SERVICES[role]
    markers = ", ".join(service.markers)
    schema = exp.Coalesce(this=st.var(CHECK), expressions=[_schema_differences(tables)])
    return [
        *_comment(
            f"identity 1/2: {service.label} (tables only it has: {markers}), each table touched with the "
            f"columns of {source} (a hash of its `column DATA_TYPE NULL|NOT NULL` lines); what differs is "
            "printed here"
        ),
        st.set_var(CHECK, _service_problem(role).subquery(copy=False)),
        *_check(
            f"identity: {service.label} with the columns of {source}",
            schema,
            f"{service.label} with the columns of {source}",  # one literal (<= 96): never split
            st.var(CHECK),
            exp.Is(this=st.var(CHECK), expression=exp.Null()),
            silent,
        ),
    ]


# -- 2. schema ---------------------------------------------------------------------------
def data_type(column: Column) -> str:
    """information_schema DATA_TYPE of a recorded column type, as both servers agree on it."""
    base = column.base_type
    return {"json": "longtext", "integer": "int", "bool": "tinyint", "boolean": "tinyint"}.get(base, base)


def column_spec(table: str, column: Column) -> str:
    """`table column type NULL|NOT NULL`: one line of the expected schema."""
    return f"{table} {column.name} {data_type(column)} {'NULL' if column.nullable else 'NOT NULL'}"


def table_hash(table: Table) -> str:
    """First 16 hex digits of SHA-256 over the table's column lines (`_found_columns` on the server).

    Lines are `column DATA_TYPE NULL|NOT NULL`, ordered by the column name's bytes, joined by ", ".
    """
    lines = [
        column_spec(table.name, c).split(" ", 1)[1]
        for c in sorted(table.columns, key=lambda c: c.name.encode())
    ]
    return hashlib.sha256(", ".join(lines).encode("utf-8")).hexdigest()[:16]


def _found_columns(tables: Sequence[str]) -> exp.Select:
    """Per table of `tables` here: its name and its column lines, as `table_hash` hashes them."""

    def text(value: exp.Expr) -> exp.Expr:  # one collation for both servers' information_schema
        return exp.Cast(this=value, to=exp.DataType.build("CHAR"))

    typ = exp.If(
        this=exp.EQ(this=exp.column("DATA_TYPE"), expression=exp.Literal.string("json")),
        true=exp.Literal.string("longtext"),
        false=exp.column("DATA_TYPE"),
    )
    nullable = exp.If(
        this=exp.EQ(this=exp.column("IS_NULLABLE"), expression=exp.Literal.string("YES")),
        true=exp.Literal.string("NULL"),
        false=exp.Literal.string("NOT NULL"),
    )
    line = exp.Anonymous(
        this="CONCAT_WS",
        expressions=[exp.Literal.string(" "), text(exp.column("COLUMN_NAME")), text(typ), nullable],
    )
    by_bytes = exp.Cast(this=exp.column("COLUMN_NAME"), to=exp.DataType.build("BINARY"))
    cols = exp.GroupConcat(
        this=exp.Order(this=line, expressions=[exp.Ordered(this=by_bytes, nulls_first=True)]),
        separator=exp.Literal.string(", "),
    )
    query = _info_schema("COLUMNS", exp.column("TABLE_NAME").isin(*_strings(tables)))
    query = query.select(
        exp.alias_(text(exp.column("TABLE_NAME")), "t"), exp.alias_(cols, "cols"), copy=False
    )
    return query.group_by(exp.column("TABLE_NAME"), copy=False)


def _schema_differences(tables: Sequence[Table]) -> exp.Expr:
    """NULL when each table's column lines hash as expected; else the differing tables and their columns."""
    t, cols = exp.column("t"), exp.column("cols")
    found_hash = exp.Anonymous(
        this="LEFT",
        expressions=[
            exp.Anonymous(this="SHA2", expressions=[cols, exp.Literal.number(256)]),
            exp.Literal.number(16),
        ],
    )
    tagged = exp.Concat(expressions=[t.copy(), exp.Literal.string(":"), found_hash])
    wanted = [literal_node(f"{table.name}:{table_hash(table)}") for table in tables]
    shown = exp.Concat(expressions=[t.copy(), exp.Literal.string(": "), cols.copy()])
    differing = exp.GroupConcat(
        this=exp.Order(
            this=exp.If(this=tagged.isin(*wanted), true=exp.Null(), false=shown),
            expressions=[exp.Ordered(this=t.copy(), nulls_first=True)],
        ),
        separator=exp.Literal.string("; "),
    )
    count = exp.Count(this=exp.Star())
    missing = exp.If(
        this=exp.EQ(this=count, expression=exp.Literal.number(len(tables))),
        true=exp.Null(),
        false=exp.Concat(
            expressions=[count.copy(), exp.Literal.string(f" of the {len(tables)} tables are here")]
        ),
    )
    listed = exp.Anonymous(
        this="NULLIF",
        expressions=[
            exp.Anonymous(this="CONCAT_WS", expressions=[exp.Literal.string("; "), differing, missing]),
            exp.Literal.string(""),
        ],
    )
    found = exp.Subquery(
        this=_found_columns([table.name for table in tables]),
        alias=exp.TableAlias(this=exp.to_identifier("f")),
    )
    return exp.select(listed).from_(found, copy=False).subquery(copy=False)


# -- 2. target ---------------------------------------------------------------------------
OVERRIDE = "fixpack_database"  # set it to run a file on a renamed copy of its database (rehearsals)
CAPTURED = "fixpack_captured_database"  # a captured rollback: the database its capture ran on
# a purge's postconditions, evaluated once (not @fixpack_state: `fixpack verify` reads that one as a
# step's state when it derives guards from the SQL)
TARGET_GONE = "fixpack_target_gone"


def target_check(plan: Plan, role: str, silent: bool = False, database: exp.Expr | None = None) -> list[str]:
    """`database`: the name the database had (generation, or capture) — what still tells the
    right database from a wrong one once a purge has removed every row of the target."""
    target = TARGETS.get((plan.target_kind, role))
    if target is None:
        return _comment(
            "identity 2/2: no target check here: there is one such database per deployment, and the "
            "target may legitimately have no row in it; service and schema identify it"
        )
    ids = plan.targets
    who = f"{target.noun} {ids[0]}" if len(ids) == 1 else f"one of the {len(ids)} targets ({target.noun})"
    key = exp.column(target.column)
    where = exp.EQ(this=key, expression=literal_node(ids[0])) if len(ids) == 1 else key.isin(*_strings(ids))
    count = exp.select(exp.Count(this=exp.Star())).from_(target.table, copy=False).where(where, copy=False)
    holds: exp.Expr = exp.GT(this=st.var(CHECK), expression=exp.Literal.number(0))
    posts = [p.condition.copy() for p in plan.postconditions if p.database == role]
    expected = f"{who} in {target.table} here"
    tells = "its cell from cell0 or another cell" if role == "nova" else "the right database"
    why = f"identity 2/2: {who} is here (it tells {tells})"
    done = target.done_counts and plan.op == "purge" and bool(posts)  # a purge removes the target's rows
    if done:
        if database is not None:
            named = exp.Coalesce(this=st.var(OVERRIDE), expressions=[database])
            posts.append(
                exp.NullSafeEQ(this=exp.Anonymous(this="DATABASE", expressions=[]), expression=named)
            )
        holds = exp.or_(holds, exp.Paren(this=exp.and_(*posts)) if len(posts) > 1 else posts[0])
        expected += ", or the apply already ran here (its postconditions hold)"
        why += ", or the apply already ran here: every postcondition holds, so a re-run passes."
        why += (
            " A purge leaves no row to tell the database by, so the postconditions count only in the "
            "database of the same name (for a renamed copy, run the client with "
            "--init-command='SET @fixpack_database = DATABASE()')"
            if database is not None
            else " A purge leaves no row to tell the database by: after one, only the precheck and the "
            "apply's preconditions (which need the rows) tell a wrong database; the rollback its capture "
            "writes checks the database name"
        )
    found = exp.Concat(
        expressions=[
            exp.Cast(this=st.var(CHECK), to=exp.DataType.build("CHAR")),
            exp.Literal.string(
                f" row(s) in {target.table}" + ("; postconditions do not hold" if done else "")
            ),
            *([exp.Literal.string(" (or another database)")] if done and database is not None else []),
        ]
    )
    verdict = exp.NullSafeEQ(this=exp.Paren(this=holds), expression=exp.true())
    if done:  # the postconditions are long: evaluate them once, into @fixpack_target_gone
        verdict = exp.NullSafeEQ(this=st.var(TARGET_GONE), expression=exp.true())
    checks = _check(
        f"identity: {who} is in this database", count.subquery(copy=False), expected, found, verdict, silent
    )
    if done:
        checks.insert(1, st.set_var(TARGET_GONE, exp.Paren(this=holds)))
    return [*_comment(why), *checks]


def identity_statements(
    plan: Plan, db: DatabaseTarget, *, silent: bool = False, captured: bool = False
) -> list[str]:
    """Service, schema of every table the file's operations touch, target: the file's first checks.

    `silent`: guards print no row when they hold (a capture file's output must be SQL only).
    `captured`: for the rollback a capture writes, which knows the database it was captured from
    (`captured_database_line()` prints it first).
    """
    source = (
        f"the {db.role} schema read at generation"
        if plan.mode == "live"
        else f"release {db.release} (fixpack catalog)"
    )
    tables = sorted({op.table for op in plan.operations_for(db.role)})
    out = ["-- ==== is this the right database? (read-only; stops the client if not) ===="]
    out += service_and_schema_check(db.role, [db.schema.table(name) for name in tables], source, silent)
    database: exp.Expr | None = None
    if captured:
        database = st.var(CAPTURED)
    elif plan.mode == "live" and db.database:
        database = literal_node(db.database)
    out += target_check(plan, db.role, silent, database)
    return [*out, ""]


def captured_database_line() -> exp.Expr:
    """Capture-time SQL text `SET @fixpack_captured_database = X'<DATABASE() in hex>';` for the rollback."""
    return exp.Concat(
        expressions=[
            exp.Literal.string(f"SET @{CAPTURED} = X'"),
            exp.Hex(this=exp.Anonymous(this="DATABASE", expressions=[])),
            exp.Literal.string("';"),
        ]
    )
