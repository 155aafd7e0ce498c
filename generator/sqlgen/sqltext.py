"""Read SQL text the way the mysql/mariadb command-line client does, to find client commands in it.

A bundle's SQL file is fed to the client (`mysql --batch < file`). Besides SQL,
the client interprets its own commands: `\\! cmd` runs a shell, `\\. file`
sources another file, `\\T file` tees output, `use db;` switches databases,
`delimiter` changes the statement end, and so on. A bundle is data; none of
that may be in it. This module finds them exactly as the client's parser
(client/mysql.cc `read_and_execute`, `add_line`, `find_command`) would:

* a backslash followed by a character, outside string literals ('…', "…"),
  backtick identifiers and comments, is a one-character command (`\\N`,
  the NULL shorthand, excepted) — anywhere on a line;
* a statement (text up to `;`, comments removed) whose first word is a
  command name runs that command (`use x;`, `source f;`, `system …;`), and
  so does a line that begins with one when no statement is open (or always,
  with `--named-commands`): both are refused;
* `delimiter ` outside literals and comments (MySQL's client sees it
  anywhere on a line);
* `/*!…*/` and `/*M!…*/` are not comments but version-conditional SQL that
  the server executes (and inside which the client still reads commands).

Comments follow the client: `#` to end of line, `-- ` (a space or control
character after the dashes, or any `--` at the start of a statement) to end of
line, `/* … */`. A string's backslash escapes the next character unless the
server runs with NO_BACKSLASH_ESCAPES (the client follows the server's mode),
and `"…"` is an identifier under ANSI_QUOTES: the text is read under each of
those modes and refused when any reading finds a command. Hex literals and
values inside strings are never commands, so real bundles are not refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# The client's long command names (MariaDB and MySQL 8 clients), matched case-insensitively.
COMMAND_NAMES = frozenset(
    {
        "?", "clear", "connect", "delimiter", "edit", "ego", "exit", "go", "help", "nopager", "notee",
        "pager", "print", "prompt", "quit", "rehash", "source", "status", "system", "tee", "use",
        "charset", "warnings", "nowarning", "resetconnection", "query_attributes",
        "ssl_session_data_print", "sandbox",
    }
)  # fmt: skip
SHORT_COMMANDS = {
    "!": "system (runs a shell command)",
    ".": "source (runs another file)",
    "r": "connect",
    "u": "use (switches database)",
    "T": "tee (writes a file)",
    "t": "notee",
    "d": "delimiter",
    "P": "pager (runs a program)",
    "n": "nopager",
    "e": "edit (runs an editor)",
    "C": "charset",
    "W": "warnings",
    "w": "nowarning",
    "p": "print",
    "R": "prompt",
    "#": "rehash",
    "q": "quit",
    "g": "go",
    "G": "ego",
    "c": "clear",
    "h": "help",
    "?": "help",
    "s": "status",
    "x": "resetconnection",
}
_SPECIAL = re.compile(r"[\\'\"`#/\-;\n]")
_WORD = re.compile(r"[^\s;]+")
_LINE_WORD = re.compile(r"[ \t\r\f\v]*([^\s;]+)")
_DELIMITER = re.compile(r"(?i)(?<![\w$])delimiter\s")
# (backslash escapes in '…' and "…", "…" is a string) for: default, NO_BACKSLASH_ESCAPES, ANSI_QUOTES
MODES = ((True, True), (False, True), (True, False))


@dataclass(frozen=True)
class ClientCommand:
    """Where the client would run something that is not SQL."""

    line: int
    what: str

    def describe(self, rel: str) -> str:
        return (
            f"{rel}:{self.line}: {self.what}: a bundle's SQL files are data and may not hold "
            "mysql client commands; refusing this bundle"
        )


def find_client_command(text: str) -> ClientCommand | None:
    """The first client command (by line) under any server mode, or None."""
    if "\0" in text:
        return ClientCommand(text.count("\n", 0, text.index("\0")) + 1, "a NUL byte (not SQL text)")
    modes = MODES if "\\" in text else MODES[:1]  # without a backslash every mode reads alike
    found = [c for c in (_scan(text, esc, dq) for esc, dq in modes) if c is not None]
    return min(found, key=lambda c: c.line) if found else None


def _line_start_command(text: str, pos: int) -> str | None:
    m = _LINE_WORD.match(text, pos)
    if m and m.group(1).lower() in COMMAND_NAMES:
        return m.group(1)
    return None


def _scan(text: str, escapes: bool, dquote_string: bool) -> ClientCommand | None:
    n = len(text)
    i = 0
    line = 1
    open_stmt = False  # the current statement has content (not only blanks and comments)
    word = _line_start_command(text, 0)
    if word:
        return ClientCommand(1, f"client command {word!r} at the start of a line")
    while i < n:
        m = _SPECIAL.search(text, i)
        j = m.start() if m else n
        if j > i:
            segment = text[i:j]
            stripped = segment.lstrip()
            if stripped:
                if not open_stmt:
                    first = _WORD.match(text, i + len(segment) - len(stripped))
                    if first and first.group().lower() in COMMAND_NAMES:
                        return ClientCommand(line, f"client command {first.group()!r} as a statement")
                    open_stmt = True
                d = _DELIMITER.search(segment)
                if d:
                    return ClientCommand(line, "client command 'delimiter'")
        if m is None:
            break
        c = text[j]
        if c == "\n":
            line += 1
            word = _line_start_command(text, j + 1)
            if word:
                return ClientCommand(line, f"client command {word!r} at the start of a line")
            i = j + 1
        elif c == ";":
            open_stmt = False
            i = j + 1
        elif c == "\\":
            nxt = text[j + 1] if j + 1 < n else ""
            if nxt == "N":
                open_stmt = True
                i = j + 2
            elif nxt in ("", "\n"):
                i = j + 1
            else:
                what = SHORT_COMMANDS.get(nxt, "unknown")
                return ClientCommand(line, f"client command '\\{nxt}' ({what})")
        elif c in "'\"`":
            open_stmt = True
            with_escapes = escapes and c != "`" and (c == "'" or dquote_string)
            end = _string_end(text, j + 1, c, with_escapes)
            line += text.count("\n", j, end)
            i = end
        elif c == "#":
            i = _line_end(text, j)
        elif c == "-":
            after = text[j + 2] if j + 2 < n else ""
            if text.startswith("--", j) and (after == "" or after.isspace() or not open_stmt):
                i = _line_end(text, j)
            else:
                open_stmt = True
                i = j + 1
        elif c == "/":
            if text.startswith("/*!", j) or text.startswith("/*M!", j):
                return ClientCommand(line, "executable comment '/*!…*/' (SQL the server runs, not a comment)")
            if text.startswith("/*", j):
                end = text.find("*/", j + 2)
                end = n if end < 0 else end + 2
                line += text.count("\n", j, end)
                i = end
            else:
                open_stmt = True
                i = j + 1
    return None


def _string_end(text: str, i: int, quote: str, escapes: bool) -> int:
    """Index just past the literal that started before `i` (end of text when it never closes)."""
    n = len(text)
    while i < n:
        q = text.find(quote, i)
        if q < 0:
            return n
        b = text.find("\\", i, q) if escapes else -1
        if b >= 0:
            i = b + 2
            continue
        return q + 1
    return n


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def statements(text: str) -> Iterator[tuple[int, str]]:
    """(first line, statement text without comments) for every `;`-terminated statement.

    For text that passed `find_client_command` (default server mode): used to
    find a file's guard measurements without handing the whole file to a parser.
    """
    n = len(text)
    i = 0
    line = 1
    start_line: int | None = None
    parts: list[str] = []
    while i < n:
        m = _SPECIAL.search(text, i)
        j = m.start() if m else n
        if j > i:
            if start_line is None and text[i:j].strip():
                start_line = line + text.count("\n", i, i + len(text[i:j]) - len(text[i:j].lstrip()))
            parts.append(text[i:j])
        if m is None:
            break
        c = text[j]
        if c == ";":
            body = "".join(parts).strip()
            if body:
                yield (start_line or line), body
            parts, start_line = [], None
            i = j + 1
            continue
        if c == "\n":
            line += 1
            parts.append(c)
            i = j + 1
        elif c in "'\"`":
            end = _string_end(text, j + 1, c, c != "`")
            start_line = line if start_line is None else start_line
            parts.append(text[j:end])
            line += text.count("\n", j, end)
            i = end
        elif c == "#" or (
            c == "-" and text.startswith("--", j) and (text[j + 2 : j + 3].isspace() or j + 2 >= n)
        ):
            i = _line_end(text, j)
        elif c == "/" and text.startswith("/*", j):
            end = text.find("*/", j + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", j, end)
            parts.append(" ")
            i = end
        else:
            start_line = line if start_line is None else start_line
            parts.append(c)
            i = j + 1
    body = "".join(parts).strip()
    if body:
        yield (start_line or line), body
