"""The runbook's error table: every error a bundle's SQL files can stop with, what it means, what to do.

An operator at 2 a.m. sees `ERROR 1062` or `ERROR 1242` and nothing else; "investigate" is not
an answer. The files stop the client deliberately in one way only (a guard: `ERROR 1242`, with
the failing check printed on the line before), and the server can stop them in a handful of
others (locks, a duplicate key on a second rollback, privileges, a read-only node, a lost
connection). Each row is fixed text (no database values), already Markdown for a table cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.render.messages import NOTHING_TO_ROLL_BACK


@dataclass(frozen=True)
class KnownError:
    error: str  # what the client prints, as a Markdown code span
    files: str  # which files can raise it
    means: str
    action: str


def known_errors(offline: bool) -> list[KnownError]:
    """In the order an operator is likely to meet them."""
    transaction = (
        "the whole file is one transaction per database, rolled back by the server"
        if offline
        else "that chunk's transaction is rolled back by the server; earlier chunks stay committed"
    )
    rerun = (
        "re-run the file: it finds again the rows that still need the change"
        if offline
        else "re-run the file: finished chunks say `already done; nothing changed` and it resumes"
    )
    second_rollback = (
        "the captured rollback was already run (a second run re-inserts rows that exist again and stops), "
        "or someone recreated the rows"
        if offline
        else "someone recreated rows the apply deleted, after the apply (a second rollback of this bundle "
        "does not raise it: its guards find the rows restored and it ends with "
        f"`{NOTHING_TO_ROLL_BACK.split(':', 1)[0]}`)"
    )
    return [
        KnownError(
            "`ERROR 1242 (21000) … Subquery returns more than 1 row`",
            "every file",
            "a fixpack check failed on purpose and stopped the client; the line printed just before it "
            "(`expected`/`found`, a `guard` or a `step … state drift`) names the check. Identity checks: "
            "wrong database or schema. Precheck/apply: the rows are not what the bundle expects (changed "
            f"since generation, already applied, or a service is working on them); {transaction}. Verify: "
            "the repair is not (fully) done. Rollback: the rows are neither as the apply left them nor as "
            "before (changed after the apply), or the rollback already ran",
            "read the named check. Wrong database: run the file against the one the runbook names. Drift: "
            "`fixpack verify .` with the `--cnf` options of section 3 says whether the bundle will apply, "
            "is already applied, partially applied or drifted; regenerate the bundle if it drifted. Never "
            "edit the file to get past a guard",
        ),
        KnownError(
            "`ERROR 1062 (23000) … Duplicate entry`",
            "rollback",
            f"a rollback re-inserts a row that already exists: {second_rollback}. The statement failed and "
            "the transaction was rolled back: nothing changed",
            "do not run the rollback again. Compare the rows it names with the file: if they equal the "
            "pre-images, the rollback is already done; otherwise someone else changed them: stop and ask",
        ),
        KnownError(
            "`ERROR 1205 (HY000): Lock wait timeout exceeded` / `ERROR 1213 (40001): Deadlock found`",
            "apply, rollback",
            f"another transaction held the rows for 10 s (a service is working on them); {transaction}",
            f"see what holds them (the instance's or volume's service, a cron job); when quiet, {rerun}",
        ),
        KnownError(
            "`ERROR 1180 (HY000) … Got error 90 … during COMMIT` / an `ERROR:` line naming wsrep limits",
            "apply, rollback",
            "a Galera node refused a transaction over `wsrep_max_ws_rows`/`wsrep_max_ws_size` (or the file's "
            f"own check found its chunks too large for them, before writing); {transaction}",
            "regenerate the bundle with the `--chunk-rows` the message names (or raise the limits), then run "
            "the new bundle",
        ),
        KnownError(
            "`ERROR 1451`/`1452 (23000) … a foreign key constraint fails`",
            "apply, rollback",
            f"a row referencing (or referenced by) the changed rows appeared since generation; {transaction}",
            "regenerate the bundle (live: `fixpack verify` shows the drift) and review it again",
        ),
        KnownError(
            "`ERROR 1146 (42S02) … doesn't exist` / `ERROR 1054 (42S22) Unknown column`",
            "every file",
            "the database is not the one (or not the release) the bundle was made for; the identity checks "
            "normally stop the file before this",
            "check the database name and release (`fixpack schema detect`); regenerate the bundle for it",
        ),
        KnownError(
            "`ERROR 1044`/`1045`/`1142 … Access denied` / `command denied`",
            "every file",
            "the account lacks the privilege (SELECT for precheck/verify/capture; INSERT, UPDATE, DELETE for "
            "apply and rollback); nothing changed",
            "use an account with those privileges on that database, then re-run the file",
        ),
        KnownError(
            "`ERROR 1290 (HY000) … --read-only` / `super-read-only`",
            "apply, rollback",
            "the client is connected to a replica or a read-only node; nothing changed",
            "connect to the primary (Galera: a node that accepts writes), then re-run the file",
        ),
        KnownError(
            "`ERROR 2006 (HY000): server has gone away` / `ERROR 2013 … Lost connection`",
            "every file",
            "the connection dropped: a transaction not committed was rolled back by the server",
            f"reconnect and {rerun}",
        ),
        KnownError(
            "`ERROR 1064 (42000) … syntax error`",
            "every file",
            "the file is not the one fixpack wrote (edited, truncated) or the client is not mysql/mariadb",
            "`fixpack verify .` names a file that differs from the manifest; use the unchanged bundle",
        ),
    ]
