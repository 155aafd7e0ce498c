"""A capture can never destroy a rollback: offline bundles run from their README's own command lines.

The runbook's commands are extracted from the generated README.md and run literally with bash,
from the bundle directory, with HOME set to a temporary directory holding the option file the
runbook names (`~/fixpack-<role>.cnf`: host, port, user, password of the test server under
[client], the deployment's database of that role under [mysql]: what the runbook asks the operator
to write). Nothing in a command line is changed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.cli import main as cli_main
from generator.connect.sources import ConnectionOptions, resolve
from generator.jobs_volume import generate_volume
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.plan.volume_common import VolumeOptions
from generator.scratch.deployment import Deployment
from tests.bundles import all_states, assert_identical
from tests.conftest import ALL_RELEASES
from tests.db.plan.test_vm_bundles import seed_world as seed_vm_world
from tests.volume_world import seed_world as seed_volume_world

pytestmark = pytest.mark.db

NO_DATABASE = resolve(ConnectionOptions(), env={})
RELEASES = (ALL_RELEASES[0], ALL_RELEASES[-1])  # the oldest and the newest
CASES = [("vm", op) for op in ("soft-delete", "purge", "rehost")] + [
    ("volume", op) for op in ("reset-detached", "soft-delete")
]
_STEP = re.compile(r"^### (?:Step \d+ \((?P<phase>[a-z-]+)\)|(?P<rollback>Rollback) \d+): `(?P<file>[^`]+)`")


@dataclass(frozen=True)
class Command:
    phase: str  # precheck | capture | apply | verify | rollback
    file: str
    line: str


def runbook_commands(readme: str) -> list[Command]:
    """Every command line of every SQL step's code block, in runbook order (shell scripts left out)."""
    out: list[Command] = []
    phase = file = None
    in_block = False
    for raw in readme.splitlines():
        line = raw.strip()
        found = _STEP.match(line)
        if found:
            phase = "rollback" if found["rollback"] else found["phase"]
            file = found["file"]
            continue
        if line.startswith("```"):
            in_block = not in_block
            continue
        if in_block and phase and file and file.endswith(".sql") and line:
            out.append(Command(phase, file, line))
    return out


