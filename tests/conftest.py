"""Test fixtures: a real MariaDB/MySQL server and fresh catalog-loaded databases.

The `db_server` fixture never skips: with no server reachable the database
tests fail, so a machine that cannot run them cannot pass CI by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from generator.catalog import release_names
from generator.scratch.deployment import Deployment, create_deployment
from generator.scratch.provider import ProvidedServer, provide

ALL_RELEASES = release_names()


@pytest.fixture(scope="session")
def db_server() -> Iterator[ProvidedServer]:
    try:
        server = provide("auto")
    except Exception as exc:  # a failure here must fail the suite, not skip it
        pytest.fail(f"no database server for the db tests: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def make_deployment(db_server: ProvidedServer) -> Iterator[Callable[[str], Deployment]]:
    """Factory: fresh, uniquely named databases of a catalog release; dropped afterwards."""
    made: list[Deployment] = []

    def make(release: str) -> Deployment:
        dep = create_deployment(db_server.url, release)
        made.append(dep)
        return dep

    yield make
    for dep in made:
        dep.drop()


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"fixpack catalog releases: {', '.join(ALL_RELEASES)}"]
