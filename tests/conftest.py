"""Test fixtures: a real MariaDB/MySQL server and fresh catalog-loaded databases.

The `db_server` fixture never skips: with no server reachable the database
tests fail, so a machine that cannot run them cannot pass CI by accident.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from generator.catalog import release_names, releases
from generator.scratch.deployment import Deployment, create_deployment
from generator.scratch.provider import ProvidedServer, provide

# the Docker engine fixture lives here so that every module shares the one session engine (a
# module importing it would get a session fixture of its own, started again)
from .docker_engine import docker_engine  # noqa: F401

ALL_RELEASES = release_names()


def _schema_sets() -> tuple[tuple[str, ...], ...]:
    """Releases grouped by identical schemas of all four databases (catalog fingerprints), oldest first."""
    groups: dict[tuple, list[str]] = {}
    for rel in releases():
        groups.setdefault(tuple(sorted(rel.fingerprints.items())), []).append(rel.name)
    return tuple(tuple(g) for g in groups.values())


SCHEMA_SETS = _schema_sets()
# one release per distinct schema set: the newest of each (tests/db/plan/test_offline_schema_sets.py
# shows the others render identical offline SQL)
SCHEMA_SET_RELEASES = tuple(group[-1] for group in SCHEMA_SETS)


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


# -- CI gate: the database tests must really run ---------------------------------------
_db_outcomes: dict[str, int] = {"passed": 0, "failed": 0, "skipped": 0}


_docker_not_run: dict[str, object] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `docker` need a Docker engine: the machine's own, else a private one that
    tests/docker_engine.py starts (root on Linux). With CI set they always run, so a missing
    engine FAILS the run. Only locally, where no engine can be had, they are deselected, not
    skipped, and the summary says plainly that they did not run and why."""
    from .realhost import deselect_unless_possible

    deselect_unless_possible(config, items)  # `realhost` tests: the same rule (tests/realhost.py)
    docker_items = [item for item in items if "docker" in item.keywords]
    if not docker_items:
        return
    from generator.scratch.provider import docker_engine_available

    from .docker_engine import can_provision

    ok, why = docker_engine_available()
    if ok or os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        return
    possible, reason = can_provision()
    if possible:
        return
    why = f"{why}; {reason}"
    config.hook.pytest_deselected(items=docker_items)
    items[:] = [item for item in items if "docker" not in item.keywords]
    _docker_not_run.update(count=len(docker_items), why=why)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-db",
        action="store_true",
        help="fail the run unless database tests ran and none was skipped",
    )


_DB_PROPERTY = ("fixpack_db_test", True)


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark what the gate counts by the `db` marker itself: a report's keywords also hold every
    folder of the test's path, and every module under tests/db/ would count, server or not."""
    if item.get_closest_marker("db") is not None:
        item.user_properties.append(_DB_PROPERTY)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _DB_PROPERTY not in report.user_properties:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _db_outcomes[report.outcome] = _db_outcomes.get(report.outcome, 0) + 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand its notes to the controller (sent after this hook)
        workeroutput["fixpack_not_run"] = _not_run_lines()
    # under pytest-xdist the controller receives every worker's reports: it alone judges the run
    if not session.config.getoption("--require-db") or workeroutput is not None:
        return
    ran = _db_outcomes["passed"] + _db_outcomes["failed"]
    problem = None
    if ran == 0:
        problem = "no database test ran"
    elif _db_outcomes["skipped"]:
        problem = f"{_db_outcomes['skipped']} database test(s) were skipped"
    if problem:
        session.config._fixpack_db_problem = problem  # type: ignore[attr-defined]
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _not_run_lines() -> list[str]:
    """What this process deselected and why (collection runs in each xdist worker)."""
    from .realhost import summary_lines

    lines = list(summary_lines())
    if _docker_not_run:
        lines.append(
            f"docker backend tests: {_docker_not_run['count']} NOT RUN (deselected): {_docker_not_run['why']}"
        )
    return lines


_worker_notes: list[str] = []  # the controller's copy of every worker's `_not_run_lines()`


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    for line in getattr(node, "workeroutput", {}).get("fixpack_not_run", ()):
        if line not in _worker_notes:
            _worker_notes.append(line)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    for line in _not_run_lines() + _worker_notes:
        terminalreporter.write_line(line)
    if config.getoption("--require-db"):
        line = (
            f"database tests: {_db_outcomes['passed']} passed, {_db_outcomes['failed']} failed, "
            f"{_db_outcomes['skipped']} skipped"
        )
        problem = getattr(config, "_fixpack_db_problem", None)
        terminalreporter.write_line(line + (f" — FAILING THE RUN: {problem}" if problem else ""))
