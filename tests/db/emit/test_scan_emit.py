"""`fixpack scan --emit DIR` on a seeded cloud of every distinct schema set (so of every catalog
release): every finding is placed (bundle, controller.sh, choice, refused, no command), the emitted
SQL bundles run as their runbooks say and a second scan no longer reports what they repaired; a
batch with findings its repair refuses lists them and still bundles the others; controller.sh
passes bash -n and shellcheck and, run against stub API clients, passes each hostile value as
exactly one argument. The services' own API code runs the controller where CI builds their venvs
(2026.2); elsewhere the controller's dry run is checked."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from generator.emit import emit, exit_code
from generator.rehearse.tables import diff_states
from generator.scan import suggest
from generator.scan.model import Finding, ScanReport
from generator.scratch.deployment import create_deployment
from tests import api_standins
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical, targets_for
from tests.conftest import SCHEMA_SET_RELEASES
from tests.db.scan.test_scan import url_args
from tests.differential import diff_release
from tests.hostile import ATTACHMENT_ID, headings, rename_attachment
from tests.review_fixtures import run_cli
from tests.scan_world import OLD, build_scan_world, clone_row
from tests.terminal import run_on_terminal

pytestmark = pytest.mark.db

RELEASES = SCHEMA_SET_RELEASES  # issue 12: the round trip holds for every release of the catalog
HOSTILE_SNAPSHOT = "snap\n$(touch INJECTED)`id`"  # control character: no command line possible
HOSTILE_PROVIDER = "rp-'\"$(touch INJECTED)`id`;#"  # quotes: one shell word all the same
# Where each check's planted finding goes (bdm-without-volume and volume-stuck: see the test).
WHERE = {
    "volume-attached-to-deleted-instance": "controller",
    "instance-stuck": "controller",
    "allocation-orphaned": "bundle",
    "instance-without-mapping": "controller",
    "provider-without-compute-node": "controller",
    "mapping-without-instance": "bundle",
    "build-request-stale": "bundle",
    "instance-on-missing-host": "choice",
    "cinder-quota-drift": "bundle",
}


@pytest.fixture(scope="module", params=RELEASES)
def world(request, db_server):
    dep = create_deployment(db_server.url, request.param)
    try:
        planted = build_scan_world(dep)
        expected = set(planted.expected)
        # a hostile attachment id on the attachment of the deleted instance
        (old_att,) = [u for c, u in expected if c == "volume-attached-to-deleted-instance"]
        rename_attachment(dep, old_att, ATTACHMENT_ID)
        expected = (expected - {("volume-attached-to-deleted-instance", old_att)}) | {
            ("volume-attached-to-deleted-instance", ATTACHMENT_ID)
        }
        # a hostile provider uuid on the provider of the removed host
        (old_rp,) = [u for c, u in expected if c == "provider-without-compute-node"]
        dep.execute(
            "placement", "UPDATE resource_providers SET uuid = %s WHERE uuid = %s", (HOSTILE_PROVIDER, old_rp)
        )
        expected = (expected - {("provider-without-compute-node", old_rp)}) | {
            ("provider-without-compute-node", HOSTILE_PROVIDER)
        }
        # a stuck snapshot whose id no command line can carry
        (stuck_snap,) = [
            r["id"]
            for r in dep.query("cinder", "SELECT id FROM snapshots WHERE status = 'creating' AND deleted = 0")
        ]
        clone_row(dep, "cinder", "snapshots", "id = %s", (stuck_snap,), {"id": HOSTILE_SNAPSHOT})
        expected.add(("volume-stuck", HOSTILE_SNAPSHOT))
        snap_project = dep.query("cinder", "SELECT project_id FROM snapshots WHERE id = %s", (stuck_snap,))
        expected.add(("cinder-quota-drift", snap_project[0]["project_id"]))  # one snapshot more
        # two more bdm-without-volume cases, of stopped instances: their repair is not refused
        taken = {u for _c, u in expected} | set(planted.lookalikes.values())
        rows = dep.query(
            "nova",
            "SELECT b.volume_id, i.uuid FROM block_device_mapping AS b JOIN instances AS i "
            "ON i.uuid = b.instance_uuid WHERE b.deleted = 0 AND b.source_type = 'volume' "
            "AND i.deleted = 0 AND i.vm_state = 'active' AND i.task_state IS NULL ORDER BY b.id",
        )
        extra = [r for r in rows if r["volume_id"] not in taken and r["uuid"] not in taken][:2]
        assert len(extra) == 2
        for r in extra:
            dep.execute("nova", "UPDATE instances SET vm_state = 'stopped', power_state = 4 WHERE uuid = %s",
                        (r["uuid"],))  # fmt: skip
            dep.execute("cinder", "UPDATE volumes SET deleted = 1, deleted_at = %s, status = 'deleted', "
                        "attach_status = 'detached' WHERE id = %s", (OLD, r["volume_id"]))  # fmt: skip
            dep.execute("cinder", "UPDATE volume_attachment SET deleted = 1, deleted_at = %s, "
                        "attach_status = 'detached' WHERE volume_id = %s", (OLD, r["volume_id"]))  # fmt: skip
            expected.add(("bdm-without-volume", r["volume_id"]))
            # Cinder's usage still counts the volume: its project drifts too (quota sync repairs it)
            project = dep.query("cinder", "SELECT project_id FROM volumes WHERE id = %s", (r["volume_id"],))
            expected.add(("cinder-quota-drift", project[0]["project_id"]))
        yield dep, expected, {r["volume_id"] for r in extra}, planted.lookalikes
    finally:
        dep.drop()


@pytest.fixture(scope="module")
def emitted(world, tmp_path_factory):
    """The scan with --emit, the emitted directory, and the rows before anything was applied."""
    dep, _expected, _stopped, _lookalikes = world
    out = tmp_path_factory.mktemp("emit") / "repairs"
    code, stdout, stderr = _run(
        ["scan", "--format", "json", "--older-than", "2h", *url_args(dep), "--emit", str(out)]
    )
    return code, json.loads(stdout), stderr, out


def _run(argv: list[str]) -> tuple[int, str, str]:
    """The CLI in a subprocess (a module fixture has no capsys for run_cli)."""
    proc = subprocess.run(
        [sys.executable, "-m", "generator", *argv], capture_output=True, text=True, timeout=900, check=False
    )
    return proc.returncode, proc.stdout, proc.stderr


def _index(out: Path) -> dict[tuple[str, str], dict]:
    data = json.loads((out / "index.json").read_text())
    placed = {}
    for f in data["findings"]:
        key = (f["check"], f["uuid"])
        assert key not in placed, f"listed twice: {key}"
        placed[key] = f["emitted"]
    return placed


def test_every_finding_is_placed(world, emitted):
    _dep, expected, stopped, _lookalikes = world
    code, report, stderr, out = emitted
    assert {(f["check"], f["uuid"]) for f in report["findings"]} == expected
    assert code == 5, stderr  # the active instance's bdm-without-volume: refused (--allow-active-user)
    assert stderr.count("\n") == 1 and stderr.startswith("emitted: ") and "1 refused" in stderr
    placed = _index(out)
    assert set(placed) == expected
    for (check, uuid), where in placed.items():
        if check == "bdm-without-volume":
            if uuid in stopped:
                assert where["where"] == "bundle" and where["detail"].startswith("volume-detach-from-nova/")
            else:
                assert where["where"] == "refused" and "--allow-active-user" in where["detail"], where
        elif check == "volume-stuck":
            assert where["where"] == ("no-command" if uuid == HOSTILE_SNAPSHOT else "controller"), uuid
        else:
            assert where["where"] == WHERE[check], (check, where)
    # one batch bundle for the two volumes (one cell), one quota bundle, one allocation delete, one
    # mapping delete for the stale build request and the mapping without instance together
    bundles = {w["detail"] for w in placed.values() if w["where"] == "bundle"}
    assert len(bundles) == 4, bundles
    kinds = {
        "volume-detach-from-nova": stopped,
        "allocation-delete": {u for (c, u) in expected if c == "allocation-orphaned"},
        "mapping-delete": {
            u for (c, u) in expected if c in ("mapping-without-instance", "build-request-stale")
        },
    }
    for kind, ids in kinds.items():
        (bundle,) = [b for b in bundles if b.startswith(f"{kind}/")]
        manifest = json.loads((out / bundle / "manifest.json").read_text())
        assert sorted(manifest["target"]["ids"]) == sorted(ids), kind
        assert manifest["options"]["stale_after"] == "2h"  # the scan's --older-than, passed to the repair
    readme = (out / "README.md").read_text()
    assert "--stale-after 2h" in readme
    (alternative,) = [
        f["details"]["alternative"] for f in report["findings"] if f["check"] == "allocation-orphaned"
    ]
    assert f"(or the API: `{alternative}`)" in readme  # Placement's own delete, beside the bundle
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "allocation-delete", "controller.sh", "index.json", "mapping-delete", "quota-sync",
        "volume-detach-from-nova",
    ]  # fmt: skip
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")], "temporary directory left"


def test_applied_bundles_leave_nothing_for_a_second_scan(world, emitted, mixed):
    """(`mixed` is generated before this test changes the rows.)"""
    dep, expected, _stopped, _lookalikes = world
    _code, _report, _stderr, out = emitted
    placed = _index(out)
    before = all_states(dep)
    for rel in sorted({w["detail"] for w in placed.values() if w["where"] == "bundle"}):
        run = BundleRun(dep, out / rel)
        for phase in ("precheck", "apply", "verify"):
            assert_all_ok(run.run(phase))
    after = all_states(dep)
    changed = {(role, table) for role in before for table in diff_states(before[role], after[role])}
    assert changed == {
        ("nova", "block_device_mapping"), ("cinder", "quota_usages"),
        ("placement", "allocations"), ("placement", "consumers"), ("placement", "resource_providers"),
        ("nova_api", "instance_mappings"), ("nova_api", "build_requests"),
    }  # fmt: skip
    code, stdout, _err = _run(["scan", "--format", "json", *url_args(dep)])
    again = {(f["check"], f["uuid"]) for f in json.loads(stdout)["findings"]}
    repaired = {k for k, w in placed.items() if w["where"] == "bundle"}
    assert {c for c, _u in repaired} == {
        "bdm-without-volume", "cinder-quota-drift", "allocation-orphaned", "mapping-without-instance",
        "build-request-stale",
    }  # fmt: skip
    assert again == expected - repaired and code == 1


@pytest.fixture(scope="module")
def mixed(world, tmp_path_factory):
    """`emit` of findings some of which their repair refuses (read before anything is applied): the
    scan's orphans, and look-alikes presented as findings: Zun's and Blazar's consumers (foreign
    consumers) and a build in flight (a recent transition)."""
    dep, expected, _stopped, lookalikes = world
    orphans = {"allocation-orphaned", "mapping-without-instance", "build-request-stale"}
    real = sorted((c, u) for c, u in expected if c in orphans)
    fake = {  # (check, uuid) -> the protection its repair names
        ("allocation-orphaned", lookalikes["zun"]): "--allow-foreign-consumer",
        ("allocation-orphaned", lookalikes["blazar"]): "--allow-foreign-consumer",
        ("mapping-without-instance", lookalikes["build in flight"]): "--allow-recent-transition",
    }
    findings = tuple(
        Finding(
            c,
            u,
            "test",
            {},
            suggest.fixpack("allocation" if c == "allocation-orphaned" else "mapping", u, "delete"),
        )
        for c, u in [*real, *fake]
    )
    out = tmp_path_factory.mktemp("mixed") / "repairs"
    result = emit(ScanReport(findings, {}, {}), targets_for(dep), out, stale_after=dt.timedelta(hours=2))
    return result, {u for _c, u in real}, {u: flag for (_c, u), flag in fake.items()}


def test_refused_findings_are_listed_and_the_rest_bundled(mixed):
    result, real, fake = mixed
    where = {p.finding.uuid: p for p in result.placements}
    assert {u for u, p in where.items() if p.where == "refused"} == set(fake)
    assert {u for u, p in where.items() if p.where == "bundle"} == real
    for uuid, flag in fake.items():
        assert uuid in where[uuid].detail and flag in where[uuid].detail, where[uuid]
    # one bundle per kind, holding exactly the findings that were not refused
    bundles = sorted({p.detail for p in result.placements if p.where == "bundle"})
    assert [b.split("/")[0] for b in bundles] == ["allocation-delete", "mapping-delete"]
    for bundle in bundles:
        manifest = json.loads((result.path / bundle / "manifest.json").read_text())
        covered = sorted(u for u, p in where.items() if p.detail == bundle)
        assert sorted(manifest["target"]["ids"]) == covered and manifest["options"]["stale_after"] == "2h"
    assert exit_code(1, result) == 5
    assert (result.path / "README.md").read_text().count("**refused**") == len(fake)


def test_controller_script(world, emitted, tmp_path):
    _dep, _expected, _stopped, _lookalikes = world
    _code, report, _stderr, out = emitted
    script = out / "controller.sh"
    assert script.stat().st_mode & 0o777 == 0o700
    subprocess.run(["bash", "-n", str(script)], check=True)
    shellcheck = Path(sys.prefix) / "bin" / "shellcheck"
    lint = subprocess.run([str(shellcheck), "--shell=bash", "--severity=style", str(script)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert lint.returncode == 0, lint.stdout
    # stub API clients record their arguments, NUL-separated, one record per call
    stubs = tmp_path / "bin"
    stubs.mkdir()
    log = tmp_path / "calls"
    for name in ("cinder", "openstack", "nova-manage"):
        stub = stubs / name
        stub.write_text(
            f'#!/bin/bash\n{{ printf "%s\\0" {name} "$@"; printf "\\n"; }} >> {shlex.quote(str(log))}\n'
        )
        stub.chmod(0o755)
    work = tmp_path / "cwd"
    work.mkdir()
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "HOME": str(tmp_path)}
    dry = subprocess.run(["bash", str(script)], cwd=work, env=env, capture_output=True, text=True, check=True)
    assert not log.exists() and dry.stdout.rstrip().endswith("run again with --execute")
    done = subprocess.run(
        ["bash", str(script), "--execute"], cwd=work, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert list(work.iterdir()) == [], "a value ran as a command"
    calls = [record.split("\0") for record in log.read_text().split("\0\n") if record]
    placed = _index(out)
    wanted = list(dict.fromkeys(w["detail"] for w in placed.values() if w["where"] == "controller"))
    assert calls == [shlex.split(cmd) for cmd in wanted]
    flat = [arg for call in calls for arg in call]
    assert ATTACHMENT_ID in flat and HOSTILE_PROVIDER in flat
    assert len(report["findings"]) > len(wanted)


def test_readme_lists_every_finding_inertly(world, emitted):
    _dep, expected, _stopped, _lookalikes = world
    _code, _report, _stderr, out = emitted
    readme = (out / "README.md").read_text()
    assert headings(readme) == ["fixpack scan --emit", "What to run", "Every finding", "Choices"]
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    assert len(rows) == len(expected)
    assert "INJECTED" in readme and "snap\\x0a" in readme  # shown escaped, on its table row
    assert all(line.count(" | ") >= 2 for line in rows)
    assert "refusing to detach-from-nova" in readme
    (host_line,) = [line for line in readme.splitlines() if "host `" in line]
    assert "cmp-`id`-$(touch /tmp/pwn)\\x1b[31m\\x0ared" in host_line  # the hostile host, escaped


def test_scan_and_emit_on_a_terminal_show_their_progress(make_deployment, tmp_path):
    """Piped, the emit prints one line (test_every_finding_is_placed); on a terminal the scan's bar
    names each check and the emit's bar each repair kind it builds."""
    dep = make_deployment(SCHEMA_SET_RELEASES[-1])
    build_scan_world(dep)
    argv = [sys.executable, "-m", "generator", "scan", "--format", "json", "--older-than", "2h"]
    code, stdout, shown = run_on_terminal([*argv, *url_args(dep), "--emit", str(tmp_path / "repairs")])
    assert code in (1, 5), shown
    assert b"scanning" in shown and b"volume-stuck" in shown
    kinds = {p.name for p in (tmp_path / "repairs").iterdir() if p.is_dir()}
    assert kinds and b"emitting" in shown
    assert all(kind.encode() in shown for kind in kinds), (kinds, shown[-2000:])
    assert json.loads(stdout)["findings"]  # stdout is the report alone


