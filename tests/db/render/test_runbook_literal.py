"""A generated README works literally: every SQL-client and `fixpack` command of its code blocks, as printed.

For each operation, live and offline where the operation has an offline form, a bundle is generated
against a seeded scratch deployment; a temporary HOME gets the option files the runbook names
(`~/fixpack-<role>.cnf`: host, port, user and password of the scratch server under [client], the
role's database under [mysql]); the README's fenced code blocks are parsed and every line that runs
`mysql`, `mariadb` or `fixpack` is run with bash, in README order, from the directory the README's
`cd` line names (the bundle), with nothing substituted. API-first commands and host scripts
(`bash shell/…`) have their own tests.

What the runbook promises is asserted: each command exits 0 and prints its expected last line; the
prechecks and captures change nothing; after the steps the apply files run again change nothing;
`fixpack verify . --cnf …` says APPLIES / WILL APPLY before and ALREADY APPLIED after; the rollback
restores every table of every database identical to before (full table dumps).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from generator.connect.sources import ConnectionOptions, resolve
from generator.jobs_batch import generate_vm_batch
from generator.jobs_volume import generate_quota_sync, generate_volume
from generator.pipeline import BundleResult, OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.plan.volume_common import VolumeOptions
from generator.render.messages import NOTHING_TO_ROLL_BACK
from generator.scratch.deployment import Deployment
from generator.scratch.server import client_binary
from generator.seed import Seeder
from tests.bundles import all_states, assert_identical, targets_for
from tests.conftest import SCHEMA_SET_RELEASES
from tests.db.plan.test_quota import seed_drifted_usage
from tests.db.plan.test_vm_bundles import seed_world as seed_vm_world
from tests.volume_world import seed_world as seed_volume_world

pytestmark = pytest.mark.db

RELEASE = SCHEMA_SET_RELEASES[-1]  # one schema set per op: the other sets are proven by the op's own tests
NO_DATABASE = resolve(ConnectionOptions(), env={})
ROLES = ("nova_api", "nova", "placement", "cinder")  # the runbook's role names = the deployment's
_MD = MarkdownIt("commonmark").enable("table")
SQL_CLIENTS = {"mysql", "mariadb"}
REHEARSE = "fixpack rehearse . --backend local"
# `fixpack rehearse` takes 5-20 s (its own scratch server; tests/db/rehearse/test_rehearse*.py prove it
# per op): its line, the same in every README (asserted), runs in these cases only
REHEARSED = {"vm-soft-delete-live"}


# -- bundles ---------------------------------------------------------------------------------------------
def _vm(op: str, mode: str, dep: Deployment, out: Path) -> BundleResult:
    target = seed_vm_world(dep, op=op)
    options = {"to_host": "cmp-02"} if op == "rehost" else {}
    if op == "rehost" and mode == "offline":
        node = dep.query("nova", "SELECT hypervisor_hostname FROM compute_nodes WHERE host = 'cmp-02'")[0]
        options["to_node"] = node["hypervisor_hostname"]
    targets, release = (targets_for(dep), "auto") if mode == "live" else (NO_DATABASE, dep.release)
    return generate_vm(target.uuid, VmOptions(op=op, **options), targets, release, OutputOptions(out_dir=out))


def _volume(op: str, mode: str, dep: Deployment, out: Path) -> BundleResult:
    sc = seed_volume_world(dep, op)
    targets, release = (targets_for(dep), "auto") if mode == "live" else (NO_DATABASE, dep.release)
    options = VolumeOptions(op=op, **sc.options)
    return generate_volume(sc.volume.id, options, targets, release, OutputOptions(out_dir=out))


def _quota(op: str, mode: str, dep: Deployment, out: Path) -> BundleResult:
    wrong, _, _ = seed_drifted_usage(dep)
    return generate_quota_sync([wrong], targets_for(dep), "auto", OutputOptions(out_dir=out))


def _batch(op: str, mode: str, dep: Deployment, out: Path) -> BundleResult:
    s = Seeder(dep, seed=21)
    hosts = [s.compute_host(f"cmp-{i:02d}") for i in range(1, 3)]
    for i in range(4):
        s.instance(host=hosts[i % 2])
    stuck = [s.instance(host=hosts[i % 2], vm_state="error", power_state=4, volumes=i % 2) for i in range(3)]
    s.flush()
    targets, release = (targets_for(dep), "auto") if mode == "live" else (NO_DATABASE, dep.release)
    output = OutputOptions(out_dir=out, chunk_rows=40)
    results = generate_vm_batch([t.uuid for t in stuck], VmOptions(op=op), targets, release, output)
    assert len(results) == 1
    return results[0]


@dataclass(frozen=True)
class Case:
    kind: str
    op: str
    mode: str

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.op}-{self.mode}"


BUILDERS: dict[str, Callable[[str, str, Deployment, Path], BundleResult]] = {
    "vm": _vm,
    "volume": _volume,
    "quota": _quota,
    "batch": _batch,
}
CASES = [
    *(Case("vm", op, mode) for op in ("soft-delete", "purge", "rehost") for mode in ("live", "offline")),
    *(Case("volume", op, "live") for op in ("reset-detached", "detach-from-nova", "soft-delete", "purge")),
    *(Case("volume", op, "offline") for op in ("reset-detached", "soft-delete")),  # the others are live-only
    Case("quota", "sync", "live"),  # quota sync recounts live rows: no offline form
    *(Case("batch", "soft-delete", mode) for mode in ("live", "offline")),
]


# -- the README -------------------------------------------------------------------------------------------
def code_lines(readme: str) -> list[str]:
    """Every line of every fenced code block, in order (list-item indentation removed by the parser)."""
    out = []
    for token in _MD.parse(readme):
        if token.type == "fence":
            out += [line.strip() for line in token.content.splitlines() if line.strip()]
    return out


def runs_a_tested_program(line: str) -> bool:
    """A SQL-client or fixpack command: a shell word that is `mysql`, `mariadb` or `fixpack` (a
    capture line starts with `mkdir`, a captured rollback with `sha256sum -c … &&`)."""
    words = shlex.split(line, comments=True)
    return bool(words) and words[0] != "bash" and bool(set(words) & (SQL_CLIENTS | {"fixpack"}))


def write_option_files(home: Path, dep: Deployment) -> None:
    """What the runbook's connection-files section asks for: one file per database role."""
    home.mkdir(parents=True, exist_ok=True)
    for role in ROLES:
        url = dep.url(role)
        lines = [
            "[client]",
            f"host = {url.host or '127.0.0.1'}",
            f"user = {url.user or 'root'}",
            "protocol = TCP",
        ]
        lines += [f"port = {url.port}"] if url.port else []
        lines += [f"password = {url.password}"] if url.password else []
        lines += ["", "[mysql]", f"database = {dep.names[role]}"]
        path = home / f"fixpack-{role}.cnf"
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)


