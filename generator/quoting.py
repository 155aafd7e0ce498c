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

    Text with nothing to escape is printed as it is (a `\\!` in a message stays `\\!`); once
    something is escaped, backslashes are doubled too, so an escaped form can never be confused
    with the original. Newlines become `\\x0a`: one value is always one line.
    """
    text = str(value)
    if not any(_is_unsafe_char(ch) and ch != "\\" for ch in text):
        return text
    return "".join(("\\\\" if ch == "\\" else _escape_char(ch)) if _is_unsafe_char(ch) else ch for ch in text)


def sql_comment(value: object) -> str:
    """Text safe inside a `-- ` line comment: one line, no `*/`, no client-visible escapes."""
    text = terminal(value)
    # a `*/` cannot end a line comment, but `/*` or `*/` confuse readers and some tools
    return text.replace("*/", "* /").replace("/*", "/ *")


# Inline Markdown that changes what is shown: code spans, emphasis, links/images, raw HTML and
# autolinks, tables, strikethrough, entities, math. `_` between two ASCII alphanumerics can neither open
# nor close emphasis (CommonMark flanking rules), so `vm_state` stays readable.
_MD_INLINE = re.compile(r"[\\`*\[\]<>!|~&$]|_(?![A-Za-z0-9])|(?<![A-Za-z0-9])_")
# What starts a block when it opens a line: heading, list item, setext underline, ordered list.
_MD_BLOCK_START = re.compile(r"[#\-+=]|[0-9]{1,9}[.)]")


def md_text(value: object) -> str:
    """A value as plain Markdown text: one line, nothing in it rendered as Markdown.

    Every inline metacharacter is backslash-escaped; a character that would open a block
    (heading, list, setext underline) is escaped when it starts the text, and leading
    whitespace (indented code; renderers strip it) becomes character references such as
    `&#32;`, so the result is safe at the start of a line, inside a paragraph, a list item
    or a table cell. `.`, `-`, `(` and `_` inside names stay as they are.
    """
    text = _MD_INLINE.sub(lambda m: "\\" + m.group(0), terminal(value))
    body = text.lstrip()
    lead = "".join(f"&#{ord(ch)};" for ch in text[: len(text) - len(body)])
    start = _MD_BLOCK_START.match(body)
    if start:
        cut = start.end() - 1
        body = body[:cut] + "\\" + body[cut:]
    return lead + body


def md_code(value: object, *, in_table: bool = False) -> str:
    """A value as an inline Markdown code span that no content can break out of.

    One line: a value with control, format or bidi characters is shown in `terminal()`'s
    escaped form; any other value verbatim (backslashes included), so a shell command copied
    from the span is exactly the command. Fenced with more backticks than the longest run
    inside it and padded where CommonMark would otherwise eat a backtick or a space.
    `in_table`: `|` is written `\\|`, which a GFM table cell shows as `|` (outside a table it
    would show the backslash, so it is only done there).
    """
    raw = str(value)
    text = terminal(raw) if any(_is_unsafe_char(ch) and ch != "\\" for ch in raw) else raw
    if in_table:
        text = text.replace("|", "\\|")
    runs = [len(m) for m in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = (
        text.strip(" ") == ""
        or text.startswith("`")
        or text.endswith("`")
        or (text.startswith(" ") and text.endswith(" "))
    )
    return f"{fence} {text} {fence}" if pad else f"{fence}{text}{fence}"


def _shown(text: str, limit: int = 80) -> str:
    """A refused value for a one-line message: escaped, quoted, cut so one row cannot flood it."""
    shown = terminal(text)
    return "'" + (shown if len(shown) <= limit else shown[: limit - 1] + "…") + "'"


def shell_arg(value: object) -> str:
    """One shell word that a POSIX shell reads back as exactly `value` (shlex.quote).

    Values with control characters are refused: a pasted command must be what the reader saw.
    """
    text = str(value)
    if any(_is_unsafe_char(ch) and ch != "\\" for ch in text):
        raise UnsafeValue(
            f"refusing to put the database value {_shown(text)} on a command line: it has control or "
            "format characters, so the command could not be shown as it would run"
        )
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
        raise UnsafeValue(f"{what} {_shown(text)} is not a plain name (letters, digits, _ . -): refused")
    return text
