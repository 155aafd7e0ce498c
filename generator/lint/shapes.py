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
# What is left of a statement once its literals are placeholders: identifiers, `-- ` comments,
# parentheses and commas (the list structure), other words and operators, whitespace.
_PIECE = re.compile(r"x'00'|`(?:[^`]|``)*`|'(?:[^']|'')*'|--(?:[ \t][^\n]*)?(?=\n|$)|[(),]|[^\s(),'`]+|\s+")

Group = list[list["str | Group"]]  # a parenthesised list: its comma-separated items, each tokens/groups


def _literal(match: re.Match) -> str:
    kind = match.lastgroup
    if kind == "hex":
        return "x'00'"
    if kind == "str":
        return "'s'"
    if kind == "ident":
        return match.group(0)
    return "0"


_VALUES = frozenset({"0", "-0", "'s'", "x'00'", "NULL"})  # a literal placeholder, or NULL


def _values_as_one(pieces: list[str]) -> list[str]:
    """A value a row gives a column becomes `0`, whatever its kind (or NULL).

    Live bundles write rows' values: a restore's `SET `col` = value, …`, an insert's
    `SELECT value AS `col`, …`. Which of them are NULL, strings or numbers is data,
    and a shape must not depend on data (else every row would be a new shape). Only
    these two positions are abstracted: `value AS `alias`` anywhere (never a
    comparison), and `` `col` = value `` as a whole item of an UPDATE's top-level SET
    list; a NULL compared anywhere else (`x = NULL`, sqlfluff CV05) is kept.
    """
    out = list(pieces)
    words = [i for i, p in enumerate(out) if not p.isspace()]
    first = out[words[0]].upper() if words else ""
    depth = 0
    in_set = False
    for n, i in enumerate(words):
        piece = out[i]
        depth += (piece == "(") - (piece == ")")
        if piece not in _VALUES:
            if depth == 0 and first == "UPDATE" and piece.upper() in ("SET", "WHERE"):
                in_set = piece.upper() == "SET"
            continue
        after = [out[j] for j in words[n + 1 : n + 3]]
        before = [out[j] for j in words[max(0, n - 3) : n]]
        aliased = len(after) == 2 and after[0].upper() == "AS" and after[1].startswith("`")
        assigned = (
            in_set
            and depth == 0
            and len(before) == 3
            and before[0].upper() in (",", "SET")
            and before[1].startswith("`")
            and before[2] == "="
            and (not after or after[0] in (",", ";") or after[0].upper() == "WHERE")
        )
        if aliased or assigned:
            out[i] = "0"
    return out


def _parse(pieces: list[str]) -> Group:
    """Nest the pieces by parentheses; split each level into its comma-separated items."""
    stack: list[Group] = [[[]]]
    for piece in pieces:
        if piece == "(":
            stack.append([[]])
        elif piece == ")" and len(stack) > 1:
            inner = stack.pop()
            stack[-1][-1].append(inner)
        elif piece == ",":
            stack[-1].append([])
        else:
            stack[-1][-1].append(piece)
    while len(stack) > 1:  # unbalanced (not generated SQL): close what is open
        inner = stack.pop()
        stack[-1][-1].append(inner)
    return stack[0]


def _text(group: Group, form: bool) -> str:
    """The group as one line: single spaces, none inside parentheses or before a comma."""
    items = []
    for item in group:
        out = ""
        for part in item:
            if isinstance(part, list):
                out += "(" + _text(part, form) + ")"
            elif part.isspace():
                out += "" if out.endswith(" ") else " "
            else:
                out += "`c`" if form and part.startswith("`") else part
        items.append(out.strip())
    return ", ".join(items)


def _fold(group: Group) -> Group:
    """Runs of three or more items of the same form (identifiers aside) keep their first two."""
    folded: Group = []
    forms: list[str] = []
    for item in group:
        item = [_fold(part) if isinstance(part, list) else part for part in item]
        form = _text([item], form=True)
        if len(forms) >= 2 and forms[-1] == form and forms[-2] == form:
            continue
        folded.append(item)
        forms.append(form)
    return folded


def shape_of(statement: str) -> str:
    """Literals and identifiers abstracted, layout dropped, lists of one form kept to two items.

    Literals become one placeholder per kind. Whitespace becomes single spaces on
    one line: the renderer wraps a statement at 120 characters, so where its lines
    break depends on the lengths of the values and names in it, which a shape must
    not (sqlfluff's layout rules are not run on shapes; FX005 checks line length on
    the real text). In every comma-separated list — an `IN` list, a fingerprint's
    per-column terms, a row's `value AS column` pairs — a run of three or more items
    that differ only by the identifiers they name keeps its first two: a list of 3
    or 300 keys, a table of 5 or 40 columns, share a shape. Identifiers are then
    numbered `c1`, `c2`… in order of first use in what is left, so names that are
    the same (or different) stay so — alias and qualification rules still see the
    truth — while tables of the same structure but different widths share a shape
    (numbering before folding would leak the width). sqlfluff findings on a shape
    are reported on the statement's first line.
    """
    pieces = [" " if p.startswith("--") else p for p in _PIECE.findall(_TOKEN.sub(_literal, statement))]
    flat = _text(_fold(_parse(_values_as_one(pieces))), form=False)
    names: dict[str, str] = {}

    def number(match: re.Match) -> str:
        return names.setdefault(match.group(0), f"`c{len(names) + 1}`")

    return _IDENT.sub(number, flat) + "\n"


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
