"""A read-only connection to one database, counting its round trips.

fixpack never writes to a production database: every session starts a
`READ ONLY` transaction with a consistent snapshot, so the rows read for one
target all come from one moment. Round trips are counted because the
introspection budget ("a handful per database, not one per table") is a
measured property, reported by the benchmarks.
"""

from __future__ import annotations

import functools
import os
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pymysql
import pymysql.cursors
from pymysql.constants import CLIENT

from generator.connect.urls import DatabaseURL
from generator.errors import ConnectionProblem

CONNECT_TIMEOUT = 10


@dataclass
class RoundTrips:
    """Shared by every session of one run; sessions may be used from several threads (the scan
    reads its databases concurrently), so each increment holds a lock."""

    count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def tick(self) -> None:
        with self._lock:
            self.count += 1


class Session:
    """One database on one server; `query()` is the only way in.

    One connection carries one statement at a time: each query holds the session's lock, so
    threads sharing a session (the scan's concurrent key reads) take turns instead of
    interleaving packets on the wire."""

    def __init__(
        self,
        url: DatabaseURL,
        *,
        label: str,
        defaults_file: str | None = None,
        counter: RoundTrips | None = None,
        read_only: bool = True,
    ) -> None:
        self.url = url
        self.label = label
        self.counter = counter or RoundTrips()
        self._lock = threading.RLock()
        self._conn = _connect(url, label=label, defaults_file=defaults_file)
        self.database = url.database or self._scalar("SELECT DATABASE()")
        # TIMESTAMP values and row fingerprints must not depend on the server's zone.
        setup = ["SET SESSION time_zone = '+00:00'"]
        if read_only:
            setup += ["SET SESSION TRANSACTION READ ONLY", "START TRANSACTION WITH CONSISTENT SNAPSHOT"]
        self.execute_raw(";\n".join(setup))  # one round trip (the connection allows multi-statements)

    @property
    def server(self) -> str:
        """`user@host:port` (or `user@localhost via SOCKET`) as connected, for the runbook; no password."""
        c = self._conn
        where = f"localhost via {c.unix_socket}" if c.unix_socket else f"{c.host}:{c.port}"
        user = c.user.decode() if isinstance(c.user, bytes) else c.user
        return f"{user}@{where}" if user else where

    # -- queries -------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | dict | None = None) -> list[dict[str, Any]]:
        """Run one statement and return its rows as dicts (one round trip)."""
        self.counter.tick()
        with self._lock, self._conn.cursor(pymysql.cursors.DictCursor) as cur:
            try:
                cur.execute(sql, params)
            except pymysql.err.OperationalError as exc:
                raise ConnectionProblem(f"{self.label}: {_describe(exc)}") from None
            return list(cur.fetchall())

    def query_many(
        self, statements: Sequence[tuple[str, Sequence[Any] | None]]
    ) -> list[list[dict[str, Any]]]:
        """Several SELECTs in one round trip (multi-statement), one result list each."""
        if not statements:
            return []
        conn = self._conn
        text = ";\n".join(conn.cursor().mogrify(sql, params) for sql, params in statements)
        self.counter.tick()
        results: list[list[dict[str, Any]]] = []
        with self._lock, conn.cursor(pymysql.cursors.DictCursor) as cur:
            try:
                cur.execute(text)
            except pymysql.err.OperationalError as exc:
                raise ConnectionProblem(f"{self.label}: {_describe(exc)}") from None
            results.append(list(cur.fetchall()))
            while cur.nextset():
                results.append(list(cur.fetchall()))
        if len(results) != len(statements):
            raise ConnectionProblem(
                f"{self.label}: expected {len(statements)} result sets, got {len(results)}"
            )
        return results

    def query_tuples(self, sql: str, params: Sequence[Any] | dict | None = None) -> list[tuple]:
        self.counter.tick()
        with self._lock, self._conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def execute_raw(self, sql: str) -> None:
        """One round trip: `sql` may hold several statements, each result is consumed."""
        self.counter.tick()
        with self._lock, self._conn.cursor() as cur:
            cur.execute(sql)
            while cur.nextset():
                pass

    def _scalar(self, sql: str) -> Any:
        rows = self.query_tuples(sql)
        return rows[0][0] if rows else None

    @property
    def server_version(self) -> str:
        return self._conn.get_server_info()

    @property
    def is_mariadb(self) -> bool:
        return "mariadb" in self.server_version.lower()

    def close(self) -> None:
        try:
            self._conn.rollback()
            self._conn.close()
        except pymysql.err.Error:
            pass

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect_params(url: DatabaseURL, defaults_file: str | None = None) -> dict[str, Any]:
    """PyMySQL keyword arguments for a URL (option files fill only what the URL lacks)."""
    params: dict[str, Any] = {
        "host": url.host or "localhost",
        "user": url.user,
        "password": url.password or "",
        "database": url.database,
        "charset": "utf8mb4",
        "connect_timeout": CONNECT_TIMEOUT,
        "autocommit": False,
        "client_flag": CLIENT.MULTI_STATEMENTS,
    }
    if url.port:
        params["port"] = url.port
    if url.unix_socket:
        params["unix_socket"] = url.unix_socket
    option_file = defaults_file or dict(url.query).get("read_default_file")
    if option_file is None and os.path.exists(os.path.expanduser("~/.my.cnf")):
        option_file = "~/.my.cnf"
    if option_file:
        path = os.path.expanduser(option_file)
        if not os.path.isfile(path):
            raise ConnectionProblem(f"MySQL option file not found: {option_file}")
        params["read_default_file"] = path
        params["read_default_group"] = dict(url.query).get("read_default_group", "client")
        if not url.host:
            params.pop("host")
    return params


