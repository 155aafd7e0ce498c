"""The keys every check reads, fetched once per scan and shared between checks.

Databases are not assumed to share a server, so nothing is joined across them in SQL:
each reader below is one set-based, index-friendly query per database (per cell for
Nova), and the checks join the results in Python with sets and dicts. A reader that
cannot run raises CheckUnavailable with the reason; the registry turns that into a
`skipped` entry for every check that needed it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pymysql

from generator.connect.cells import Cell
from generator.connect.session import Session
from generator.errors import FixpackError
from generator.facts.live import LiveDatabases
from generator.scan.fetch import keyed_rows
from generator.scan.model import CheckUnavailable

T = TypeVar("T")

NEED_LABELS = {
    "nova_api": "no nova_api database given (--nova-api-url or --nova-conf)",
    "nova": "no Nova cell database given (--nova-api-url, --nova-url or --nova-conf)",
    "placement": "no Placement database given (--placement-url or --placement-conf)",
    "cinder": "no Cinder database given (--cinder-url or --cinder-conf)",
}


@dataclass(frozen=True, slots=True)
class NovaInstance:
    uuid: str
    cell: str  # cell uuid ('' for a lone --nova-url database)
    host: str | None
    node: str | None
    vm_state: str | None
    deleted: bool


@dataclass(frozen=True, slots=True)
class ComputeNode:
    uuid: str | None
    cell: str
    host: str | None
    hypervisor_hostname: str | None
    hypervisor_type: str | None
    deleted: bool


def server_said(exc: Exception) -> str:
    """A driver error as one line: the server's message, never a URL."""
    args: tuple[object, ...] = tuple(getattr(exc, "args", ()))
    return f"server said: {args[1]}" if len(args) >= 2 else exc.__class__.__name__


