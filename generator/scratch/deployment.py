"""A whole OpenStack control-plane database set on one scratch server.

A `Deployment` is what a test, a benchmark or a rehearsal works against:
uniquely named databases for nova_api, the cell0 and cell1 Nova databases,
placement and cinder, each loaded from one catalog release, with nova_api's
`cell_mappings` registered the way `nova-manage cell_v2 map_cell0` and
`create_cell` register them.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import uuid as uuidlib
from dataclasses import dataclass, field

import pymysql

from generator.connect.urls import DatabaseURL
from generator.scratch.loader import load_release
from generator.sqlgen.literals import quote_identifier

CELL0_UUID = "00000000-0000-0000-0000-000000000000"
_counter = itertools.count(1)

# Physical databases of a deployment: role -> catalog database kind.
ROLES = {
    "nova_api": "nova_api",
    "nova": "nova",
    "nova_cell0": "nova",
    "placement": "placement",
    "cinder": "cinder",
}


@dataclass
class Deployment:
    server: DatabaseURL
    release: str
    names: dict[str, str]
    cell1_uuid: str
    _conns: dict[str, pymysql.Connection] = field(default_factory=dict, repr=False)

    def url(self, role: str) -> DatabaseURL:
        return self.server.with_database(self.names[role])

    def connect(self, role: str) -> pymysql.Connection:
        """A read-write admin connection (autocommit) to one database; cached."""
        conn = self._conns.get(role)
        if conn is None or not conn.open:
            conn = admin_connection(self.server, self.names[role])
            self._conns[role] = conn
        return conn

    def query(self, role: str, sql: str, params: object = None) -> list[dict]:
        with self.connect(role).cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def execute(self, role: str, sql: str, params: object = None) -> int:
        with self.connect(role).cursor() as cur:
            return cur.execute(sql, params)

    def close(self) -> None:
        for conn in self._conns.values():
            with contextlib.suppress(pymysql.err.Error):
                conn.close()
        self._conns.clear()

    def drop(self) -> None:
        self.close()
        conn = admin_connection(self.server, None)
        try:
            with conn.cursor() as cur:
                for name in self.names.values():
                    cur.execute(f"DROP DATABASE IF EXISTS {quote_identifier(name)}")
        finally:
            conn.close()


def admin_connection(server: DatabaseURL, database: str | None) -> pymysql.Connection:
    params: dict = {
        "host": server.host or "127.0.0.1",
        "user": server.user or "root",
        "password": server.password or "",
        "database": database,
        "autocommit": True,
        "charset": "utf8mb4",
        "init_command": "SET SESSION time_zone = '+00:00'",
    }
    if server.port:
        params["port"] = server.port
    if server.unix_socket:
        params["unix_socket"] = server.unix_socket
    return pymysql.connect(**params)


def create_deployment(server: DatabaseURL, release: str, *, prefix: str = "fx") -> Deployment:
    """Create and load every database of a deployment with unique names."""
    tag = f"{prefix}{os.getpid()}_{next(_counter)}"
    names = {role: f"{tag}_{role}" for role in ROLES}
    conn = admin_connection(server, None)
    try:
        for role, kind in ROLES.items():
            load_release(conn, names[role], release, kind)
    finally:
        conn.close()
    dep = Deployment(server=server, release=release, names=names, cell1_uuid=str(uuidlib.uuid4()))
    map_cells(dep)
    return dep


def map_cells(dep: Deployment) -> None:
    """cell_mappings rows as nova-manage cell_v2 map_cell0 / create_cell write them."""
    for cell_uuid, name, role in ((CELL0_UUID, "cell0", "nova_cell0"), (dep.cell1_uuid, "cell1", "nova")):
        dep.execute(
            "nova_api",
            "INSERT INTO cell_mappings (created_at, uuid, name, transport_url, "
            "database_connection, disabled) VALUES (UTC_TIMESTAMP(), %s, %s, %s, %s, 0)",
            (
                cell_uuid,
                name,
                "none:///" if role == "nova_cell0" else "rabbit://openstack:secret@controller:5672/",
                dep.url(role).render(with_password=True) + "?charset=utf8",
            ),
        )
