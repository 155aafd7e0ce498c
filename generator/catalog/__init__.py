"""The bundled schema catalog: real DDL of every supported release, read offline.

`data/<release>/<db>.sql` holds each database exactly as the services' own
migrations create it on MariaDB; `data/index.json` holds what the capture
command read alongside (alembic heads, migrate_version, nova's compute service
version, schema fingerprints). Both are produced by `generator.capture`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

from generator.errors import SchemaProblem
from generator.schema.ddl import snapshot_from_ddl
from generator.schema.model import DATABASE_KINDS, SchemaSnapshot


@dataclass(frozen=True)
class CatalogRelease:
    name: str
    codename: str
    packages: dict
    heads: dict
    migrate_version: dict
    compute_service_version: int
    fingerprints: dict

    def label(self) -> str:
        return f"{self.name} ({self.codename})"


def _data():
    return resources.files("generator.catalog") / "data"


@functools.cache
def _index() -> dict:
    path = _data() / "index.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise SchemaProblem("the schema catalog is missing from this installation") from None


def releases() -> tuple[CatalogRelease, ...]:
    """Catalog releases, oldest first."""
    out = []
    for name, e in _index()["releases"].items():
        out.append(
            CatalogRelease(
                name=name,
                codename=e["codename"],
                packages=e["packages"],
                heads=e["heads"],
                migrate_version=e.get("migrate_version", {}),
                compute_service_version=e["compute_service_version"],
                fingerprints=e["fingerprints"],
            )
        )
    return tuple(out)


def release_names() -> tuple[str, ...]:
    return tuple(r.name for r in releases())


def get_release(name: str) -> CatalogRelease:
    wanted = (name or "").strip().lower()
    for rel in releases():
        if wanted in (rel.name, rel.codename):
            return rel
    raise SchemaProblem(f"unknown release {name!r}; the catalog has: {', '.join(release_names())}")


def catalog_ddl(release: str, kind: str) -> str:
    if kind not in DATABASE_KINDS:
        raise SchemaProblem(f"unknown database {kind!r}; expected one of {', '.join(DATABASE_KINDS)}")
    rel = get_release(release)
    return (_data() / rel.name / f"{kind}.sql").read_text()


@functools.cache
def catalog_snapshot(release: str, kind: str) -> SchemaSnapshot:
    """The schema of one database of one release, read offline from the catalog."""
    return snapshot_from_ddl(catalog_ddl(release, kind))
