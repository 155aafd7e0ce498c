"""Open the live databases a repair needs, detect their release, read their schema.

One `LiveDatabases` per fixpack run: sessions are opened lazily and shared,
release detection and schema introspection happen once per database, and a
single round-trip counter covers them all (reported by `--stats` and the
benchmarks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from generator import catalog
from generator.catalog.detect import KIND_LABELS, detect
from generator.connect import open_session
from generator.connect.cells import Cell, discover_cells
from generator.connect.session import RoundTrips, Session
from generator.connect.sources import ConnectionTargets, ResolvedURL
from generator.connect.urls import DatabaseURL
from generator.errors import ConnectionProblem, SchemaProblem
from generator.facts.model import DatabaseFacts, TableRows, WriteSetLimits
from generator.facts.wsrep import read_write_set_limits
from generator.schema.live import snapshot_from_session
from generator.schema.model import SchemaSnapshot


@dataclass(frozen=True)
class DatabaseInfo:
    role: str
    label: str
    release: str
    schema: SchemaSnapshot
    database: str
    fingerprint: str
    detection: str
    write_set: WriteSetLimits | None = None  # the server's Galera limits, read with the schema
    server: str | None = None  # `user@host:port` connected to (Session.server), named by the runbook

    def facts(
        self, tables: Mapping[str, TableRows], role: str | None = None, label: str | None = None
    ) -> DatabaseFacts:
        """The rows read from this database with everything known about it: the one place a live
        DatabaseFacts is built, so no reader forgets a field (the server the runbook names)."""
        return DatabaseFacts(
            role or self.role,
            label or self.label,
            self.release,
            self.schema,
            self.database,
            self.fingerprint,
            self.detection,
            tables,
            write_set=self.write_set,
            server=self.server,
        )


class LiveDatabases:
    def __init__(self, targets: ConnectionTargets, release: str = "auto") -> None:
        self.targets = targets
        self.release_option = release
        self.counter = RoundTrips()
        self._sessions: dict[str, Session] = {}
        self._info: dict[str, DatabaseInfo] = {}
        self._cells: tuple[Cell, ...] | None = None
        # A release pinned down by one database (a Nova cell with compute services)
        # is preferred for the others when their markers allow it.
        self.preferred: str | None = None

    # -- sessions -----------------------------------------------------------------
    def has(self, role: str) -> bool:
        return role in self._sessions or self.targets.get(role) is not None

    def session(self, key: str, url: DatabaseURL | None = None, label: str | None = None) -> Session:
        if key not in self._sessions:
            if url is None:
                resolved = self.targets.get(key)
                if resolved is None:
                    raise ConnectionProblem(f"no {KIND_LABELS.get(key, key)} database given")
                target: ResolvedURL | DatabaseURL = resolved
            else:
                target = url
            self._sessions[key] = open_session(target, self.targets, label=label or key, counter=self.counter)
        return self._sessions[key]

    def cells(self) -> tuple[Cell, ...]:
        """Cell mappings from nova_api (or the one --nova-url given, as an unnamed cell)."""
        if self._cells is None:
            api = self.targets.get("nova_api")
            if api is not None:
                self._cells = discover_cells(self.session("nova_api"), api.url, self.targets.cell_overrides)
            elif self.targets.get("nova") is not None:
                self._cells = (Cell(0, "", None, self.targets.get("nova").url),)  # type: ignore[union-attr]
            else:
                self._cells = ()
        return self._cells

    def cell_session(self, cell: Cell) -> Session:
        explicit = self.targets.get("nova")
        if explicit is not None and (len(self.cells()) == 1 or cell.uuid == ""):
            return self.session("cell:" + cell.uuid, explicit.url, label=f"{cell.label} ({explicit.source})")
        if cell.url is None:
            raise ConnectionProblem(f"{cell.label}: {cell.problem}")
        return self.session("cell:" + cell.uuid, cell.url, label=cell.label)

    # -- schema and release -------------------------------------------------------
    def info(self, key: str, session: Session, kind: str, label: str) -> DatabaseInfo:
        if key in self._info:
            return self._info[key]
        det = detect(session, kind)
        if self.release_option in ("auto", "", None):
            if not det.release:
                raise SchemaProblem(f"{label}: cannot tell the release ({det.reason}); pass --release")
            release = det.release
            how = f"detected ({det.confidence}): {det.reason}"
            if det.confidence in ("exact", "narrowed"):
                self.preferred = self.preferred or release
            elif self.preferred in det.candidates:
                release = self.preferred
                how = f"detected: schema consistent with {release} (as the Nova cell database): {det.reason}"
        else:
            release = catalog.get_release(self.release_option).name
            if det.candidates and release not in det.candidates:
                raise SchemaProblem(
                    f"{label}: --release {release} does not match this database "
                    f"(its markers say {', '.join(det.candidates)}: {det.reason})"
                )
            how = (
                f"--release {release} (markers agree: {det.reason})"
                if det.candidates
                else f"--release {release} (markers: {det.reason})"
            )
        schema = snapshot_from_session(session)
        write_set = read_write_set_limits(session)  # Galera limits: the renderer sizes chunks below them
        info = DatabaseInfo(
            kind,
            label,
            release,
            schema,
            session.database,
            schema.fingerprint(),
            how,
            write_set,
            session.server,
        )
        self._info[key] = info
        return info

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()
