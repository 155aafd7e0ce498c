"""render/templates.py: the Jinja environment that lays out runbooks, scripts and SQL files."""

from __future__ import annotations

import jinja2
import pytest

from generator.render.templates import environment, render, templates_dir


def test_templates_are_found_next_to_the_package():
    root = templates_dir()
    assert (root / "shell" / "compute.sh.j2").is_file()
    assert (root / "runbook" / "README.md.j2").is_file()
    assert (root / "sql" / "_file.sql.j2").is_file()


def test_a_value_missing_from_the_context_fails_rendering_instead_of_printing_nothing():
    with pytest.raises(jinja2.UndefinedError):
        render("runbook/README.md.j2")


def test_the_environment_escapes_nothing_itself_values_arrive_quoted():
    env = environment()
    assert env.autoescape is False
    assert env.undefined is jinja2.StrictUndefined


def test_rendered_files_keep_their_trailing_newline():
    assert environment().from_string("x\n").render() == "x\n"


def test_session_setup_pins_utc_strict_mode_and_safe_updates():
    setup = render("sql/_session.sql.j2")
    assert "time_zone = '+00:00'" in setup
    assert "STRICT_TRANS_TABLES" in setup
    assert "sql_safe_updates = 1" in setup


def test_a_sql_template_lays_out_the_pieces_it_is_given_and_writes_no_sql_of_its_own():
    text = render(
        "sql/read_only.sql.j2",
        banner=["-- banner 1", "-- banner 2"],
        identity=["SELECT 'identity';"],
        begin_read_only="BEGIN RO;",
        checks=["-- check 1", "SELECT 1;", "SELECT 2;"],
        commit="END;",
        outcome="SELECT 'done';",
    )
    session = render("sql/_session.sql.j2")
    assert session.startswith("SET NAMES utf8mb4;\n") and session.endswith("REPEATABLE READ;\n")
    assert text == (
        "-- banner 1\n-- banner 2\n"
        + session
        + "\nSELECT 'identity';\nBEGIN RO;\n-- check 1\nSELECT 1;\nSELECT 2;\nEND;\nSELECT 'done';\n"
    )


def test_the_chunk_wrapper_puts_each_chunk_in_its_own_transaction():
    chunk = {"steps": [["-- step 1", "UPDATE 1;"]], "rows": 3, "evidence": [], "tally": ["SELECT 'tally';"]}
    text = render(
        "sql/changes.sql.j2",
        banner=[],
        identity=[],
        counters=["SET @c = 0;"],
        begin="BEGIN;",
        chunk_setup=["SET @now = 1;"],
        chunks=[chunk, {**chunk, "evidence": ["-- was it committed?", "SELECT 'evidence';"]}],
        commit="END;",
        outcome="SELECT 'done';",
    )
    body = text[len(render("sql/_session.sql.j2")) :]
    assert body == (
        "\nSET @c = 0;\n\n"
        "-- ==== chunk 1/2: 1 step(s), 3 row(s) ====\nBEGIN;\nSET @now = 1;\n\n"
        "-- step 1\nUPDATE 1;\n\nSELECT 'tally';\nEND;\n\n"
        "-- ==== chunk 2/2: 1 step(s), 3 row(s) ====\nBEGIN;\nSET @now = 1;\n\n"
        "-- was it committed?\nSELECT 'evidence';\n\n"
        "-- step 1\nUPDATE 1;\n\nSELECT 'tally';\nEND;\n\n"
        "SELECT 'done';\n"
    )
