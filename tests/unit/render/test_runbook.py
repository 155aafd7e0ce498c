"""render/runbook.py: the bundle's README.md an operator follows."""

from __future__ import annotations

import re
from functools import cache

from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from generator.render.runbook import capture_command, render_runbook, runbook_steps
from generator.render.sql import render_sql
from tests.unit import world as w


def _render(plan, files=None):
    files = files if files is not None else render_sql(plan)[0]
    run = [f for f in files if f.phase != "rollback"]
    back = [f for f in files if f.phase == "rollback"]
    return render_runbook(plan, "20260102T030405Z-test", "2026-01-02T03:04:05Z", run, back)


def _live_plan(**instance):
    facts = w.vm(instance=w.instance_row(**instance), cell_rows={"instance_metadata": [w.metadata(1, "a")]})
    return plan_vm(facts, VmOptions(op="soft-delete"))


@cache
def _live():
    return _render(_live_plan())


@cache
def _offline():
    plan, files, _ = w.offline_vm_rendered("soft-delete")
    return _render(plan, list(files.values()))


def test_runbook_title_names_the_operation_and_target():
    assert _live().startswith(f"# fixpack bundle: soft-delete of vm {w.INSTANCE}\n")


def test_every_sql_step_runs_the_client_sandboxed_with_an_option_file():
    steps = runbook_steps(_live_plan(), render_sql(_live_plan())[0])
    sql = [s for s in steps if s.file.startswith("sql/")]
    assert sql and all(
        s.commands[0].startswith(
            "mysql --defaults-extra-file=~/fixpack-nova.cnf --loose-sandbox --batch < sql/"
        )
        for s in sql
    )


def test_runbook_lists_the_steps_in_file_order_then_the_rollback():
    text = _live()
    order = [
        text.index(p) for p in ("sql/10-precheck-nova.sql", "sql/20-apply-nova.sql", "sql/30-verify-nova.sql")
    ]
    assert order == sorted(order)
    assert "sql/90-rollback-nova.sql" in text


def test_a_hostile_display_name_reaches_the_runbook_escaped():
    text = _render(_live_plan(display_name="<img src=x onerror=alert(1)>*bold*"))
    assert "\\<img src=x onerror=alert(1)\\>\\*bold\\*" in text
    assert not re.search(r"(?<!\\)<img", text)


def test_the_database_table_shows_release_and_how_it_was_determined():
    assert "| `db:nova` | Nova cell database (cell1) |" in _live()
    assert "hand-built facts (tests/unit/world.py)" in _live()


def test_the_offline_runbook_says_rows_are_found_at_run_time_and_to_capture_first():
    text = _offline()
    assert "**Offline bundle.**" in text
    assert "run the `capture` step before the apply" in text


def test_the_capture_command_never_overwrites_an_existing_capture():
    cmd = capture_command("mysql --batch", "sql/15-capture-nova.sql", "captured/92-rollback-nova.sql")
    assert cmd.startswith("mkdir -p captured && { test ! -e captured/92-rollback-nova.sql ||")
    assert "mv captured/92-rollback-nova.sql.tmp captured/92-rollback-nova.sql" in cmd
    assert cmd.endswith("sha256sum captured/92-rollback-nova.sql > captured/92-rollback-nova.sql.sha256")


def test_an_offline_rollback_step_checks_the_captures_sha256_before_running_it():
    assert "sha256sum -c captured/92-rollback-nova.sql.sha256 && mysql" in _offline()


def test_the_live_runbook_states_the_bundle_holds_secrets():
    assert "**This bundle holds secrets.**" in _live()


def test_the_runbook_says_first_to_stand_in_the_bundle():
    text = _live()
    cd = text.index("```\ncd 20260102T030405Z-test\n```")
    assert cd < text.index("## 1. What was found") and cd < text.index("sql/10-precheck-nova.sql")


def test_no_sql_command_names_a_database_or_a_placeholder():
    """The option file names the database: an offline command is as complete as a live one."""
    for text in (_live(), _offline()):
        lines = [ln.strip() for ln in text.splitlines() if "--loose-sandbox --batch" in ln]
        assert lines and not [ln for ln in lines if "database>" in ln or "nova_cell1" in ln]
        assert all(re.search(r"--defaults-extra-file=~/fixpack-[a-z_]+\.cnf ", ln) for ln in lines)


def test_verify_runs_from_the_bundle_with_every_connection_file():
    text = _live()
    assert "fixpack verify .\nfixpack verify . --cnf nova=~/fixpack-nova.cnf" in text
    assert text.count("fixpack verify . --cnf nova=~/fixpack-nova.cnf\n") == 2  # before, and after the steps


def test_an_offline_purge_says_its_cell_file_stops_when_run_again():
    """Once purged, the instance row is gone: the cell apply's identity check stops a re-run."""
    plan, files, _ = w.offline_vm_rendered("purge")
    steps = runbook_steps(plan, list(files.values()))
    apply = {s.file: s.expect for s in steps if s.phase == "apply" and s.file.startswith("sql/")}
    nova = [e for f, e in apply.items() if f.endswith("-nova.sql")]
    assert nova and "the purge removed the instance row" in nova[0]
    assert all("every step finds 0 rows" in e for f, e in apply.items() if not f.endswith("-nova.sql"))
