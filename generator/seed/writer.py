"""Pending rows, explicit id allocation and the bulk flush, for every database of a deployment.

Rows are built as plain dicts holding every column any supported release's service
writes; the writer keeps only the columns the deployment's release really has, so the
builders stay release-agnostic while each INSERT matches that release's schema exactly.
A NOT NULL column without a default that a builder forgot is a hard error here rather
than a silent server default, because a seeding gap would make a repair test pass on
data no real service produces.

Ids are allocated in Python (MAX(id)+1 at first use) instead of relying on
AUTO_INCREMENT: children can then reference parents in the same multi-row batch, and
everything is written with `executemany` (PyMySQL folds it into multi-row INSERTs) in one
transaction per database, parents before children, with FOREIGN_KEY_CHECKS on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import threading
from collections.abc import Callable
from typing import Any

import pymysql

from generator.catalog import catalog_snapshot, release_names
from generator.errors import FixpackError
from generator.schema.model import SchemaSnapshot
from generator.scratch.deployment import ROLES, Deployment, admin_connection
from generator.sqlgen.literals import quote_identifier

Row = dict[str, Any]
Hook = Callable[[pymysql.cursors.Cursor], object]  # what a hook returns is ignored

# Flush order of the databases; there are no cross-database FKs, this is just stable.
ROLE_ORDER = ("nova_api", "nova", "nova_cell0", "placement", "cinder")
# Multi-row INSERT statements are cut at about this many bytes (well under the
# max_allowed_packet of any real server; MariaDB's default is 16M).
BATCH_BYTES = 4 << 20


class SeedError(FixpackError):
    """The seeder was asked for something the schema or the model cannot hold."""


@functools.cache
def known_columns(kind: str, table: str) -> frozenset[str]:
    """Columns of `table` in ANY catalog release: a builder key outside it is a typo."""
    cols: set[str] = set()
    for rel in release_names():
        snap = catalog_snapshot(rel, kind)
        if snap.has_table(table):
            cols.update(snap.table(table).column_names)
    return frozenset(cols)


def fk_order(snapshot: SchemaSnapshot) -> list[str]:
    """Table names with every FK parent before its children (self-references ignored)."""
    parents = {
        t.name: {fk.ref_table for fk in t.foreign_keys if fk.ref_table != t.name} for t in snapshot.tables
    }
    order: list[str] = []
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done or name in path:
            return
        for parent in sorted(parents.get(name, ())):
            visit(parent, (*path, name))
        done.add(name)
        order.append(name)

    for name in sorted(parents):
        visit(name, ())
    return order


def literal(value: Any) -> str:
    """A MySQL literal for the types rows hold (the session is utf8mb4, default sql_mode
    escaping: only backslash, quote and NUL need escaping inside '...')."""
    kind = type(value)
    if kind is str:
        if "\\" in value or "'" in value or "\x00" in value:
            value = value.replace("\\", "\\\\").replace("'", "\\'").replace("\x00", "\\0")
        return "'" + value + "'"
    if value is None:
        return "NULL"
    if kind is int:
        return str(value)
    if kind is bool:
        return "1" if value else "0"
    if kind is float:
        return repr(value)
    if kind is dt.datetime:
        return "'" + value.isoformat(" ") + "'"
    return pymysql.converters.escape_item(value, "utf8mb4")


def compile_renderer(cols: list[str]) -> Callable[[Row], str]:
    """`row -> "(lit, lit, ...)"` for one column list, generated once per table and key set.

    Straight-line code instead of itemgetter + join over a generator: rendering is the
    writer's hot loop (millions of rows at benchmark scale)."""
    body = ' + "," + '.join(f"lit(row[{c!r}])" for c in cols)
    namespace: dict[str, Any] = {"lit": literal}
    exec(f'def render(row):\n    return "(" + {body} + ")"\n', namespace)
    return namespace["render"]


