"""FX006: no mysql client command and no executable comment anywhere in a SQL file.

A bundle's SQL runs through the mysql/mariadb client, which interprets `\\!`
(shell), `source`, `tee`, `use`, `delimiter`… outside literals and comments,
and the server runs `/*!…*/`. Generated SQL never holds them (values are
readable literals without quotes or backslashes, or hex); this rule proves it
at generation, so a value that escaped its quoting stops the bundle from being
written, and `fixpack lint` reports the same on a bundle on disk.
"""

from __future__ import annotations

from collections.abc import Iterable

from generator.lint.report import Finding
from generator.lint.rules.context import SqlFileContext
from generator.sqlgen.sqltext import find_client_command

CODE = "FX006"


def check(ctx: SqlFileContext) -> Iterable[Finding]:
    found = find_client_command(ctx.text)
    if found is not None:
        yield ctx.finding(CODE, found.line, f"{found.what}: SQL files may not hold mysql client commands")