class _Connection(pymysql.connections.Connection):
    """PyMySQL's connection, the TLS context of its default (PREFERRED) mode built once per process.

    With no TLS option given PyMySQL builds `ssl.create_default_context()` at every connection,
    loading the system CA store (17-30 ms of CPU each, four connections per live bundle), then
    sets CERT_NONE and no host name check, so the store is never consulted. The same context
    serves every such connection (an SSLContext is made to be shared); any TLS option (a URL's
    or an option file's) gets PyMySQL's own, per connection."""

    def _create_ssl_ctx(self, sslp: object) -> ssl.SSLContext:
        if isinstance(sslp, dict) and not sslp:
            return _preferred_tls_context()
        return _PYMYSQL_TLS_CONTEXT(self, sslp)


# PyMySQL's own builder (a private method: absent from the type stubs; should a PyMySQL release
# drop it, _Connection's override is simply never called)
_PYMYSQL_TLS_CONTEXT: Callable[[object, object], ssl.SSLContext] = vars(pymysql.connections.Connection).get(
    "_create_ssl_ctx", lambda _self, _sslp: ssl.create_default_context()
)


@functools.cache
def _preferred_tls_context() -> ssl.SSLContext:
    return _PYMYSQL_TLS_CONTEXT(None, {})


def _connect(url: DatabaseURL, *, label: str, defaults_file: str | None) -> pymysql.Connection:
    try:
        return _Connection(**connect_params(url, defaults_file))
    except pymysql.err.OperationalError as exc:
        raise ConnectionProblem(f"{label} ({url.redacted()}): {_describe(exc)}") from None
    except pymysql.err.InternalError as exc:
        raise ConnectionProblem(f"{label} ({url.redacted()}): {_describe(exc)}") from None
    except (OSError, UnicodeError) as exc:
        raise ConnectionProblem(f"{label} ({url.redacted()}): {exc}") from None


def _describe(exc: Exception) -> str:
    """PyMySQL's (code, message) as one line; never includes a password."""
    args = exc.args
    if len(args) >= 2 and isinstance(args[0], int):
        code, msg = args[0], str(args[1])
        if code in (2002, 2003):
            return "cannot reach the server"
        if code == 1045:
            return "access denied (check user and password)"
        if code == 1049:
            return "no such database on that server"
        return f"server said: {msg} [{code}]"
    return str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
