"""Bundles proven on the older and newer database servers clouds run, not only on MariaDB 10.11.

Each server is a container of an image built from the Debian mirror (tools/docker-engine.sh: a
`debootstrap` of the suite plus that suite's own server package): MariaDB 10.5 (bullseye, the
Xena/Yoga era), MariaDB 11.8 (trixie) and MySQL 9.7 (sid; Debian serves no MySQL 8). Buster's
MariaDB 10.3 is gone from the mirror (only Debian's archive has it, unreachable here). Where the
machine's own engine answers, the official images of the same versions are used instead.

On each, one bundle per operation is executed for real, exactly as tests/db/plan/test_vm_bundles.py,
test_vm_offline.py, test_volume_bundles.py, test_volume_offline.py and test_quota.py do it on
the suite's own server: apply, postconditions, no other row changed, re-run no-op, rollback,
every table identical. Those tests run unchanged; only the server under `make_deployment` is the
container's. Marked `docker`: in CI a missing engine or image fails the run.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.scratch.provider import ProvidedServer, start_docker
from tests.db.plan import (
    test_quota,
    test_vm_bundles,
    test_vm_offline,
    test_volume_bundles,
    test_volume_offline,
)
from tests.docker_engine import DockerEngine, ensure_images, has_image


@dataclass(frozen=True)
class ServerVersion:
    image: str  # built here (tools/docker-engine.sh)
    official: str  # the same version from the registry, where the machine's own engine answers
    version: str  # what SELECT VERSION() starts with
    flavour: str  # "mariadb" | "mysql": VERSION() says MariaDB for one, not the other
    release: str  # the schema release of that era the bundles are generated for


VERSIONS = (
    ServerVersion("fixpack-test/mariadb:10.5", "mariadb:10.5", "10.5.", "mariadb", "xena"),
    ServerVersion("fixpack-test/mariadb:11.8", "mariadb:11.8", "11.8.", "mariadb", "2026.2"),
    ServerVersion("fixpack-test/mysql:9.7", "mysql:9.7", "9.7.", "mysql", "2025.1"),
)

# one per operation; live, and offline where the operation has an offline mode
CASES = (
    ("vm soft-delete", "live"),
    ("vm soft-delete", "offline"),
    ("vm purge", "live"),
    ("vm purge", "offline"),
    ("vm rehost", "live"),
    ("vm rehost", "offline"),
    ("volume reset-detached", "live"),
    ("volume reset-detached", "offline"),
    ("volume detach-from-nova", "live"),
    ("volume soft-delete", "live"),
    ("volume soft-delete", "offline"),
    ("volume purge", "live"),
    ("quota sync", "live"),
)

pytestmark = pytest.mark.docker


@dataclass(frozen=True)
class VersionedServer:
    spec: ServerVersion
    server: ProvidedServer


@pytest.fixture(scope="module", params=VERSIONS, ids=[v.image.split("/")[1] for v in VERSIONS])
def versioned(request: pytest.FixtureRequest, docker_engine: DockerEngine) -> Iterator[VersionedServer]:
    spec: ServerVersion = request.param
    if docker_engine.docker_host is not None:  # ours: load or build the image
        ensure_images(docker_engine, spec.image)
        image = spec.image
    else:  # the machine's own engine: the image built here if it has it, else the official one
        image = spec.image if has_image(spec.image) else spec.official
    server = start_docker(image)
    try:
        yield VersionedServer(spec, server)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def db_server(versioned: VersionedServer) -> ProvidedServer:
    """Overrides the suite's server for this module: `make_deployment` builds on the container's."""
    return versioned.server


def test_the_container_is_the_version_it_claims(versioned: VersionedServer, make_deployment) -> None:
    dep = make_deployment(versioned.spec.release)
    (row,) = dep.query("nova", "SELECT VERSION() AS v")
    version = row["v"]
    assert version.startswith(versioned.spec.version), version
    assert ("mariadb" in version.lower()) == (versioned.spec.flavour == "mariadb"), version


@pytest.mark.parametrize(("op", "mode"), CASES, ids=[f"{op}-{mode}".replace(" ", "-") for op, mode in CASES])
def test_bundle_runs_on_this_server(
    versioned: VersionedServer, make_deployment, tmp_path: Path, op: str, mode: str
) -> None:
    """Apply, postconditions, nothing else changed, re-run no-op, rollback, identical: the same
    proof as on the suite's own server (the called tests assert every step)."""
    release = versioned.spec.release
    kind, _, name = op.partition(" ")
    if kind == "vm" and mode == "live":
        test_vm_bundles.test_vm_bundle_apply_rerun_rollback(make_deployment, tmp_path, release, name)
    elif kind == "vm":
        test_vm_offline.test_offline_bundle_apply_rerun_rollback(make_deployment, tmp_path, release, name)
    elif kind == "volume" and mode == "live":
        test_volume_bundles.test_volume_bundle_apply_rerun_rollback(make_deployment, tmp_path, release, name)
    elif kind == "volume":
        test_volume_offline.test_offline_volume_bundle_apply_rerun_rollback(
            make_deployment, tmp_path, release, name
        )
    else:
        test_quota.test_quota_sync_one_project(make_deployment, tmp_path, release)


def test_runbook_client_line_works_with_this_era_s_client(
    versioned: VersionedServer, make_deployment, tmp_path: Path
) -> None:
    """The runbook's command (`mysql --defaults-extra-file=… --loose-sandbox --batch < FILE`),
    run with the client inside the container: 10.5.23's has no --sandbox, MySQL's never had it;
    `--loose-` must make them warn and carry on, and the precheck's guards must pass."""
    dep = make_deployment(versioned.spec.release)
    target = test_vm_bundles.seed_world(dep, op="soft-delete")
    result = test_vm_bundles.generate(dep, target.uuid, "soft-delete", tmp_path)
    readme = (result.path / "README.md").read_text()
    line = "mysql --defaults-extra-file=~/fixpack-nova.cnf --loose-sandbox --batch"
    assert line in readme
    container = versioned.server._handle.get_wrapped_container()
    url = versioned.server.url
    cnf = (
        f"[client]\nuser={url.user}\npassword={url.password}\nprotocol=TCP\nhost=127.0.0.1\nport=3306\n"
        f"[mysql]\ndatabase={dep.names['nova']}\n"
    )
    put = subprocess.run(
        ["docker", "exec", "-i", container.id, "sh", "-c", "cat > /tmp/fixpack-nova.cnf"],
        input=cnf, text=True, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert put.returncode == 0, put.stderr
    sql = (result.path / "sql" / "10-precheck-nova.sql").read_text()
    which = subprocess.run(
        ["docker", "exec", container.id, "sh", "-c", "command -v mysql || command -v mariadb"],
        text=True, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    client = which.stdout.strip()  # MariaDB 11's packages name it `mariadb` only (mysql: -compat)
    assert client, which.stderr
    argv = [client, *line.replace("~/fixpack-nova.cnf", "/tmp/fixpack-nova.cnf").split()[1:]]
    done = subprocess.run(
        ["docker", "exec", "-i", container.id, *argv],
        input=sql, text=True, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-1500:]
    assert "guard\tok" in done.stdout and "ERROR" not in done.stderr, done.stderr[-800:]
