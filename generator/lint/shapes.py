"""Split generated SQL into statements and abstract each into a *shape*.

sqlfluff parses at roughly 10-15 ms per line, and a bundle repeats the same
few statement forms hundreds of times with different tables, keys and
fingerprints. A shape replaces every literal and identifier with a fixed
placeholder and folds runs of identical lines, so each distinct form is
linted once and cached. Line length — the one layout property placeholders
would hide — is checked exactly on the real text by rule FX005.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"(?P<hex>(?:_utf8mb4\s+)?[xX]'[0-9A-Fa-f]*')"
    r"|(?P<str>'(?:[^']|'')*')"
    r"|(?P<ident>`(?:[^`]|``)*`)"
    r"|(?P<num>\b\d+(?:\.\d+)?\b)"
)


@dataclass(frozen=True)
class Statement:
    file: str
    line: int  # first line of the statement in its file (1-based)
    text: str


def split_statements(path: str, text: str) -> list[Statement]:
    """Statements of a generated file: they end a line with ';', comments are whole lines."""
    out: list[Statement] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("--")):
            continue
        if not current:
            start = number
        current.append(line)
        if stripped.endswith(";"):
            out.append(Statement(path, start, "\n".join(current)))
            current = []
    if current:
        out.append(Statement(path, start, "\n".join(current)))
    return out


_IDENT = re.compile(r"`(?:[^`]|``)*`")
# A one-line list of three or more equal placeholders (`IN (0, 0, 0)`): two say "a list".
_LIST = re.compile(r"(?P<lit>0|'s'|x'00'|NULL)(?:, (?P=lit)){2,}")


def shape_of(statement: str) -> str:
    """Literals and identifiers abstracted; runs of same-form lines kept to two.

    Literals become one placeholder per kind, and a one-line list of equal
    placeholders keeps two elements (an `IN` list of 3 or 300 keys). Runs of three or more lines that
    differ only by the identifiers they name (the per-column lines of a
    fingerprint) fold to their first two. Identifiers are then numbered `c1`,
    `c2`… in order of first use in what is left, so names that are the same
    (or different) stay so — alias and qualification rules still see the
    truth — while tables of the same structure but different widths share a
    shape (numbering before folding would leak the width into the last line).
    """

    def literal(match: re.Match) -> str:
        kind = match.lastgroup
        if kind == "hex":
            return "x'00'"
        if kind == "str":
            return "'s'"
        if kind == "ident":
            return match.group(0)
        return "0"

    lines = [_LIST.sub(r"\g<lit>, \g<lit>", _TOKEN.sub(literal, line)) for line in statement.splitlines()]
    folded: list[str] = []
    forms: list[str] = []
    for line in lines:
        form = _IDENT.sub("`c`", line)
        if len(forms) >= 2 and forms[-1] == form and forms[-2] == form:
            continue
        folded.append(line)
        forms.append(form)
    names: dict[str, str] = {}

    def number(match: re.Match) -> str:
        return names.setdefault(match.group(0), f"`c{len(names) + 1}`")

    return "\n".join(_IDENT.sub(number, line) for line in folded) + "\n"


TARGET_MARK = "fixpack-target-id"


def skeleton_of(statement: str, targets: frozenset[str]) -> str:
    """The statement with literals abstracted but identifiers kept, for the structural rules.

    The rules read table and column names and the form of WHERE clauses, never
    literal values — except "compared with the target UUID", so a string equal
    to a target id becomes the `TARGET_MARK` string (the rules are given that
    mark as a target). A batch's thousands of row-by-row INSERTs share a few
    skeletons, so sqlglot parses each skeleton once instead of every statement.
    """

    def literal(match: re.Match) -> str:
        kind = match.lastgroup
        if kind == "hex":
            return "x'00'"
        if kind == "str":
            return f"'{TARGET_MARK}'" if match.group(0)[1:-1] in targets else "'s'"
        if kind == "ident":
            return match.group(0)
        return "0"

    return _TOKEN.sub(literal, statement)


def shape_key(shape: str, salt: str) -> str:
    return hashlib.sha256((salt + "\0" + shape).encode()).hexdigest()
