"""The last lines a SQL file prints: one wording for live and offline bundles.

The operator reads only the final `fixpack` line of a run, so it must not be
readable as success when nothing happened. A rollback run before any apply (or
run a second time) finds every row as it was before the apply; live and offline
rollbacks then end with the same words, and the runbook quotes them.
"""

from __future__ import annotations

NOTHING_TO_ROLL_BACK = (
    "nothing to roll back: this bundle has not been applied (or was already rolled back); "
    "every row is as it was before the apply, nothing changed"
)
