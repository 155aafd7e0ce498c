"""User-facing errors.

Every error an operator can cause (bad input, unreachable server, unknown UUID,
refused repair) is a FixpackError: the CLI prints its message as one line and
exits non-zero. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from generator import exitcodes


class FixpackError(Exception):
    """An error caused by input or environment, reported as one line."""

    exit_code = exitcodes.USAGE


class ConnectionProblem(FixpackError):
    """A database could not be reached, logged into, or is the wrong one."""

    exit_code = exitcodes.CONNECTION


class SchemaProblem(FixpackError):
    """A database is not one of the supported services or releases."""

    exit_code = exitcodes.SCHEMA


class TargetProblem(FixpackError):
    """The instance or volume cannot be repaired as asked (unknown, deleted, healthy...)."""

    exit_code = exitcodes.REFUSED


class LintFailure(FixpackError):
    """Generated files failed lint and the operator did not override."""

    exit_code = exitcodes.LINT
