"""The unit layer: planners and renderers on hand-built facts, no database.

Nothing under tests/unit may start or reach a database server: the database fixtures
are overridden here to fail the test that asks for one, a test marked `db` fails at
setup, and every test runs with PyMySQL's connect refused (a planner or renderer that
tried to read a database would fail loudly instead of quietly starting one).
"""

from __future__ import annotations

import pymysql.connections
import pytest

NO_DATABASE = "tests/unit runs without a database; move this test to the database layer"


@pytest.fixture(scope="session")
def db_server():
    pytest.fail(f"db_server requested: {NO_DATABASE}")


@pytest.fixture
def make_deployment():
    pytest.fail(f"make_deployment requested: {NO_DATABASE}")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("db") is not None or item.get_closest_marker("docker") is not None:
        pytest.fail(f"{item.nodeid} is marked db/docker: {NO_DATABASE}")


@pytest.fixture(autouse=True)
def _no_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self, *args, **kwargs):
        raise AssertionError(f"a unit test opened a database connection: {NO_DATABASE}")

    monkeypatch.setattr(pymysql.connections.Connection, "connect", refuse)
