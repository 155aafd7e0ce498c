"""fixpack's exit codes: one table, used by the errors, the commands, `--help` and the README.

A script (CI, a change pipeline) tells what happened from the code alone. Every
command uses these names; nothing in the CLI exits with a bare number.
"""

from __future__ import annotations

OK = 0
FINDINGS = 1  # lint findings, a tampered/drifted bundle, a failed rehearsal, schema differences
USAGE = 2  # bad input: options, UUIDs, files, a bundle that is not readable or not trusted
CONNECTION = 3  # a database could not be reached, logged into, or is the wrong one
SCHEMA = 4  # a database is not a supported service or release
REFUSED = 5  # the repair was refused (unknown, deleted, healthy, busy target; unsafe value)
LINT = 6  # a generated bundle failed lint and --allow-lint-failures was not given
INTERRUPTED = 130  # Ctrl-C

MEANINGS: dict[int, str] = {
    OK: "success (verify: intact and, given databases, applicable or already applied)",
    FINDINGS: "findings: lint findings, a tampered or drifted bundle, a failed rehearsal, schema differences",
    USAGE: "usage: a bad option, UUID, file or bundle",
    CONNECTION: "connection: a database could not be reached or logged into, or is the wrong one",
    SCHEMA: "release/schema: a database is not a supported service or release",
    REFUSED: "refusal: the repair was refused (the message names the --allow-… flag, if any)",
    LINT: "lint: the generated bundle failed lint (nothing written; --allow-lint-failures writes it)",
    INTERRUPTED: "interrupted",
}


def epilog() -> str:
    """The top-level `--help` epilog: the table, one line per code (click keeps `\\b` blocks as written)."""
    return "\b\nExit codes:\n" + "\n".join(f"  {code:<3} {text}" for code, text in MEANINGS.items())


def markdown_table() -> str:
    """The same table for the README (a test keeps the two in step)."""
    rows = [f"| {code} | {text} |" for code, text in MEANINGS.items()]
    return "\n".join(["| exit code | meaning |", "|---|---|", *rows])
