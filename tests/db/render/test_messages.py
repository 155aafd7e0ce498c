"""Messages that cannot be mistaken (issue 10): each misleading text, shown replaced by its new one.

Bundles are run with the real client on a real MariaDB; CLI texts are driven in-process.
"""

from __future__ import annotations

import pytest

from generator.cli import main
from generator.connect.sources import ConnectionOptions, resolve
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.render.messages import NOTHING_TO_ROLL_BACK
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical, run_offline
from tests.conftest import ALL_RELEASES
from tests.db.plan.test_vm_bundles import generate
from tests.db.plan.test_vm_bundles import seed_world as seed_vm_world

NO_DATABASE = resolve(ConnectionOptions(), env={})


@pytest.mark.db
def test_rollback_before_any_apply_says_it_was_not_applied_live_and_offline(
    make_deployment, tmp_path
) -> None:
    """Not `rollback finished: every guard held`: the same words from a live and an offline bundle."""
    assert NOTHING_TO_ROLL_BACK.startswith("nothing to roll back: this bundle has not been applied")
    release = ALL_RELEASES[-1]
    dep = make_deployment(release)
    target = seed_vm_world(dep, op="soft-delete")
    before = all_states(dep)

    live = BundleRun(dep, generate(dep, target.uuid, "soft-delete", tmp_path / "live").path)
    runs = live.run("rollback")
    assert_all_ok(runs)
    assert [r.last_line for r in runs] == [NOTHING_TO_ROLL_BACK] * len(runs)
    assert not any("every guard held" in r.stdout for r in runs)

    result = generate_vm(
        target.uuid,
        VmOptions(op="soft-delete"),
        NO_DATABASE,
        release,
        OutputOptions(out_dir=tmp_path / "off"),
    )
    offline = BundleRun(dep, result.path)
    assert_all_ok(run_offline(offline, "precheck"))  # the capture steps write the rollback files
    runs = offline.run("rollback")
    assert_all_ok(runs)
    captured_rows = [r for r in runs if "nothing to restore" not in r.stdout]
    assert captured_rows, "the capture found the instance's rows"
    assert all(r.last_line == NOTHING_TO_ROLL_BACK for r in captured_rows), [r.stdout[-300:] for r in runs]
    assert not any("every guard held" in r.stdout for r in runs)
    assert_identical(before, all_states(dep))


@pytest.mark.db
def test_verify_of_an_offline_bundle_tells_will_apply_partial_applied_drifted(
    make_deployment, tmp_path, capsys
) -> None:
    """Not `PASSED: APPLIES` whatever the rows: the offline bundle's own questions, asked now."""
    from generator.review.bundle import Bundle
    from generator.review.verify import verify_bundle
    from tests.bundles import targets_for

    release = ALL_RELEASES[-1]
    dep = make_deployment(release)
    target = seed_vm_world(dep, op="soft-delete")
    result = generate_vm(
        target.uuid, VmOptions(op="soft-delete"), NO_DATABASE, release, OutputOptions(out_dir=tmp_path)
    )
    bundle, targets = Bundle.open(result.path), targets_for(dep)

    def verdict() -> tuple[str, bool, list]:
        report = verify_bundle(bundle, targets)
        assert report.live is not None and all(d.problem is None for d in report.live), report.as_dict()
        return report.verdict, report.passed, [d.offline for d in report.live]

    text, passed, states = verdict()
    assert text.startswith("WILL APPLY") and passed, (text, states)
    assert "APPLIES: every guard holds" not in text
    run = BundleRun(dep, result.path)
    assert_all_ok(run_offline(run, "precheck"))
    first = next(s for s in run.manifest["steps"] if s["phase"] == "apply" and s["kind"] == "sql")
    from generator.rehearse.client import run_sql_file

    assert run_sql_file(run.url_for(first["target"]), run.path / first["file"]).ok  # the cell file only
    text, passed, states = verdict()
    assert text.startswith("PARTIALLY APPLIED") and passed, (text, states)
    assert_all_ok(run_offline(run, "apply"))
    text, passed, states = verdict()
    assert text.startswith("ALREADY APPLIED") and passed, (text, states)
    urls = [f"--{role.replace('_', '-')}-url={dep.url(role).render(with_password=True)}" for role in
            ("nova_api", "placement")]  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", str(result.path), *urls])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0, out
    assert "offline state: applied" in out and out.splitlines()[-1].startswith("PASSED: ALREADY APPLIED")
    assert_all_ok(run.run("rollback"))
    assert verdict()[0].startswith("WILL APPLY")
    # a precondition that fails now (the instance looks healthy again): the apply would stop
    dep.execute(
        "nova",
        "UPDATE instances SET vm_state = 'active', power_state = 1, task_state = NULL WHERE uuid = %s",
        (target.uuid,),
    )
    text, passed, states = verdict()
    assert text.startswith("DRIFTED") and not passed, (text, states)
    assert any("not a healthy running server" in f for s in states for f in s.failed), states