def tool_path(tmp: Path) -> str:
    """PATH with this environment's `fixpack` first and a `mysql` (the runbook's client name) present."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    client = client_binary()
    assert client, "no mysql/mariadb client installed"
    (bin_dir / "mysql").symlink_to(client)
    return os.pathsep.join(
        [str(Path(sys.executable).parent), str(bin_dir), os.environ.get("PATH", "/usr/bin")]
    )


@dataclass
class Runner:
    parent: Path  # where the operator stands before the README's `cd`
    cd: str  # the README's `cd` line, as printed
    env: dict[str, str]

    def __call__(self, line: str) -> subprocess.CompletedProcess:
        t = time.monotonic()
        try:
            return self._run(line)
        finally:
            print(f"  {time.monotonic() - t:5.1f}s {line[:90]}")

    def _run(self, line: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "-c", f"{self.cd} && {line}"],
            cwd=self.parent,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def ok(run: subprocess.CompletedProcess, line: str, expect: str | None = None) -> None:
    assert run.returncode == 0, f"{line}\nexit {run.returncode}\n{run.stderr[-1500:]}\n{run.stdout[-1500:]}"
    if expect is not None:
        assert expect in run.stdout, f"{line}: expected {expect!r} in its output\n{run.stdout[-1500:]}"


def phase_of(line: str, phases: dict[str, str]) -> str:
    """The manifest phase of the SQL file a client line reads (`< sql/20-apply-nova.sql`)."""
    words = shlex.split(line)
    source = words[words.index("<") + 1]
    return phases.get(source) or phases[source.replace("captured/", "sql/", 1)]


SQL_EXPECT = {  # the last line each phase's runbook Expect names
    "precheck": "precheck passed",
    "apply": "apply finished",
    "verify": "verify passed",
    "rollback": "rollback finished",
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_readme_commands_run_as_printed(make_deployment, tmp_path: Path, case: Case) -> None:
    started = time.monotonic()
    dep = make_deployment(RELEASE)
    result = BUILDERS[case.kind](case.op, case.mode, dep, tmp_path / "out")
    bundle = result.path
    print(f"generated in {time.monotonic() - started:.1f}s")
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["mode"] == case.mode
    readme = (bundle / "README.md").read_text()
    lines = code_lines(readme)

    # where to stand: the first code line is `cd` into the bundle, relative to where it was written
    assert lines[0] == f"cd {bundle.name}", lines[0]
    commands = [line for line in lines[1:] if runs_a_tested_program(line)]
    assert not [c for c in commands if "<" in shlex.split(c) and "~/fixpack-" not in c], (
        "SQL without its file"
    )
    home = tmp_path / "home"
    write_option_files(home, dep)
    run = Runner(
        bundle.parent, lines[0], {"PATH": tool_path(tmp_path), "HOME": str(home), "LC_ALL": "C.UTF-8"}
    )
    phases = {st["file"]: ("capture" if st.get("produces") else st["phase"]) for st in manifest["steps"]}
    phases |= {st["produces"]: "rollback" for st in manifest["steps"] if st.get("produces")}

    before = all_states(dep)
    verifies = [c for c in commands if c.startswith("fixpack verify . --cnf")]
    assert len(verifies) == 2, verifies  # before the window, and after the steps
    assert commands[:3] == ["fixpack verify .", verifies[0], REHEARSE], commands[:3]
    applies: list[str] = []
    rollbacks: list[str] = []
    seen = set()
    checked_after = False
    for line in commands:
        words = shlex.split(line)
        if line == verifies[1] and line in seen:  # the verify after the steps: first the promised re-run
            after = all_states(dep)
            for apply in applies:
                rerun = run(apply)
                if case.id == "vm-purge-offline" and "fixpack-nova.cnf" in apply:
                    # the runbook: the instance row is gone, the cell file's first check stops the re-run
                    assert rerun.returncode != 0 and "ERROR 1242" in rerun.stderr, rerun.stderr
                    assert "and changes nothing: the purge removed the instance row" in readme
                else:
                    ok(rerun, apply)
            assert_identical(after, all_states(dep))
            done = run(line)
            ok(done, line, "ALREADY APPLIED")
            checked_after = True
            continue
        seen.add(line)
        if line == REHEARSE and case.id not in REHEARSED:
            continue
        out = run(line)
        if words[0] == "fixpack":
            if line.startswith("fixpack verify . --cnf"):
                ok(out, line, "WILL APPLY" if case.mode == "offline" else "APPLIES")
            elif line == "fixpack verify .":
                ok(out, line, "INTACT")
            else:
                ok(out, line, "PASSED:")
            assert_identical(before, all_states(dep))
            continue
        phase = phase_of(line, phases)
        if phase == "capture":
            ok(out, line)
            produced = [
                st["produces"] for st in manifest["steps"] if st["file"] in line and st.get("produces")
            ]
            assert (
                produced and (bundle / produced[0]).is_file() and (bundle / f"{produced[0]}.sha256").is_file()
            )
        else:
            ok(out, line, SQL_EXPECT[phase])
        if phase in ("precheck", "capture"):
            assert_identical(before, all_states(dep))
        applies += [line] if phase == "apply" else []
        rollbacks += [line] if phase == "rollback" else []
    assert applies and rollbacks and checked_after
    assert_identical(before, all_states(dep))  # the rollback restored every table of every database

    # a second rollback changes nothing; live files say so in the runbook's words
    for line in rollbacks:
        again = run(line)
        if case.mode == "live":
            ok(again, line, NOTHING_TO_ROLL_BACK)
    assert_identical(before, all_states(dep))
    print(f"{case.id}: {len(commands)} commands, {time.monotonic() - started:.1f}s")