def test_emit_dir_must_be_new_or_empty(tmp_path, capsys):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "x").write_text("")
    argv = ["scan", "--nova-api-url", "mysql+pymysql://u@h/d", "--emit", str(tmp_path / "old")]
    code, out, err = run_cli(argv, capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "not an empty directory" in err


def test_failed_build_leaves_nothing(world, tmp_path, capsys, monkeypatch):
    from generator.emit import routes

    dep, _expected, _stopped, _lookalikes = world

    def broken(findings, ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(routes.REPAIRS, "instance-stuck", routes.Repair("broken", broken))
    with pytest.raises(RuntimeError):
        run_cli(["scan", *url_args(dep), "--check", "instance-stuck", "--emit", str(tmp_path / "r")], capsys)
    assert list(tmp_path.iterdir()) == []


# -- the API side: controller.sh run by the services' own code, the choice and the refusal --------
# (after the tests above: these change the rows; the bundles were applied by the second-scan test)
def test_controller_script_run_by_the_services_own_code(world, emitted, tmp_path):
    """controller.sh --execute with `openstack`, `cinder` and `nova-manage` that run the release's
    own Nova, Cinder and Placement code on the twin (tests/api_standins.py says which function
    each command mirrors); a second scan no longer reports what they repaired."""
    dep, _expected, _stopped, _lookalikes = world
    _code, _report, _stderr, out = emitted
    placed = _index(out)
    wanted = list(dict.fromkeys(w["detail"] for w in placed.values() if w["where"] == "controller"))
    work = tmp_path / "cwd"
    work.mkdir()
    if dep.release != diff_release():
        # the services' venvs are built for one release (FIXPACK_DIFF_RELEASE) only: here the dry
        # run lists every emitted command, runs none (no client on PATH) and changes nothing
        before = all_states(dep)
        dry = subprocess.run(["bash", str(out / "controller.sh")], cwd=work,
                             env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                             capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert dry.returncode == 0, dry.stdout + dry.stderr
        listed = [shlex.split(line.removeprefix("would run: ")) for line in dry.stdout.splitlines()
                  if line.startswith("would run: ")]  # fmt: skip
        assert wanted and listed == [shlex.split(cmd) for cmd in wanted], dry.stdout
        assert "dry run: nothing was changed" in dry.stdout
        assert_identical(before, all_states(dep))
        assert list(work.iterdir()) == []
        return
    log = tmp_path / "calls"
    bindir = api_standins.install(dep, tmp_path, log)
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(["bash", str(out / "controller.sh"), "--execute"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + "\n".join(
        line for line in done.stderr.splitlines() if not line.startswith(" ")
    )
    calls = [record.split("\0") for record in log.read_text().split("\0\n") if record]
    assert calls == [shlex.split(cmd) for cmd in wanted] and list(work.iterdir()) == []
    for other in ("openstack server set --state paused x", "nova-manage cell_v2 list_cells",
                  "cinder reset-state --state available --attach-status attached x"):  # fmt: skip
        wrong = subprocess.run(other.split(), env=env, capture_output=True, text=True, check=False)
        assert wrong.returncode == 9 and "unsupported" in wrong.stderr.splitlines()[-1], wrong.stderr
    code, stdout, _err = _run(["scan", "--format", "json", *url_args(dep)])
    again = {(f["check"], f["uuid"]) for f in json.loads(stdout)["findings"]}
    assert not again & {k for k, w in placed.items() if w["where"] == "controller"}, again
    assert code == 1  # the choice, the refused finding and the snapshot no command can carry: next test


def test_choice_and_refusal_cleared_by_their_named_commands(world, emitted, tmp_path):
    """The choice (rehost to a live host, the finding's own command with HOST replaced) and the
    refused finding (its refusal line's override) generate bundles that, run as their runbooks say,
    clear them; what stays is the snapshot whose id no command line can carry (and, for a release
    whose services' venvs are not built, the controller's findings)."""
    dep, _expected, _stopped, _lookalikes = world
    _code, report, _stderr, out = emitted
    placed = _index(out)
    (choice,) = [f for f in report["findings"] if placed[(f["check"], f["uuid"])]["where"] == "choice"]
    words = ["cmp-01" if w == "HOST" else w for w in shlex.split(choice["suggested"])]
    assert words[:2] == ["fixpack", "vm"] and "cmp-01" in words
    assert "--allow-healthy-instance" in words  # it looks running: the rehost carries the flag
    (refused,) = [k for k, w in placed.items() if w["where"] == "refused"]
    line = placed[refused]["detail"]
    assert "--allow-active-user" in line
    (bdm,) = [f for f in report["findings"] if (f["check"], f["uuid"]) == refused]
    instance = bdm["details"]["instance_uuid"]
    override = ["volume", refused[1], "--op", "detach-from-nova", "--instance", instance,
                "--stale-after", "2h", "--allow-active-user"]  # fmt: skip
    # the planted host name has control characters: the rehost's runbook names the old host, so it
    # refuses (no command line can carry it); a plain missing host is the same finding, rehosted
    code, _out, stderr = _run([*words[1:], *url_args(dep), "--out", str(tmp_path / "hostile")])
    assert code == 5 and "on a command line" in stderr and stderr.count("\n") == 1, stderr
    dep.execute("nova", "UPDATE instances SET host = 'cmp-gone' WHERE uuid = %s", (choice["uuid"],))
    code, stdout, _err = _run(
        ["scan", "--format", "json", "--check", "instance-on-missing-host", *url_args(dep)]
    )
    assert [(f["uuid"], f["suggested"]) for f in json.loads(stdout)["findings"]] == [
        (choice["uuid"], choice["suggested"])
    ]
    rehost = [*words[1:], *url_args(dep)]
    for n, argv in enumerate((rehost, [*override, *url_args(dep, ("nova_api", "cinder"))])):
        dest = tmp_path / f"b{n}"
        code, stdout, stderr = _run([*argv, "--out", str(dest)])
        assert code == 0, stderr
        (bundle,) = list(dest.iterdir())
        run = BundleRun(dep, bundle)
        # the SQL steps on the twin; the rehost's shell step (controller.sh: ports and volume
        # attachments, Neutron's and Cinder's side) is run against stand-ins by
        # tests/db/render/test_rehost_scripts.py
        assert {s["kind"] for s in run.manifest["steps"]} <= {"sql", "shell"}, run.manifest["steps"]
        for phase in ("precheck", "apply", "verify"):
            assert_all_ok(run.run(phase))
    code, stdout, _err = _run(["scan", "--format", "json", *url_args(dep)])
    again = {(f["check"], f["uuid"]) for f in json.loads(stdout)["findings"]}
    stays = {("volume-stuck", HOSTILE_SNAPSHOT)}
    if dep.release != diff_release():
        stays |= {k for k, w in placed.items() if w["where"] == "controller"}
    assert again == stays and code == 1