@pytest.mark.parametrize(("kind", "op"), [("vm", "soft-delete"), ("volume", "reset-detached")])
def test_runbook_explains_every_error_a_file_can_stop_with(tmp_path, kind: str, op: str) -> None:
    """A second rollback's ERROR 1062/1242 (and every other stop) is explained, not 'investigate'."""
    from markdown_it import MarkdownIt

    from generator.jobs_volume import generate_volume
    from generator.plan.volume_common import VolumeOptions

    uuid = "6b8e0c86-1c4f-4b7e-9a6c-0000000000aa"
    out = OutputOptions(out_dir=tmp_path)
    if kind == "vm":
        result = generate_vm(uuid, VmOptions(op=op), NO_DATABASE, "2024.1", out)
    else:
        result = generate_volume(uuid, VolumeOptions(op=op), NO_DATABASE, "2024.1", out)
    readme = (result.path / "README.md").read_text()
    section = readme.split("## 6. If a SQL file stops with an error", 1)[1].split("\n## ", 1)[0]
    tokens = MarkdownIt().enable("table").parse(section)
    rows: list[list[str]] = []
    for i, t in enumerate(tokens):
        if t.type == "tr_open":
            rows.append([])
        elif t.type == "inline" and tokens[i - 1].type in ("td_open", "th_open"):
            rows[-1].append(t.content)
    assert rows[0] == ["error", "files", "what it means", "what to do"]
    body = {r[0]: r for r in rows[1:]}
    assert all(len(r) == 4 and all(r) for r in body.values())
    for code in ("1242", "1062", "1205", "1451", "1146", "1045", "1290", "2013", "1064"):
        assert any(code in key for key in body), code
    duplicate = next(r for k, r in body.items() if "1062" in k)
    assert "already run" in duplicate[2] and "nothing changed" in duplicate[2]
    assert "investigate" not in readme
    assert f"`{NOTHING_TO_ROLL_BACK}`" in readme


