"""render/runbook_errors.py: every error a bundle's SQL can stop with, its meaning and what to do."""

from __future__ import annotations

import pytest

from generator.render.runbook_errors import known_errors


@pytest.mark.parametrize("offline", [False, True])
def test_every_error_has_a_meaning_and_an_action_and_fits_a_table_cell(offline: bool):
    errors = known_errors(offline)
    codes = " ".join(e.error for e in errors)
    for code in (
        "1242",
        "1062",
        "1205",
        "1213",
        "1451",
        "1452",
        "1146",
        "1054",
        "1045",
        "1290",
        "2006",
        "2013",
    ):
        assert code in codes, code
    for e in errors:
        assert e.files and e.means and e.action
        assert all("|" not in cell and "\n" not in cell for cell in (e.error, e.files, e.means, e.action))
        assert "investigate" not in e.action


def test_a_second_rollback_is_explained_for_each_mode():
    live = next(e for e in known_errors(False) if "1062" in e.error)
    offline = next(e for e in known_errors(True) if "1062" in e.error)
    assert "recreated" in live.means and "nothing to roll back" in live.means
    assert "already run" in offline.means and "nothing changed" in offline.means
