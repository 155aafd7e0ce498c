"""The keys every check reads, fetched once per scan and shared between checks.

Databases are not assumed to share a server, so nothing is joined across them in SQL:
each reader below is one set-based, index-friendly query per database (per cell for
Nova), and the checks join the results in Python with sets and dicts. A reader that
cannot run raises CheckUnavailable with the reason; the registry turns that into a
`skipped` entry for every check that needed it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import pymysql

from generator.connect.cells import Cell
from generator.connect.session import Session
from generator.errors import FixpackError
from generator.facts.live import LiveDatabases
from generator.scan import hosts
from generator.scan.fetch import keyed_rows, keyed_values
from generator.scan.keys import ComputeNode, InstanceIndex, Mappings
from generator.scan.model import CheckUnavailable

T = TypeVar("T")
_IN_CHUNK = 5000  # uuids per IN list: well inside max_allowed_packet
_LIVE = "deleted = 0 OR deleted IS NULL"  # Nova: 0 live, the row's id once soft-deleted; NULL reads as live

NEED_LABELS = {
    "nova_api": "no nova_api database given (--nova-api-url or --nova-conf)",
    "nova": "no Nova cell database given (--nova-api-url, --nova-url or --nova-conf)",
    "placement": "no Placement database given (--placement-url or --placement-conf)",
    "cinder": "no Cinder database given (--cinder-url or --cinder-conf)",
}


class _Raised:
    """A read kept with the error it raised, if any, to raise again unchanged to each caller."""

    __slots__ = ("error", "value")

    def __init__(self, read: Callable[[], Any]) -> None:
        self.value: Any = None
        self.error: Exception | None = None
        try:
            self.value = read()
        except (FixpackError, pymysql.err.Error) as exc:
            self.error = exc


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
        # key -> set when a thread reading it (scan/prefetch.py) is done: others wait, not re-read
        self._reading: dict[str, threading.Event] = {}
        self._guard = threading.Lock()

    # -- plumbing ----------------------------------------------------------------------
    def _cached(self, key: str, read: Callable[[], T], *, raw: bool = False) -> T:
        """`read()` once per scan, whichever thread asks first; a failure is kept as a
        CheckUnavailable with its reason (`raw`: the error itself, re-raised as it was)."""
        while True:
            with self._guard:
                if key in self._cache:
                    break
                busy = self._reading.get(key)
                if busy is None:
                    done = self._reading[key] = threading.Event()
            if busy is not None:  # another thread reads it: wait, then look again
                busy.wait()
                continue
            try:
                self._cache[key] = _Raised(read) if raw else self._read(key, read)
            finally:
                with self._guard:
                    del self._reading[key]
                done.set()
            break
        value = self._cache[key]
        if isinstance(value, _Raised):
            if value.error is not None:
                raise value.error
            return value.value
        if isinstance(value, CheckUnavailable):
            raise value
        return value

    @staticmethod
    def _read(key: str, read: Callable[[], T]) -> T | CheckUnavailable:
        try:
            return read()
        except CheckUnavailable as exc:
            return exc
        except FixpackError as exc:  # connection, schema: the check is skipped with this reason
            return CheckUnavailable(str(exc))
        except pymysql.err.Error as exc:  # lost connection mid-read, missing privilege
            return CheckUnavailable(f"{key.split(':')[0]}: {server_said(exc)}")

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
    def instance_index(self) -> InstanceIndex:
        """Two uuid-only reads per cell (live rows, deleted rows); see InstanceIndex."""

        def read() -> InstanceIndex:
            live_by_cell: dict[str, set[str]] = {}
            live: set[str] = set()
            known: set[str] = set()
            for cell, session in self.cells():
                # paged on uuid: the (uuid, deleted) index covers it, no row of a million is read
                alive = set(keyed_values(session, "instances", "uuid", "uuid", _LIVE, text=True))
                gone = keyed_values(session, "instances", "id", "uuid", "deleted <> 0", text=True)
                alive -= live  # already live in an earlier cell: that cell's row wins
                live_by_cell.setdefault(cell.uuid, set()).update(alive)
                live |= alive
                known |= alive
                known.update(gone)
            return InstanceIndex(live_by_cell, live, known)

        return self._cached("instances", read)

    def live_rows(self, uuids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """uuid -> the live row (uuid, host, node, vm_state, cell) of the given live instances, from the
        cell each is indexed under; one query per cell and 5000 uuids."""
        index = self.instance_index()
        wanted = set(uuids)
        out: dict[str, dict[str, Any]] = {}
        for cell, session in self.cells():
            mine = sorted(wanted & index.live_by_cell.get(cell.uuid, set()))
            for start in range(0, len(mine), _IN_CHUNK):
                part = mine[start : start + _IN_CHUNK]
                rows = session.query(
                    "SELECT uuid, host, node, vm_state FROM instances "
                    f"WHERE uuid IN ({', '.join(['%s'] * len(part))}) AND ({_LIVE})",
                    tuple(part),
                )
                for r in rows:
                    if r["uuid"] in wanted:  # the server's collation may match more than the exact uuid
                        out[r["uuid"]] = {**r, "cell": cell.uuid}
        return out

    def live_without_service(self) -> list[tuple[str, dict[str, Any]]]:
        """(cell uuid, row) of the live instances with a host that has no live nova-compute service
        row in their cell, the hosts compared byte for byte (as Python compares them), so only what
        is about to be reported crosses the network."""
        return self._cached("without_service", self._live_without_service, raw=True)

    def _live_without_service(self) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for cell, session in self.cells():
            out += [(cell.uuid, r) for r in hosts.live_without_service(session)]
        return out

    def stale_tasks(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(cell uuid, instance uuid, row) of live instances with a task not updated for --older-than:
        a range on Nova's instances_task_state_updated_at_idx, not a scan of every instance."""
        return self._cached("stale_tasks", self._stale_tasks, raw=True)

    def _stale_tasks(self) -> list[tuple[str, str, dict[str, Any]]]:
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
    def mappings(self) -> Mappings:
        def read() -> Mappings:
            api = self.session("nova_api")
            cells = dict(api.query_tuples("SELECT id, uuid FROM cell_mappings"))
            cell_ids = dict(keyed_rows(api, "instance_mappings", "id", ("instance_uuid", "cell_id")))
            # only a mapping without a cell needs its age (scheduling, or a build abandoned)
            created = dict(
                api.query_tuples(
                    "SELECT instance_uuid, created_at FROM instance_mappings WHERE cell_id IS NULL"
                )
            )
            return Mappings(cell_ids, cells, created)

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
            lambda: set(
                keyed_values(
                    self.session("placement"),
                    "allocations",
                    "consumer_id",
                    "consumer_id",
                    distinct=True,
                    text=True,
                )
            ),
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

    def cinder_usage(self, read: Callable[[LiveDatabases], T]) -> T:
        """What cinder-quota-drift reads (`read`, its own module's function), once per scan so that
        scan/prefetch.py can read it concurrently with the other databases."""
        return self._cached("cinder_usage", lambda: read(self.live), raw=True)
