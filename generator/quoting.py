"""One quoting function per destination for every database value fixpack prints.

Database contents are untrusted: a cell name, an attachment id, a host or a
state can hold `$(...)`, newlines, Markdown fences or terminal escape sequences.
A value never reaches a shell command, a Markdown runbook, a SQL comment or the
terminal except through the function for that destination here (SQL literals
have their own single door: `generator.sqlgen.literals`). Where a value must be
an identifier (a hostname in a file name, a database name on a command line that
a human pastes) the function refuses it instead of quoting it.

This module imports nothing from fixpack so that every layer may use it.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from collections.abc import Iterable

__all__ = [
    "UnsafeValue",
    "identifier",
    "md_code",
    "md_text",
    "shell_arg",
    "shell_args",
    "sql_comment",
    "terminal",
]


class UnsafeValue(ValueError):
    """A value that must be an identifier is not one (the message says which value)."""


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _is_unsafe_char(ch: str) -> bool:
    """Control characters (C0, DEL, C1), line/paragraph separators, format and bidi characters."""
    category = unicodedata.category(ch)
    return category in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn") or ch == "\\"


def terminal(value: object) -> str:
    """Text safe to print on a terminal: every control, format or bidi character shown escaped.

    Backslashes are doubled so an escaped form can never be confused with the original.
    Newlines become `\\x0a`: one value is always one line.
    """
    text = str(value)
    if not any(_is_unsafe_char(ch) for ch in text):
        return text
    return "".join(("\\\\" if ch == "\\" else _escape_char(ch)) if _is_unsafe_char(ch) else ch for ch in text)


def sql_comment(value: object) -> str:
    """Text safe inside a `-- ` line comment: one line, no `*/`, no client-visible escapes."""
    text = terminal(value)
    # a `*/` cannot end a line comment, but `/*` or `*/` confuse readers and some tools
    return text.replace("*/", "* /").replace("/*", "/ *")


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&])")


def md_text(value: object) -> str:
    """A value as plain Markdown text: one line, every Markdown metacharacter escaped."""
    return _MD_SPECIAL.sub(r"\\\1", terminal(value))


def md_code(value: object) -> str:
    """A value as an inline Markdown code span that no content can break out of.

    One line (control characters escaped), fenced with more backticks than the longest
    run inside it, padded with spaces so leading/trailing backticks stay inside. A `|`
    is shown escaped-looking but stays inside the span in GitHub tables.
    """
    text = terminal(value).replace("|", "\\|")
    runs = [len(m) for m in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    if text == "" or text.startswith("`") or text.endswith("`") or fence != "`":
        return f"{fence} {text} {fence}"
    return f"{fence}{text}{fence}"


def shell_arg(value: object) -> str:
    """One shell word that a POSIX shell reads back as exactly `value` (shlex.quote).

    Values with control characters are refused: a pasted command must be what the reader saw.
    """
    text = str(value)
    if any(_is_unsafe_char(ch) and ch != "\\" for ch in text):
        raise UnsafeValue(f"refusing to put {terminal(text)!r} on a command line: it has control characters")
    return shlex.quote(text)


def shell_args(values: Iterable[object]) -> str:
    """Shell words for an argument list, each through `shell_arg`, space-separated."""
    return " ".join(shell_arg(v) for v in values)


_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}")


def identifier(value: object, what: str) -> str:
    """A value that must be a plain identifier (database, host, cell name): returned as is, or refused.

    Allowed: letters, digits, `_`, `.`, `-`, starting with a letter or digit — what MySQL
    database names, hostnames and file names need, and nothing a shell, Markdown or a
    terminal interprets.
    """
    text = str(value)
    if not _IDENTIFIER.fullmatch(text):
        raise UnsafeValue(f"{what} {terminal(text)!r} is not a plain name (letters, digits, _ . -): refused")
    return text
