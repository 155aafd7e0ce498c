"""The CI recipes' "Runners with Docker instead of a service" variant (docs/ci.md), run for real.

The GitLab job's script and the GitHub step run as written, with the database service dropped and
`FIXPACK_REHEARSE_BACKEND: docker`: `ci/check-bundles.sh` gates each changed bundle on
`fixpack rehearse --backend docker`, which starts its own container. The engine and image are the
suite's (tests/docker_engine.py: a private engine and an image built from the Debian mirror,
chosen with `FIXPACK_DOCKER_IMAGE`, the variable `fixpack rehearse --image` reads; users keep
the official image by default). Marked `docker`: in CI a missing engine fails the run.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.ci_world import ChangeRepo, edit, generate, junit, run_recipe
from tests.docker_engine import DockerEngine

pytestmark = pytest.mark.docker


def _containers(engine: DockerEngine) -> list[str]:
    env = None if engine.docker_host is None else {"DOCKER_HOST": engine.docker_host, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        ["docker", "ps", "-aq"], capture_output=True, text=True, timeout=30, check=True, env=env
    )
    return done.stdout.split()


def _why(out: str, err: str) -> str:
    """The lines that say why a bundle failed; pytest would cut them from the middle of `out`."""
    keep = ("check-bundles: bundles/", "FAIL", "ERROR", "error", "could not", "docker", "PASSED", "FAILED")
    said = [line for line in out.splitlines() if any(word in line for word in keep)]
    return "\n".join([*said, "-- stderr:", err.strip()[-1500:]])


def test_docker_backend_gates_each_bundle(docker_engine: DockerEngine, tmp_path: Path) -> None:
    """A good bundle passes its rehearsal in a container; one whose precheck cannot pass fails the job.
    The GitLab job (the shells' differences are covered by tests/db/ci/test_ci_recipes.py)."""
    made = tmp_path / "made"
    good_source, bad_source = generate(made, "purge"), generate(made, "soft-delete")
    repo = ChangeRepo(tmp_path / "changes")
    good = repo.add_bundle(good_source)
    bad = repo.add_bundle(bad_source)
    edit(bad, "sql/10-precheck-nova.sql", ") = 1", ") = 2", fix_manifest=True)  # verify and lint still pass
    repo.commit("two bundles, one whose precheck fails")
    before = _containers(docker_engine)
    variables = {"FIXPACK_REHEARSE_BACKEND": "docker", "FIXPACK_DOCKER_IMAGE": docker_engine.image}
    done = run_recipe("gitlab", repo, repo.base, None, variables)
    out = done.stdout
    why = _why(out, done.stderr)
    assert done.returncode == 1, why
    assert f"check-bundles: bundles/{good.name}: PASSED (verify, lint, rehearse)" in out, why
    failed = f"bundles/{bad.name}: FAILED: rehearse failed: FAILED at precheck: sql/10-precheck-nova.sql"
    assert failed in out, why
    assert f"2 bundle(s) checked: 1 passed, 1 failed (bundles/{bad.name})" in out, why
    assert "fixpack-scratch" not in out + done.stderr  # the container's password is never printed
    report = junit(repo)
    assert report[f"bundles/{good.name}"]["rollback restored identical tables"] == "passed"
    assert report[f"bundles/{bad.name}"]["sql/10-precheck-nova.sql"].startswith("failure: guard failed")
    rehearsal = (repo.root / "fixpack-report" / "bundles").glob("*/rehearse.out")
    said = "\n".join(p.read_text() for p in rehearsal)
    assert "docker" in said and docker_engine.image in said, said[-1500:]  # the container did the work
    assert _containers(docker_engine) == before  # every rehearsal's container is removed