class ScanContext:
    """Lazily read, cached key sets of one scan (one read-only snapshot per database)."""

    def __init__(
        self, live: LiveDatabases, older_than: dt.timedelta, *, no_snapshot_gb_quota: bool = False
    ) -> None:
        self.live = live
        self.older_than = older_than
        self.no_snapshot_gb_quota = no_snapshot_gb_quota
        self._cache: dict[str, Any] = {}

    # -- plumbing ----------------------------------------------------------------------
    def _cached(self, key: str, read: Callable[[], T]) -> T:
        if key not in self._cache:
            try:
                self._cache[key] = read()
            except CheckUnavailable as exc:
                self._cache[key] = exc
            except FixpackError as exc:  # connection, schema: the check is skipped with this reason
                self._cache[key] = CheckUnavailable(str(exc))
            except pymysql.err.Error as exc:  # lost connection mid-read, missing privilege
                self._cache[key] = CheckUnavailable(f"{key.split(':')[0]}: {server_said(exc)}")
        value = self._cache[key]
        if isinstance(value, CheckUnavailable):
            raise value
        return value

    def session(self, role: str) -> Session:
        if not self.live.has(role):
            raise CheckUnavailable(NEED_LABELS[role])
        return self._cached("session:" + role, lambda: self.live.session(role))

    def require(self, role: str) -> None:
        """Raise CheckUnavailable unless `role` can be read."""
        if role == "nova":
            self.cells()
        else:
            self.session(role)

    def cells(self) -> tuple[tuple[Cell, Session], ...]:
        """Every cell with an open session; any unreadable cell makes Nova unavailable."""

        def read() -> tuple[tuple[Cell, Session], ...]:
            if not (self.live.has("nova_api") or self.live.has("nova")):
                raise CheckUnavailable(NEED_LABELS["nova"])
            cells = self.live.cells()
            if not cells:
                raise CheckUnavailable("nova_api has no cell_mappings rows")
            return tuple((c, self.live.cell_session(c)) for c in cells)

        return self._cached("cells", read)

    def now(self, role: str) -> dt.datetime:
        """The server's UTC clock for a database (timestamps are compared with their own server)."""
        session = self.cells()[0][1] if role == "nova" else self.session(role)
        return self._cached("now:" + role, lambda: session.query_tuples("SELECT UTC_TIMESTAMP()")[0][0])

    def stale(self, when: dt.datetime | None, role: str) -> bool:
        """Is `when` (a row's timestamp) older than --older-than? NULL counts as old."""
        return when is None or when <= self.now(role) - self.older_than

    # -- Nova cells --------------------------------------------------------------------
    def instances(self) -> dict[str, NovaInstance]:
        """Every instance row of every cell, deleted ones included (they tell 'deleted' from 'unknown')."""

        def read() -> dict[str, NovaInstance]:
            out: dict[str, NovaInstance] = {}
            for cell, session in self.cells():
                rows = keyed_rows(session, "instances", "id", ("uuid", "host", "node", "vm_state", "deleted"))
                for uuid, host, node, vm, deleted in rows:
                    old = out.get(uuid)
                    if old is None or (old.deleted and not deleted):  # a live row wins over a deleted one
                        out[uuid] = NovaInstance(uuid, cell.uuid, host, node, vm, bool(deleted))
            return out

        return self._cached("instances", read)

    def live_instances(self) -> dict[str, NovaInstance]:
        return self._cached(
            "live_instances", lambda: {u: i for u, i in self.instances().items() if not i.deleted}
        )

    def stale_tasks(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(cell uuid, instance uuid, row) of live instances with a task not updated for --older-than:
        a range on Nova's instances_task_state_updated_at_idx, not a scan of every instance."""
        out = []
        for cell, session in self.cells():
            rows = session.query(
                "SELECT uuid, vm_state, task_state, host, updated_at FROM instances "
                "WHERE task_state IS NOT NULL AND deleted = 0 "
                "AND (updated_at IS NULL OR updated_at <= UTC_TIMESTAMP() - INTERVAL %s SECOND)",
                (int(self.older_than.total_seconds()),),
            )
            out += [(cell.uuid, r["uuid"], r) for r in rows]
        return out

    def compute_services(self) -> dict[str, set[str]]:
        """cell uuid -> hosts with a live nova-compute service row."""

        def read() -> dict[str, set[str]]:
            out: dict[str, set[str]] = {}
            for cell, session in self.cells():
                rows = session.query_tuples(
                    "SELECT DISTINCT host FROM services WHERE `binary` = 'nova-compute' AND deleted = 0"
                )
                out[cell.uuid] = {r[0] for r in rows if r[0] is not None}
            return out

        return self._cached("services", read)

    def compute_nodes(self) -> list[ComputeNode]:
        def read() -> list[ComputeNode]:
            out = []
            for cell, session in self.cells():
                rows = session.query_tuples(
                    "SELECT uuid, host, hypervisor_hostname, hypervisor_type, deleted FROM compute_nodes"
                )
                out += [ComputeNode(u, cell.uuid, h, hh, ht, bool(d)) for u, h, hh, ht, d in rows]
            return out

        return self._cached("compute_nodes", read)

    def volume_bdms(self) -> list[tuple[str, str, str]]:
        """(instance_uuid, volume_id, cell uuid) of every live BDM that names a volume."""

        def read() -> list[tuple[str, str, str]]:
            out = []
            for cell, session in self.cells():
                rows = keyed_rows(
                    session,
                    "block_device_mapping",
                    "id",
                    ("instance_uuid", "volume_id"),
                    "volume_id IS NOT NULL AND deleted = 0",
                )
                out += [(i, v, cell.uuid) for i, v in rows]
            return out

        return self._cached("bdms", read)

    def migrations(self) -> dict[str, tuple[str | None, str | None, bool]]:
        """Every migration row, uuid -> (status, instance_uuid, deleted)."""

        def read() -> dict[str, tuple[str | None, str | None, bool]]:
            out = {}
            for _cell, session in self.cells():
                rows = session.query_tuples(
                    "SELECT uuid, status, instance_uuid, deleted FROM migrations WHERE uuid IS NOT NULL"
                )
                out.update({u: (s, i, bool(d)) for u, s, i, d in rows})
            return out

        return self._cached("migrations", read)

    # -- nova_api --------------------------------------------------------------------
    def mappings(self) -> dict[str, tuple[str | None, dt.datetime | None]]:
        """instance_uuid -> (cell uuid or None while scheduling, created_at)."""

        def read() -> dict[str, tuple[str | None, dt.datetime | None]]:
            api = self.session("nova_api")
            cells = dict(api.query_tuples("SELECT id, uuid FROM cell_mappings"))
            rows = keyed_rows(api, "instance_mappings", "id", ("instance_uuid", "cell_id"))
            out: dict[str, tuple[str | None, dt.datetime | None]] = {u: (cells.get(c), None) for u, c in rows}
            # only a mapping without a cell needs its age (scheduling, or a build abandoned)
            for uuid, created in api.query_tuples(
                "SELECT instance_uuid, created_at FROM instance_mappings WHERE cell_id IS NULL"
            ):
                out[uuid] = (None, created)
            return out

        return self._cached("mappings", read)

    def build_requests(self) -> dict[str, dt.datetime | None]:
        def read() -> dict[str, dt.datetime | None]:
            rows = self.session("nova_api").query_tuples(
                "SELECT instance_uuid, created_at FROM build_requests WHERE instance_uuid IS NOT NULL"
            )
            return dict(rows)

        return self._cached("build_requests", read)

    # -- Placement -------------------------------------------------------------------
    def allocation_consumers(self) -> set[str]:
        """Every consumer holding allocations (a loose index scan of allocations.consumer_id)."""
        return self._cached(
            "consumers",
            lambda: {
                r[0]
                for r in keyed_rows(
                    self.session("placement"), "allocations", "consumer_id", ("consumer_id",), distinct=True
                )
            },
        )

    def consumer_types(self) -> dict[str, str]:
        """consumer uuid -> consumer type name, for the consumers that have one (Nova sets none)."""
        return self._cached(
            "consumer_types",
            lambda: dict(
                self.session("placement").query_tuples(
                    "SELECT c.uuid, t.name FROM consumers AS c JOIN consumer_types AS t "
                    "ON t.id = c.consumer_type_id"
                )
            ),
        )

    def providers(self) -> list[tuple[int, str, str | None, int | None]]:
        """(id, uuid, name, parent_provider_id) of every resource provider."""
        return self._cached(
            "providers",
            lambda: list(
                self.session("placement").query_tuples(
                    "SELECT id, uuid, name, parent_provider_id FROM resource_providers"
                )
            ),
        )

    # -- Cinder ----------------------------------------------------------------------
    def volumes(self) -> dict[str, tuple[str | None, str | None, bool]]:
        """Every volume row: id -> (status, attach_status, deleted)."""

        def read() -> dict[str, tuple[str | None, str | None, bool]]:
            rows = keyed_rows(
                self.session("cinder"), "volumes", "id", ("id", "status", "attach_status", "deleted")
            )
            return {i: (s, a, bool(d)) for i, s, a, d in rows}

        return self._cached("volumes", read)

    def attachments(self) -> list[tuple[str, str, str | None, str | None]]:
        """Live attachments: (id, volume_id, instance_uuid, attach_status)."""
        return self._cached(
            "attachments",
            lambda: [
                tuple(r)
                for r in keyed_rows(
                    self.session("cinder"),
                    "volume_attachment",
                    "id",
                    ("id", "volume_id", "instance_uuid", "attach_status"),
                    "deleted = 0",
                )
            ],
        )
