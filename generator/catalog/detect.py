"""Tell which service and which release a live database is at, and how sure.

Markers read (two to four round trips per database):
* which tables exist — tells Nova cell / Nova API / Placement / Cinder apart;
* `alembic_version` (and a leftover `migrate_version`) — the schema head;
* for a Nova cell database, the `services.version` of live nova-compute rows —
  the only thing that tells apart releases sharing one schema head
  (2025.1/2025.2/2026.1 all stop at 2903cd72dc14).
"""

from __future__ import annotations

from dataclasses import dataclass

from generator import catalog
from generator.connect.session import Session
from generator.errors import SchemaProblem

# Tables whose joint presence identifies each database (nova_api also carries
# placement's leftover tables, so it is tested first).
SIGNATURES = (
    ("nova_api", ("cell_mappings", "instance_mappings", "request_specs")),
    ("nova", ("instances", "block_device_mapping", "instance_info_caches")),
    ("cinder", ("volumes", "volume_attachment", "quota_usages")),
    ("placement", ("resource_providers", "consumers", "allocations")),
)
KIND_LABELS = {"nova": "Nova cell", "nova_api": "Nova API", "placement": "Placement", "cinder": "Cinder"}


@dataclass(frozen=True)
class Markers:
    kind: str
    alembic: tuple[str, ...]
    migrate_version: int | None
    compute_versions: tuple[int, ...] = ()


@dataclass(frozen=True)
class Detection:
    kind: str
    database: str
    markers: Markers
    candidates: tuple[str, ...]  # catalog releases consistent with the markers, oldest first
    confidence: str  # exact | narrowed | ambiguous | unsupported
    reason: str

    @property
    def release(self) -> str | None:
        """The release to plan against: the newest candidate (all share one schema)."""
        return self.candidates[-1] if self.candidates else None


def identify_kind(tables: set[str]) -> str | None:
    for kind, required in SIGNATURES:
        if all(t in tables for t in required):
            return kind
    return None


def read_markers(session: Session, expected_kind: str | None = None) -> Markers:
    tables = {
        r["TABLE_NAME"]
        for r in session.query(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (session.database,)
        )
    }
    kind = identify_kind(tables)
    if kind is None:
        raise SchemaProblem(
            f"{session.label}: database {session.database!r} is not a Nova, Nova API, "
            "Placement or Cinder database (none of their tables are there)"
        )
    if expected_kind and kind != expected_kind:
        raise SchemaProblem(
            f"{session.label}: database {session.database!r} is a {KIND_LABELS[kind]} database, "
            f"not {KIND_LABELS[expected_kind]}"
        )
    alembic: tuple[str, ...] = ()
    if "alembic_version" in tables:
        alembic = tuple(
            sorted(r["version_num"] for r in session.query("SELECT version_num FROM alembic_version"))
        )
    migrate = None
    if "migrate_version" in tables:
        rows = session.query("SELECT version FROM migrate_version")
        migrate = int(rows[0]["version"]) if rows else None
    compute: tuple[int, ...] = ()
    if kind == "nova":
        compute = tuple(
            sorted(
                {
                    int(r["version"])
                    for r in session.query(
                        "SELECT DISTINCT version FROM services WHERE `binary` = 'nova-compute' "
                        "AND deleted = 0 AND version IS NOT NULL"
                    )
                }
            )
        )
    return Markers(kind, alembic, migrate, compute)


def match_release(markers: Markers, database: str = "") -> Detection:
    """Pure: which catalog releases fit these markers."""
    rels = catalog.releases()
    kind = markers.kind
    if not markers.alembic:
        if markers.migrate_version is not None:
            return Detection(
                kind,
                database,
                markers,
                (),
                "unsupported",
                f"sqlalchemy-migrate version {markers.migrate_version} only: a "
                "release before Xena, which the catalog does not cover",
            )
        return Detection(
            kind,
            database,
            markers,
            (),
            "unsupported",
            "no alembic_version row: the schema was never synced by the service",
        )
    candidates = tuple(r.name for r in rels if r.heads[kind] in markers.alembic)
    if not candidates:
        return Detection(
            kind,
            database,
            markers,
            (),
            "unsupported",
            f"alembic revision {', '.join(markers.alembic)} is not the head of "
            "any catalog release (mid-upgrade, or newer than the catalog)",
        )
    head = markers.alembic[0]
    if len(candidates) == 1:
        return Detection(
            kind,
            database,
            markers,
            candidates,
            "exact",
            f"alembic head {head} belongs to {candidates[0]} only",
        )
    if kind == "nova" and markers.compute_versions:
        newest = max(markers.compute_versions)
        by_version = {r.name: r.compute_service_version for r in rels if r.name in candidates}
        same = tuple(n for n in candidates if by_version[n] == newest)
        if len(same) == 1:
            return Detection(
                kind,
                database,
                markers,
                same,
                "narrowed",
                f"alembic head {head} (shared by {', '.join(candidates)}); newest "
                f"nova-compute service version {newest} is {same[0]}'s",
            )
        if same:
            return Detection(
                kind,
                database,
                markers,
                same,
                "ambiguous",
                f"alembic head {head} and compute service version {newest} are "
                f"shared by {', '.join(same)} (identical schema)",
            )
        newer = tuple(n for n in candidates if by_version[n] >= newest)
        return Detection(
            kind,
            database,
            markers,
            newer or candidates,
            "ambiguous",
            f"alembic head {head}; nova-compute service version {newest} matches no "
            f"release exactly (rolling upgrade?); schema shared by "
            f"{', '.join(newer or candidates)}",
        )
    why = (
        "no live nova-compute services to tell them apart"
        if kind == "nova"
        else "this database's schema did not change between them"
    )
    return Detection(
        kind,
        database,
        markers,
        candidates,
        "ambiguous",
        f"alembic head {head} is shared by {', '.join(candidates)} ({why}; their schemas are identical)",
    )


def detect(session: Session, expected_kind: str | None = None) -> Detection:
    return match_release(read_markers(session, expected_kind), session.database)


def combine(detections: list[Detection]) -> tuple[str, ...]:
    """Releases consistent with every database given (they must run one release)."""
    common: list[str] | None = None
    for d in detections:
        if not d.candidates:
            continue
        common = [c for c in (common if common is not None else d.candidates) if c in d.candidates]
    return tuple(common or ())
