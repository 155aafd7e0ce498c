"""render/templates.py: the Jinja environment that lays out runbooks and scripts."""

from __future__ import annotations

import jinja2
import pytest

from generator.render.templates import environment, render, templates_dir


def test_templates_are_found_next_to_the_package():
    root = templates_dir()
    assert (root / "shell" / "compute.sh.j2").is_file()
    assert (root / "runbook" / "README.md.j2").is_file()


def test_a_value_missing_from_the_context_fails_rendering_instead_of_printing_nothing():
    with pytest.raises(jinja2.UndefinedError):
        render("runbook/README.md.j2")


def test_the_environment_escapes_nothing_itself_values_arrive_quoted():
    env = environment()
    assert env.autoescape is False
    assert env.undefined is jinja2.StrictUndefined


def test_rendered_files_keep_their_trailing_newline():
    assert environment().from_string("x\n").render() == "x\n"