# -- the command line's smaller texts ---------------------------------------------------------
def run_cli(capsys, argv: list[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def test_exit_codes_are_documented_in_help_and_readme(capsys) -> None:
    from pathlib import Path

    from generator import errors as exitcodes

    code, out, _ = run_cli(capsys, ["--help"])
    assert code == exitcodes.OK
    for number, meaning in exitcodes.MEANINGS.items():
        assert f"{number:<3} {meaning}" in " ".join(out.split()) or f"{number} {meaning}" in " ".join(
            out.split()
        )
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    assert exitcodes.markdown_table() in readme
    assert (exitcodes.FINDINGS, exitcodes.USAGE, exitcodes.CONNECTION) == (1, 2, 3)
    assert (exitcodes.SCHEMA, exitcodes.REFUSED, exitcodes.LINT) == (4, 5, 6)


@pytest.mark.parametrize("group", [[], ["schema"], ["quota"]])
def test_command_lists_are_not_truncated(capsys, group: list[str]) -> None:
    _, out, _ = run_cli(capsys, [*group, "--help"])
    commands = out.split("Commands:", 1)[1].split("Exit codes:", 1)[0]
    assert "..." not in commands, commands


@pytest.mark.parametrize(
    ("argv", "shown", "not_shown"),
    [
        (["quota", "sync"], ["--cinder-url", "--cinder-conf", "--defaults-file"],
         ["--nova-api-url", "--nova-url", "--nova-conf", "--placement-url", "--placement-conf", "--cell"]),
        (["volume"], ["--cinder-url", "--nova-api-url", "--nova-url", "--nova-conf", "--cell"],
         ["--placement-url", "--placement-conf"]),
        (["vm"], ["--nova-api-url", "--placement-url", "--cinder-url", "--cell"], []),
        (["allocation"], ["--placement-url", "--placement-conf", "--nova-api-url", "--nova-conf", "--cell"],
         ["--cinder-url", "--cinder-conf"]),
        (["mapping"], ["--nova-api-url", "--nova-conf", "--cell", "--allow-instance-exists"],
         ["--placement-url", "--placement-conf", "--cinder-url", "--cinder-conf", "--allow-live-consumer"]),
    ],
)  # fmt: skip
def test_each_help_shows_only_the_connections_it_uses(capsys, argv, shown, not_shown) -> None:
    _, out, _ = run_cli(capsys, [*argv, "--help"])
    assert all(o in out for o in shown), out
    assert not any(o in out for o in not_shown), out


def test_nova_conf_without_database_sections_names_them(capsys, tmp_path) -> None:
    conf = tmp_path / "nova.conf"
    conf.write_text("[DEFAULT]\ndebug = true\n[api_database]\nmax_pool_size = 5\n")
    code, _, err = run_cli(capsys, ["vm", "6b8e0c86-1c4f-4b7e-9a6c-0000000000bb", "--op", "soft-delete",
                                    "--nova-conf", str(conf), "-o", str(tmp_path)])  # fmt: skip
    assert code == 3 and err.count("\n") == 1, err
    assert "no database given" not in err
    assert "no database connection: [database] is missing; [api_database] has no `connection` option" in err


def test_offline_summary_says_no_database_was_given_and_counts_rows(capsys, tmp_path) -> None:
    from generator.cli.common import plural

    code, out, _ = run_cli(capsys, ["volume", "6b8e0c86-1c4f-4b7e-9a6c-0000000000cc", "--op", "soft-delete",
                                    "--release", "2024.1", "-o", str(tmp_path)])  # fmt: skip
    assert code == 0
    assert "(no database was given)" in out and "reachable" not in out
    assert (plural(1, "row"), plural(0, "row"), plural(20, "row")) == ("1 row", "0 rows", "20 rows")


def test_compute_script_names_are_short_and_not_doubled() -> None:
    from generator.render.shell import script_name

    assert script_name("compute-1.example.org") == "compute-1.sh"
    assert script_name("cmp-01") == "compute-cmp-01.sh"
    assert script_name("nova-hv7.dc2.example.org") == "compute-nova-hv7.sh"
    assert script_name("compute") == "compute-compute.sh"  # never the offline script's `compute.sh`
    # two hosts of one bundle with the same first label keep their full names
    hosts = ["compute-1.dc1.example.org", "compute-1.dc2.example.org"]
    assert [script_name(h, hosts) for h in hosts] == [
        "compute-1.dc1.example.org.sh",
        "compute-1.dc2.example.org.sh",
    ]


def test_rehearse_output_does_not_mention_test_internals() -> None:
    from generator.rehearse.runner import SHELL_SKIPPED

    assert "stand-in" not in SHELL_SKIPPED and "suite" not in SHELL_SKIPPED
    assert SHELL_SKIPPED.startswith("not run:")


@pytest.mark.db
def test_live_texts_never_ago_and_every_cell(make_deployment, capsys, tmp_path) -> None:
    """`never reported` (not `last reported never ago`); `schema detect --nova-conf` lists every cell."""
    from generator.errors import TargetProblem
    from generator.seed import Seeder
    from tests.bundles import targets_for

    dep = make_deployment(ALL_RELEASES[-1])
    s = Seeder(dep, seed=41)
    healthy = s.instance(host=s.compute_host("cmp-01"))
    volume = s.volume()
    s.flush()
    dep.execute("nova", "UPDATE services SET updated_at = NULL WHERE host = 'cmp-01'")
    with pytest.raises(TargetProblem) as err:
        generate_vm(
            healthy.uuid, VmOptions(op="soft-delete"), targets_for(dep), "auto", OutputOptions(tmp_path)
        )
    assert "nova-compute on cmp-01 never reported" in str(err.value)
    assert "never ago" not in str(err.value)

    conf = tmp_path / "nova.conf"
    conf.write_text(
        f"[api_database]\nconnection = {dep.url('nova_api').render(with_password=True)}\n"
        f"[database]\nconnection = {dep.url('nova').render(with_password=True)}\n"
    )
    code, out, err = run_cli(capsys, ["schema", "detect", "--nova-conf", str(conf)])
    assert code == 0, err
    by_api_url = run_cli(
        capsys, ["schema", "detect", "--nova-api-url", dep.url("nova_api").render(with_password=True)]
    )
    databases = {
        line.split(" database ", 1)[1].split(" ")[0] for line in out.splitlines() if " database '" in line
    }
    api_databases = {
        line.split(" database ", 1)[1].split(" ")[0]
        for line in by_api_url[1].splitlines()
        if " database '" in line
    }
    assert databases == api_databases and len(databases) >= 3, (out, by_api_url[1])  # nova_api, cell0, cell1

    # "(1 row)", never "(1 rows)": the summary of a real bundle, its apply step narrowed to one row
    import dataclasses

    from generator.cli.common import print_result
    from generator.jobs_volume import generate_quota_sync

    bump = "UPDATE quota_usages SET in_use = in_use + 1 WHERE project_id = %s AND resource = 'volumes'"
    dep.execute("cinder", bump, (volume.project_id,))
    result = generate_quota_sync([volume.project_id], targets_for(dep), "auto", OutputOptions(tmp_path / "q"))
    capsys.readouterr()
    print_result(result)
    assert "(1 rows)" not in capsys.readouterr().out
    steps = [dict(step, rows=1) if step["phase"] == "apply" else step for step in result.manifest["steps"]]
    print_result(dataclasses.replace(result, manifest={**result.manifest, "steps": steps}))
    out = capsys.readouterr().out
    assert " (1 row) — " in out and "(1 rows)" not in out, out
