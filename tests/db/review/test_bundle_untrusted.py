"""A bundle is data, never code: verify, lint and rehearse refuse client commands, links and outside paths.

The attacks are the red-team's (issue 8, problem 7): an apply file that gained
`\\! touch …` with its checksum updated in the manifest passed verify and
rehearse and ran the command; an executable comment in data/guards.json made
the server write a file; verify followed a symlinked file out of the bundle.
"""

# ruff: noqa: F401, F811  (pytest fixtures are imported by name and requested by parameter)

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from generator.cli import main
from generator.rehearse.client import run_sql_file
from generator.scratch.server import client_binary
from generator.sqlgen.sqltext import find_client_command
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical
from tests.db.plan.test_vm_bundles import generate, seed_world
from tests.review_fixtures import (
    REVIEW_RELEASES,
    copy_bundle,
    good_bundles,
    reseal,
    run_cli,
    soft_delete_bundle,
)

OFFLINE_UUID = "3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57"


def _offline_bundle(out: Path, capsys) -> Path:
    code, _, err = run_cli(
        ["vm", OFFLINE_UUID, "--op", "soft-delete", "--release", "2025.1", "-o", str(out)], capsys
    )
    assert code == 0, err
    return next(p for p in out.iterdir() if p.is_dir())


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# -- the scanner agrees with the real client ------------------------------------------------------
# (text, does the client run the `touch` in it?) — each run by the real client WITHOUT --sandbox
CLIENT_CASES = [
    ("\\! touch {m}\n", True),
    ("SELECT 1; \\! touch {m}\n", True),
    ("system touch {m}\n", True),
    ("SELECT 1--\\! touch {m}\n;\n", True),
    ("SELECT '\\! touch {m}';\n", False),
    ('SELECT "it\'s \\! touch {m}";\n', False),
    ("SELECT `\\! touch {m}` FROM DUAL;\n", False),
    ("SELECT x'5C21746F756368';  -- \\! touch {m}\n", False),
    ("SELECT 1; # \\! touch {m}\n", False),
    ("/* \\! touch {m} */ SELECT 1;\n", False),
    ("--\\! touch {m}\nSELECT 1;\n", False),
    ("SELECT 'a\n\\! touch {m}\n';\n", False),
]


@pytest.mark.db
@pytest.mark.parametrize(("template", "runs"), CLIENT_CASES)
def test_scanner_reads_files_as_the_client_does(template: str, runs: bool, db_server, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    text = template.format(m=marker)
    sql = tmp_path / "case.sql"
    sql.write_text(text)
    url = db_server.url
    cnf = tmp_path / "client.cnf"
    cnf.write_text(
        f"[client]\nuser={url.user or 'root'}\npassword={url.password or ''}\nhost={url.host}\n"
        f"port={url.port}\nprotocol=TCP\n"
    )
    with sql.open("rb") as stdin:  # no --sandbox: what an old client would do
        subprocess.run(
            [client_binary(), f"--defaults-extra-file={cnf}", "--batch"], stdin=stdin, capture_output=True
        )
    assert marker.exists() is runs, f"the client {'ran' if marker.exists() else 'did not run'} {text!r}"
    assert (find_client_command(text) is not None) is runs


def test_scanner_refuses_every_client_command_form() -> None:
    for text in (
        "use nova;",
        "  USE nova;\n",
        "/* c */ source /etc/x;",
        "SELECT 1;\ntee /tmp/x\n",
        "SELECT 1;\ndelimiter //\n",
        "SELECT 1 \\g",
        "\\. /tmp/x.sql",
        "\\T /tmp/out",
        "\\P less",
        "\\r other",
        "\\u other",
        "exit;",
        "SELECT 1 /*!50000 INTO OUTFILE '/tmp/x' */;",
        "SELECT 'a\\'; \\! touch x';",  # under NO_BACKSLASH_ESCAPES the string ends before \!
    ):
        assert find_client_command(text) is not None, text
    for text in ("SELECT \\N;", "SELECT _utf8mb4 x'5C21';", "UPDATE t SET s = 'use; \\\\! x' WHERE id = 1;"):
        assert find_client_command(text) is None, text


@pytest.mark.db
def test_client_runs_sandboxed(db_server, tmp_path: Path) -> None:
    """rehearse and the test harness: even a command that got through cannot reach the file system."""
    marker = tmp_path / "marker"
    sql = tmp_path / "x.sql"
    sql.write_text(f"SELECT 1;\n\\! touch {marker}\nSELECT 2;\n")
    run = run_sql_file(db_server.url, sql)
    assert not run.ok and "sandbox" in run.stderr
    assert not marker.exists()


# -- tampered bundles ---------------------------------------------------------------------------
@pytest.mark.db
def test_resealed_shell_escape_refused_by_verify_lint_rehearse(
    soft_delete_bundle: Path, db_server, tmp_path: Path, capsys
) -> None:
    manifest = json.loads((soft_delete_bundle / "manifest.json").read_text())
    rel = next(s["file"] for s in manifest["steps"] if s["phase"] == "apply" and s["kind"] == "sql")
    marker = tmp_path / "PWNED"
    path = soft_delete_bundle / rel
    lines = path.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("START TRANSACTION"))
    lines.insert(at + 1, f"\\! touch {marker}\n")
    path.write_text("".join(lines))
    reseal(soft_delete_bundle, rel)
    backend = "url:" + db_server.url.render(with_password=True)
    for argv in (
        ["verify", str(soft_delete_bundle)],
        ["lint", str(soft_delete_bundle)],
        ["rehearse", str(soft_delete_bundle), "--backend", backend],
    ):
        code, out, err = run_cli(argv, capsys)
        assert code != 0, (argv, out)
        line = _one_error_line(err)
        assert f"{rel}:{at + 2}: client command '\\!'" in line, line
        assert not marker.exists(), f"{argv[0]} ran the shell escape"