@dataclass
class Operator:
    """Runs runbook lines the way an operator pastes them: bash, in the bundle directory."""

    dep: Deployment
    bundle: Path
    home: Path

    def __post_init__(self) -> None:
        url = self.dep.url("nova")
        self.home.mkdir(exist_ok=True)
        lines = ["[client]", f"user={url.user or 'root'}", f"host={url.host or '127.0.0.1'}", "protocol=TCP"]
        lines += [f"password={url.password}"] if url.password else []
        lines += [f"port={url.port}"] if url.port else []
        for role in ("nova_api", "nova", "placement", "cinder"):
            cnf = self.home / f"fixpack-{role}.cnf"
            cnf.write_text("\n".join([*lines, "[mysql]", f"database={self.dep.names[role]}"]) + "\n")
            cnf.chmod(0o600)

    def run(self, command: Command) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "-c", command.line],
            cwd=self.bundle,
            env={"HOME": str(self.home), "PATH": "/usr/local/bin:/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def run_phase(self, commands: list[Command], phase: str, *, ok: bool = True) -> list:
        results = []
        for c in commands:
            if c.phase != phase:
                continue
            done = self.run(c)
            results.append((c, done))
            if ok:
                assert done.returncode == 0, (
                    f"{c.line}\nexit {done.returncode}\n{done.stderr}\n{done.stdout[-600:]}"
                )
        return results


def _generate(dep: Deployment, kind: str, op: str, release: str, out: Path) -> Path:
    if kind == "vm":
        target = seed_vm_world(dep, op=op)
        node = dep.query("nova", "SELECT hypervisor_hostname FROM compute_nodes WHERE host = 'cmp-02'")[0]
        options = VmOptions(op=op, to_host="cmp-02", to_node=node["hypervisor_hostname"])
        return generate_vm(target.uuid, options, NO_DATABASE, release, OutputOptions(out_dir=out)).path
    sc = seed_volume_world(dep, op)
    options = VolumeOptions(op=op, **sc.options)
    return generate_volume(sc.volume.id, options, NO_DATABASE, release, OutputOptions(out_dir=out)).path


def _bundle(make_deployment, tmp_path: Path, kind: str, op: str, release: str):
    dep = make_deployment(release)
    path = _generate(dep, kind, op, release, tmp_path / "out")
    commands = runbook_commands((path / "README.md").read_text())
    assert {c.phase for c in commands} >= {"precheck", "capture", "apply", "rollback"}, commands
    return dep, path, commands, Operator(dep, path, tmp_path / "home")


def _captured(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((path / "captured").glob("*"))}


@pytest.mark.parametrize(("kind", "op"), CASES)
@pytest.mark.parametrize("release", RELEASES)
def test_captures_rerun_after_the_apply_never_lose_the_rollback(
    make_deployment, tmp_path, release: str, kind: str, op: str
) -> None:
    dep, path, commands, operator = _bundle(make_deployment, tmp_path, kind, op, release)
    before = all_states(dep)
    operator.run_phase(commands, "precheck")
    operator.run_phase(commands, "capture")
    first = _captured(path)
    operator.run_phase(commands, "apply")
    after = all_states(dep)
    for _ in range(2):  # the tired operator runs the captures again, twice
        reruns = operator.run_phase(commands, "capture", ok=False)
        for command, done in reruns:
            assert done.returncode != 0, f"a capture re-run after the apply succeeded: {command.line}"
            assert "refused" in done.stderr and "never overwritten" in done.stderr, done.stderr
        assert _captured(path) == first  # not one byte of any capture changed
    assert any(name.endswith(".sha256") for name in first) and not any(n.endswith(".tmp") for n in first)
    assert_identical(after, all_states(dep))
    # with the first captures out of the way, the target's own database refuses on its own
    moved = tmp_path / "kept"
    (path / "captured").rename(moved)
    reruns = operator.run_phase(commands, "capture", ok=False)
    refused = [done for _, done in reruns if done.returncode != 0]
    assert refused and all("capture refused: the apply has already run" in d.stderr for d in refused)
    for _, done in reruns:
        assert "nothing written" in done.stderr or done.returncode == 0
    shutil.rmtree(path / "captured")
    moved.rename(path / "captured")
    results = operator.run_phase(commands, "rollback")
    assert all(": OK" in done.stdout for _, done in results)  # sha256sum -c checked each file
    assert_identical(before, all_states(dep))
    again = operator.run_phase(commands, "rollback")  # a second rollback changes nothing and says so
    assert all("nothing to roll back" in done.stdout for _, done in again), [d.stdout for _, d in again]
    assert_identical(before, all_states(dep))


@pytest.mark.parametrize(("kind", "op"), [("vm", "soft-delete"), ("volume", "soft-delete")])
def test_rollback_before_the_apply_says_nothing_to_roll_back(make_deployment, tmp_path, kind, op) -> None:
    dep, _path, commands, operator = _bundle(make_deployment, tmp_path, kind, op, ALL_RELEASES[-1])
    before = all_states(dep)
    operator.run_phase(commands, "capture")
    results = operator.run_phase(commands, "rollback")
    for _, done in results:
        assert "nothing to roll back" in done.stdout and "every guard held" not in done.stdout, done.stdout
    assert_identical(before, all_states(dep))


def test_tampered_capture_is_refused_and_named(make_deployment, tmp_path, capsys) -> None:
    dep, path, commands, operator = _bundle(make_deployment, tmp_path, "vm", "soft-delete", ALL_RELEASES[-1])
    operator.run_phase(commands, "capture")
    operator.run_phase(commands, "apply")
    applied = all_states(dep)
    victim = path / "captured" / "92-rollback-nova.sql"
    victim.write_text(
        victim.read_text().replace(
            "START TRANSACTION;",
            "START TRANSACTION;\nUPDATE `instances` SET `host` = 'elsewhere' WHERE `id` = 1;",
            1,
        )
    )
    rollback = [c for c in commands if c.phase == "rollback" and c.file == "captured/92-rollback-nova.sql"]
    done = operator.run(rollback[0])
    assert done.returncode != 0 and "FAILED" in done.stdout + done.stderr
    assert_identical(applied, all_states(dep))  # nothing ran
    with pytest.raises(SystemExit) as exit_:
        cli_main(["verify", str(path)])
    out = capsys.readouterr().out
    assert exit_.value.code != 0 and "captured/92-rollback-nova.sql" in out and "MODIFIED" in out, out
    # `fixpack lint` holds a captured rollback to the rules of every SQL file: an unkeyed change is named
    victim.write_text(victim.read_text().replace("COMMIT;", "DELETE FROM `tags`;\nCOMMIT;", 1))
    with pytest.raises(SystemExit) as exit_:
        cli_main(["lint", str(path)])
    out = capsys.readouterr().out
    assert exit_.value.code != 0, out
    assert any(line.startswith("captured/92-rollback-nova.sql:") for line in out.splitlines()), out


def test_empty_capture_rollback_says_nothing_to_restore(make_deployment, tmp_path) -> None:
    """A database where the apply has nothing to do (the instance holds no allocations): its capture
    records no rows, and its rollback says so in words instead of claiming every guard held."""
    dep, path, commands, operator = _bundle(make_deployment, tmp_path, "vm", "soft-delete", ALL_RELEASES[-1])
    uuid = json.loads((path / "manifest.json").read_text())["target"]["ids"][0]
    dep.execute("placement", f"DELETE FROM allocations WHERE consumer_id = '{uuid}'")
    dep.execute("placement", f"DELETE FROM consumers WHERE uuid = '{uuid}'")
    before = all_states(dep)
    operator.run_phase(commands, "capture")
    operator.run_phase(commands, "apply")
    results = {c.file: done for c, done in operator.run_phase(commands, "rollback")}
    placement = results["captured/90-rollback-placement.sql"].stdout
    assert "nothing to restore: the capture found no rows" in placement
    assert "every guard held" not in placement and "rollback finished" not in placement
    assert "rollback finished: " in results["captured/92-rollback-nova.sql"].stdout
    assert_identical(before, all_states(dep))


def test_live_rollback_before_the_apply_says_nothing_to_roll_back(make_deployment, tmp_path) -> None:
    from tests.bundles import BundleRun, assert_all_ok
    from tests.db.plan.test_vm_bundles import generate

    dep = make_deployment(ALL_RELEASES[-1])
    target = seed_vm_world(dep, op="soft-delete")
    result = generate(dep, target.uuid, "soft-delete", tmp_path)
    assert result.lint.passed, [f.describe() for f in result.lint.findings]
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    runs = run.run("rollback")
    assert_all_ok(runs)
    for done in runs:
        assert done.last_line.startswith("nothing to roll back"), done.stdout[-400:]
    assert_identical(before, all_states(dep))
    assert_all_ok(run.run("apply"))
    runs = run.run("rollback")
    assert_all_ok(runs)
    assert all(done.last_line == "rollback finished: every guard held" for done in runs)
    assert_identical(before, all_states(dep))
