"""The supported releases, as the maintainer declares them.

This is the only hand-written part of the catalog: which OpenStack releases
fixpack supports and which upstream package versions stand for each. Schema
heads, service versions and DDL are *not* written here; `fixpack-catalog
capture` reads them from those packages and stores them in `data/`.

To add a release: append a line below with the release's final (or newest
stable) nova, cinder and openstack-placement versions from PyPI and the
Python its packages run on, then run `python -m generator.capture
--release <name>` (see docs/catalog.md, "Adding the next release"). Pins its
packages need to install today go in `constraints/<name>.txt`, not here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReleaseSpec:
    name: str
    codename: str
    nova: str
    cinder: str
    placement: str
    python: str  # interpreter the release's own packages run on (for --mode db-sync)


RELEASES: tuple[ReleaseSpec, ...] = (
    ReleaseSpec("xena", "xena", "24.2.1", "19.3.0", "6.0.0", "3.9"),
    ReleaseSpec("yoga", "yoga", "25.3.0", "20.3.2", "7.0.0", "3.9"),
    ReleaseSpec("zed", "zed", "26.3.0", "21.3.2", "8.0.0", "3.10"),
    ReleaseSpec("2023.1", "antelope", "27.5.1", "22.3.0", "9.0.0", "3.10"),
    ReleaseSpec("2023.2", "bobcat", "28.3.1", "23.5.0", "10.0.0", "3.10"),
    ReleaseSpec("2024.1", "caracal", "29.4.0", "24.5.0", "11.0.0", "3.11"),
    ReleaseSpec("2024.2", "dalmatian", "30.3.0", "25.3.1", "12.0.0", "3.11"),
    ReleaseSpec("2025.1", "epoxy", "31.3.1", "26.3.0", "13.0.0", "3.11"),
    ReleaseSpec("2025.2", "flamingo", "32.2.1", "27.0.0", "14.0.0", "3.11"),
    ReleaseSpec("2026.1", "gazpacho", "33.0.2", "28.0.0", "15.0.0", "3.11"),
    ReleaseSpec("2026.2", "hibiscus", "34.0.0", "29.0.0", "16.0.0", "3.11"),
)

RELEASE_NAMES = tuple(r.name for r in RELEASES)


def release_spec(name: str) -> ReleaseSpec:
    """Look a release up by name or codename (case-insensitive)."""
    wanted = name.strip().lower()
    for spec in RELEASES:
        if wanted in (spec.name, spec.codename):
            return spec
    raise KeyError(name)