def test_client_command_in_a_captured_file_is_refused(tmp_path: Path, capsys) -> None:
    bundle = _offline_bundle(tmp_path / "out", capsys)
    manifest = json.loads((bundle / "manifest.json").read_text())
    produced = next(s["produces"] for s in manifest["steps"] if s.get("produces"))
    (bundle / produced).parent.mkdir(parents=True, exist_ok=True)
    (bundle / produced).write_text("START TRANSACTION;\nsource /tmp/other.sql\nCOMMIT;\n")
    code, _, err = run_cli(["verify", str(bundle)], capsys)
    assert code != 0
    assert f"{produced}:2: client command 'source'" in _one_error_line(err)


def test_symlinks_and_outside_paths_are_refused(tmp_path: Path, capsys) -> None:
    bundle = _offline_bundle(tmp_path / "out", capsys)
    # a link whose target has the very bytes the manifest expects: verify used to follow it (INTACT)
    outside = tmp_path / "outside-schema.json"
    outside.write_bytes((bundle / "data" / "schema.json").read_bytes())
    (bundle / "data" / "schema.json").unlink()
    (bundle / "data" / "schema.json").symlink_to(outside)
    for command in ("verify", "lint"):
        code, out, err = run_cli([command, str(bundle)], capsys)
        assert code != 0 and "INTACT" not in out
        assert "data/schema.json: is a symbolic link" in _one_error_line(err)
    (bundle / "data" / "schema.json").unlink()
    (bundle / "data" / "schema.json").write_bytes(outside.read_bytes())
    code, _, _ = run_cli(["verify", str(bundle)], capsys)
    assert code == 0

    (bundle / "captured").symlink_to(tmp_path, target_is_directory=True)  # a linked directory
    code, _, err = run_cli(["verify", str(bundle)], capsys)
    assert code != 0 and "captured: is a symbolic link" in _one_error_line(err)
    (bundle / "captured").unlink()

    manifest_path = bundle / "manifest.json"
    original = manifest_path.read_text()
    for bad in ("../../etc/passwd", "/etc/passwd", "sql/\x1b]0;x\x07.sql"):
        manifest = json.loads(original)
        manifest["steps"][0]["file"] = bad
        manifest_path.write_text(json.dumps(manifest))
        code, _, err = run_cli(["verify", str(bundle)], capsys)
        assert code != 0 and "outside the bundle" in _one_error_line(err)
        assert "\x1b" not in err


