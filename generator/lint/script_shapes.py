"""Shell verdicts shipped in the wheel: a generated script's data abstracted, its template kept.

shellcheck takes 0.1-0.5 s of CPU per generated script, which on a fresh machine (empty user
cache) was a third of a live VM bundle's time. A script is a fixed template (render/shell.py,
templates/shell/) with the target's values in three places only: the header comment, the
`readonly NAME=value` lines before the first function, and the arguments of the calls `main()`
makes to the script's own functions (`cleanup_vif_ovs PORT TAP BRIDGE`). `shipping_shape()`
replaces exactly those:

* comment lines of the header and of `main()` become `#` (a `#!` line or one naming
  `shellcheck`, a directive, is kept);
* a header assignment's value word becomes `v` (`readonly PORTS=(a b)` becomes `(v)`; `()` stays);
* in `main()`, a call of a function the script defines with only value words as arguments gets
  `v` for each, and a run of identical such lines is folded to one (one VIF or three).

A *value word* is what the shell quoting function writes for a plain value: a bare word of
`[A-Za-z0-9@%+=:,./_-]`, or a single-quoted string without `'`, `$`, a backquote or a
backslash. Any other word (a quoted quote, an expansion) is kept, so the script misses the
shipped verdicts and shellcheck runs on it. shellcheck reads such a word as one literal whatever
its letters, a call's arguments count but not their values, and a repeated call is the same
check again: a script with the shape of a script shellcheck found clean is clean too. Only
clean verdicts are shipped (`tools/ship_shellcheck_verdicts.py` checks each shape's scripts),
so findings, which name lines, always come from shellcheck itself.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from importlib import resources

FILE = "shellcheck_verdicts.json"
_WORD = r"(?:[A-Za-z0-9@%+=:,./_-]+|'[^'$`\\]*')"
_VALUE = re.compile(rf"^{_WORD}$")
_ASSIGN = re.compile(
    rf"^((?:readonly |declare -r )?[A-Z_][A-Z0-9_]*=)({_WORD}|\((?:{_WORD}(?: {_WORD})*)?\))$"
)
_CALL = re.compile(r"^(\s+)([a-z_][a-z0-9_]*)((?: \S+)+)$")
_FUNCTION = re.compile(r"^([a-z_][a-z0-9_]*)\(\) \{$")


def _comment(line: str) -> str | None:
    """The abstracted form of a whole-line comment, or None when `line` is not one."""
    stripped = line.lstrip()
    if not stripped.startswith("#") or stripped.startswith("#!") or "shellcheck" in stripped:
        return None
    return line[: len(line) - len(stripped)] + "#"


def _assignment(line: str) -> str:
    m = _ASSIGN.match(line)
    if m is None:
        return line
    value = m.group(2)
    if value.startswith("("):
        return m.group(1) + ("()" if value == "()" else "(v)")
    return m.group(1) + "v"


def _call(line: str, functions: frozenset[str]) -> str:
    m = _CALL.match(line)
    if m is None or m.group(2) not in functions:
        return line
    args = m.group(3).split(" ")[1:]
    if not all(_VALUE.match(a) for a in args):
        return line
    return f"{m.group(1)}{m.group(2)}" + " v" * len(args)


def shipping_shape(text: str) -> str:
    """The script with its data abstracted (module docstring): equal shapes, equal shellcheck verdicts."""
    lines = text.split("\n")
    functions = frozenset(m.group(1) for m in map(_FUNCTION.match, lines) if m)
    out: list[str] = []
    region = "header"  # header (before the first function) | body | main
    for n, line in enumerate(lines):
        if region != "main" and _FUNCTION.match(line):
            region = "main" if line.startswith("main()") else "body"
        elif region == "main" and line == "}":
            region = "body"
        if n and region in ("header", "main"):
            shaped = _comment(line)
            if shaped is None:
                shaped = _assignment(line) if region == "header" else _call(line, functions)
            if region == "main" and out and shaped == out[-1] and shaped != line:
                continue  # the same call again (another VIF or volume of the same kind)
            out.append(shaped)
        else:
            out.append(line)
    return "\n".join(out)


def shipping_key(salt: str, text: str) -> str:
    return hashlib.sha256((salt + "\0shipped\0" + shipping_shape(text)).encode()).hexdigest()


@functools.lru_cache(maxsize=4)
def clean_keys(salt: str) -> frozenset[str]:
    """The shipped keys of scripts shellcheck found clean, for this exact shellcheck and arguments
    (`salt`); empty when the file is absent or was made with another shellcheck."""
    try:
        data = json.loads((resources.files("generator.lint") / "data" / FILE).read_text())
    except (OSError, ValueError):
        return frozenset()
    if not isinstance(data, dict) or data.get("salt") != hashlib.sha256(salt.encode()).hexdigest():
        return frozenset()
    return frozenset(k for k in data.get("clean", ()) if isinstance(k, str))