class RowBuffer:
    """Rows waiting to be written, per database role, plus the hooks run at flush time."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep
        self.release = dep.release
        self.snapshots: dict[str, SchemaSnapshot] = {
            role: catalog_snapshot(dep.release, kind) for role, kind in ROLES.items()
        }
        self.pending: dict[str, dict[str, list[Row]]] = {role: {} for role in ROLES}
        self.pre_flush: list[Callable[[], None]] = []
        self.post_insert: dict[str, list[Hook]] = {role: [] for role in ROLES}
        self._next_id: dict[tuple[str, str], int] = {}
        self._orders = {role: fk_order(snap) for role, snap in self.snapshots.items()}
        self._plans: dict[tuple[str, str, tuple[str, ...]], tuple[str, Callable[[Row], str]]] = {}
        self._conns: dict[str, pymysql.Connection] = {}
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self.rows_written = 0

    # schema questions ----------------------------------------------------------
    def has_table(self, role: str, table: str) -> bool:
        return self.snapshots[role].has_table(table)

    def has_column(self, role: str, table: str, column: str) -> bool:
        snap = self.snapshots[role]
        return snap.has_table(table) and snap.table(table).has_column(column)

    # building ------------------------------------------------------------------
    def add(self, role: str, table: str, row: Row) -> Row:
        """Queue one row; returns it so callers can patch it until the next flush."""
        self.pending[role].setdefault(table, []).append(row)
        return row

    def next_id(self, role: str, table: str, column: str = "id") -> int:
        """The next integer id of `table`, allocated here so children can reference it."""
        key = (role, table)
        if key not in self._next_id:
            sql = f"SELECT COALESCE(MAX({quote_identifier(column)}), 0) AS m FROM {quote_identifier(table)}"
            self._next_id[key] = int(self.dep.query(role, sql)[0]["m"]) + 1
        value = self._next_id[key]
        self._next_id[key] = value + 1
        return value

    def pending_count(self) -> int:
        return sum(len(rows) for tables in self.pending.values() for rows in tables.values())

    # writing -------------------------------------------------------------------
    def _plan(self, role: str, table: str, keys: tuple[str, ...]) -> tuple[str, Callable[[Row], str]]:
        """`INSERT INTO t (cols) VALUES ` and the row renderer for one (table, key set); cached."""
        cache_key = (role, table, keys)
        plan = self._plans.get(cache_key)
        if plan is not None:
            return plan
        snap = self.snapshots[role]
        kind = ROLES[role]
        if not snap.has_table(table):
            raise SeedError(f"release {self.release} has no table {kind}.{table}")
        t = snap.table(table)
        unknown = set(keys) - known_columns(kind, table)
        if unknown:
            raise SeedError(f"{kind}.{table}: no release has column(s) {sorted(unknown)}")
        missing = [
            c.name
            for c in t.columns
            if not c.nullable and c.default is None and not c.auto_increment and c.name not in keys
        ]
        if missing:
            raise SeedError(f"{kind}.{table} in {self.release} needs {missing}, which the seeder did not set")
        cols = [c for c in t.column_names if c in keys]
        head = "INSERT INTO {} ({}) VALUES ".format(
            quote_identifier(table), ", ".join(quote_identifier(c) for c in cols)
        )
        plan = (head, compile_renderer(cols))
        self._plans[cache_key] = plan
        return plan

    def connection(self, role: str) -> pymysql.Connection:
        """The writer's own connection per database: its session settings stay private, and
        a background flush never shares a connection with lookups made while building."""
        conn = self._conns.get(role)
        if conn is None or not conn.open:
            conn = admin_connection(self.dep.server, self.dep.names[role])
            with conn.cursor() as cur:
                # FK and unique checks on: rows must be valid as written. Placement's standard
                # resource classes really have id 0 (VCPU), see placement.py; literal()
                # escapes with backslashes, so NO_BACKSLASH_ESCAPES must be off.
                cur.execute("SET SESSION foreign_key_checks = 1, unique_checks = 1")
                # the services connect with charset=utf8 (utf8mb3, the tables' charset too)
                cur.execute("SET NAMES utf8mb3")
                cur.execute(
                    "SET SESSION sql_mode = REPLACE(CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO'), "
                    "'NO_BACKSLASH_ESCAPES', '')"
                )
            self._conns[role] = conn
        return conn

    def _write_role(self, role: str, statements: list[str], hooks: list[Hook]) -> None:
        """One transaction: the INSERTs (parents first), then the post-insert hooks."""
        if not statements and not hooks:
            return
        conn = self.connection(role)
        with conn.cursor() as cur:
            conn.begin()
            try:
                for sql in statements:
                    cur.execute(sql)
                for hook in hooks:
                    hook(cur)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    def _statements(self, role: str, tables: dict[str, list[Row]]) -> list[str]:
        """Multi-row INSERTs of a role's rows in FK order, cut at BATCH_BYTES.

        This is what PyMySQL's executemany() sends, rendered here with a literal encoder
        specialised for the value types the builders produce: at benchmark scale
        PyMySQL's generic per-value escaping was two thirds of the seeding time.
        """
        out: list[str] = []
        for table in self._orders[role]:
            rows = tables.get(table)
            if not rows:
                continue
            start = 0
            while start < len(rows):  # one run per key set (normally the whole table)
                keys = rows[start].keys()
                end = start + 1
                while end < len(rows) and rows[end].keys() == keys:
                    end += 1
                head, render = self._plan(role, table, tuple(sorted(keys)))
                parts: list[str] = []
                size = 0
                for row in rows[start:end]:
                    text = render(row)
                    parts.append(text)
                    size += len(text) + 1
                    if size >= BATCH_BYTES:
                        out.append(head + ",".join(parts))
                        parts, size = [], 0
                if parts:
                    out.append(head + ",".join(parts))
                start = end
        return out

    def flush(self, *, background: bool = False) -> int:
        """Write everything pending; one transaction per database. Returns rows written.

        With `background=True` the rendered statements go to a writer thread, so the
        caller can build the next batch while the server inserts this one (the next
        flush, `wait()` or `close()` joins it and re-raises its error). The bulk path
        uses this; rendering stays in the caller's thread, where the GIL is anyway.
        """
        for hook in self.pre_flush:
            hook()
        job: list[tuple[str, list[str], list[Hook]]] = []
        queued = 0
        for role in ROLE_ORDER:
            tables = self.pending[role]
            unknown = set(tables) - set(self._orders[role])
            if unknown:
                raise SeedError(f"release {self.release} has no {role} table(s) {sorted(unknown)}")
            queued += sum(len(rows) for rows in tables.values())
            job.append((role, self._statements(role, tables), self.post_insert[role]))
            self.pending[role] = {}
            self.post_insert[role] = []
        self.wait()  # the previous batch must be in before this one (UPDATE hooks, FKs)
        if background:
            self._thread = threading.Thread(
                target=self._run_job, args=(job, queued), name="seed-flush", daemon=True
            )
            self._thread.start()
        else:
            self._run_job(job, queued)
            self._raise_failure()
        return queued

    def _run_job(self, job: list[tuple[str, list[str], list[Hook]]], rows: int) -> None:
        try:
            for role, statements, hooks in job:
                self._write_role(role, statements, hooks)
            self.rows_written += rows
        except BaseException as exc:  # re-raised in the caller's thread by wait()
            self._failure = exc

    def _raise_failure(self) -> None:
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def wait(self) -> None:
        """Join a background flush, re-raising what it failed with."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._raise_failure()

    def close(self) -> None:
        self.wait()
        for conn in self._conns.values():
            with contextlib.suppress(pymysql.err.Error):
                conn.close()
        self._conns.clear()