# -- data/guards.json is never executed ---------------------------------------------------------
@pytest.mark.db
def test_guards_json_is_never_executed(make_deployment, tmp_path: Path, capsys) -> None:
    dep = make_deployment("2025.1")
    target = seed_world(dep, op="soft-delete")
    result = generate(dep, target.uuid, "soft-delete", tmp_path / "out")
    bundle = result.path
    written = tmp_path / "server-wrote-this"
    guards_path = bundle / "data" / "guards.json"
    guards = json.loads(guards_path.read_text())
    nova = guards["databases"]["nova"]["apply"]
    nova[0]["pending_query"] += f" /*!50000 INTO OUTFILE '{written}' */"
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT-4711")
    nova[1]["pending_query"] = f"SELECT LOAD_FILE('{secret}')"
    nova[1]["scope_query"] = f"SELECT LOAD_FILE('{secret}')"
    guards_path.write_text(json.dumps(guards, indent=2) + "\n")
    reseal(bundle, "data/guards.json")

    urls = ["--nova-api-url", dep.url("nova_api").render(with_password=True)]
    urls += ["--placement-url", dep.url("placement").render(with_password=True)]
    urls += ["--cinder-url", dep.url("cinder").render(with_password=True)]  # the instance has volumes
    code, out, err = run_cli(["verify", str(bundle), *urls], capsys)
    assert not written.exists(), "the server wrote a file named in data/guards.json"
    assert "TOP-SECRET-CONTENT-4711" not in out + err
    assert code == 0 and "APPLIES" in out  # the guards come from the SQL files, which are untouched
    before = all_states(dep)
    assert_all_ok(BundleRun(dep, bundle).run("apply"))
    code, out, _ = run_cli(["verify", str(bundle), *urls], capsys)
    assert code == 0 and "ALREADY APPLIED" in out
    assert_all_ok(BundleRun(dep, bundle).run("rollback"))
    assert_identical(before, all_states(dep))


@pytest.mark.db
def test_guards_derived_from_sql_match_generation(good_bundles) -> None:
    """For every op and release reviewed: the guards read back from the SQL are the ones generated."""
    import sqlglot

    from generator.review.bundle import Bundle

    checked = 0
    for (_, op), path in sorted(good_bundles.items()):
        bundle = Bundle.open(path)
        if bundle.mode != "live":
            continue
        recorded = bundle.data("guards")["databases"]
        derived = bundle.guards
        assert set(derived) == set(recorded), op
        for role, entry in recorded.items():
            assert len(derived[role]) == len(entry["apply"]), (op, role)
            for want, got in zip(entry["apply"], derived[role], strict=True):
                for key in ("chunk", "step", "table", "check_only", "pending_expect", "scope_expect"):
                    assert got[key] == want[key], (op, role, want["step"], key)
                if not want["check_only"]:
                    assert got["done_expect"] == want["done_expect"]
                for key in ("pending_query", "done_query", "scope_query"):
                    if want[key] and (key != "done_query" or not want["check_only"]):
                        same = sqlglot.parse_one(got[key], read="mysql") == sqlglot.parse_one(
                            want[key], read="mysql"
                        )
                        assert same, (op, role, want["step"], key)
                checked += 1
    assert checked > 20


@pytest.mark.db
def test_runbook_commands_run_sandboxed_and_work(make_deployment, tmp_path: Path, capsys) -> None:
    """The runbook's printed command, run literally by bash: `--loose-sandbox` is accepted, the file runs."""
    dep = make_deployment("2025.1")
    target = seed_world(dep, op="soft-delete")
    code, _, err = run_cli(
        ["vm", target.uuid, "--op", "soft-delete", "--release", "2025.1", "-o", str(tmp_path / "out")], capsys
    )
    assert code == 0, err
    bundle = next((tmp_path / "out").iterdir())
    readme = (bundle / "README.md").read_text()
    command = next(line.strip() for line in readme.splitlines() if "< sql/10-precheck-nova.sql" in line)
    assert command.startswith("mysql --defaults-extra-file=~/fixpack-nova.cnf --loose-sandbox --batch ")
    url = dep.url("nova")
    cnf = tmp_path / "fixpack-nova.cnf"
    cnf.write_text(
        f"[client]\nuser={url.user}\npassword={url.password or ''}\nhost={url.host}\nport={url.port}\n"
        f"protocol=TCP\n[mysql]\ndatabase={url.database}\n"
    )
    literal = command.replace("~/fixpack-nova.cnf", str(cnf)).replace("mysql ", f"{client_binary()} ", 1)
    done = subprocess.run(["bash", "-c", literal], cwd=bundle, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "precheck passed" in done.stdout
    # a client without --sandbox: the loose- prefix turns the unknown option into a warning
    other = literal.replace("--loose-sandbox", "--loose-no-such-option-here")
    done = subprocess.run(["bash", "-c", other], cwd=bundle, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "unknown option" in done.stderr


def test_lint_rule_fx006_reports_client_commands() -> None:
    """Generation lints with the same reader: a bundle whose SQL holds a client command is not written."""
    from generator.lint import LintInput, lint_files

    text = "START TRANSACTION;\nSELECT 'ok \\! x';\n\\. /tmp/other.sql\nCOMMIT;\n"
    report = lint_files([LintInput("sql/20-apply-nova.sql", text, "sql", "nova")], {}, [], use_cache=False)
    found = [f for f in report.findings if f.code == "FX006"]
    assert [(f.file, f.line) for f in found] == [("sql/20-apply-nova.sql", 3)]
    assert not report.passed
