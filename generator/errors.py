"""User-facing errors.

Every error an operator can cause (bad input, unreachable server, unknown UUID,
refused repair) is a FixpackError: the CLI prints its message as one line and
exits non-zero. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

# -- exit codes: one table, used by the errors below, the commands, `--help` and the README --------
# A script (CI, a change pipeline) tells what happened from the code alone; nothing in the CLI
# exits with a bare number.
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


class FixpackError(Exception):
    """An error caused by input or environment, reported as one line."""

    exit_code = USAGE


class ConnectionProblem(FixpackError):
    """A database could not be reached, logged into, or is the wrong one."""

    exit_code = CONNECTION


class SchemaProblem(FixpackError):
    """A database is not one of the supported services or releases."""

    exit_code = SCHEMA


class TargetProblem(FixpackError):
    """The instance or volume cannot be repaired as asked (unknown, deleted, healthy...)."""

    exit_code = REFUSED


class LintFailure(FixpackError):
    """Generated files failed lint and the operator did not override."""

    exit_code = LINT
