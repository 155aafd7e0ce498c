"""render/messages.py: the words a rollback ends with when nothing was applied, live and offline alike."""

from __future__ import annotations

from generator.render.messages import NOTHING_TO_ROLL_BACK


def test_nothing_to_roll_back_cannot_be_read_as_success():
    assert NOTHING_TO_ROLL_BACK.startswith("nothing to roll back: this bundle has not been applied")
    assert "finished" not in NOTHING_TO_ROLL_BACK and "every guard held" not in NOTHING_TO_ROLL_BACK
    assert "nothing changed" in NOTHING_TO_ROLL_BACK
