"""The texts `scan --emit` writes beside its bundles: controller.sh, README.md, index.json.

Pure functions of the placements (where each finding went). Database values are untrusted:
a command reaches controller.sh only as scan/suggest.py built it (every value a `shell_arg`
word; a value it could not quote gives `# no command`, which never reaches the script); comments
in the script carry only check ids and counts; the README shows values through `md_code` and
`md_text` (quoting.py), the JSON is ASCII-only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator.emit.routes import API, CHOICE, NO_COMMAND, PENDING
from generator.quoting import md_code, md_text
from generator.scan.model import Finding

BUNDLE, CONTROLLER, REFUSED, NO_CMD = "bundle", "controller", "refused", "no-command"


@dataclass(frozen=True)
class Placement:
    """Where one finding went: `where` one of BUNDLE, CONTROLLER, PENDING, CHOICE, REFUSED,
    NO_CMD; `detail` the bundle path (relative to the emit directory), the refusal line, or the
    command (controller: the command line, `line` its line number in controller.sh)."""

    finding: Finding
    where: str
    detail: str
    line: int = 0


def controller_commands(placements: Sequence[Placement]) -> list[str]:
    """The distinct API commands, in finding order (several findings may share one: map_instances)."""
    return list(dict.fromkeys(p.detail for p in placements if p.where == CONTROLLER))


_HEAD = """#!/usr/bin/env bash
# shellcheck disable=SC2016
# (SC2016: database values are single-quoted on purpose: a `$(...)` in one must never expand.)
# fixpack {version} scan --emit: the API-side repairs of {findings} finding(s), {commands} command(s).
# Dry run by default: prints each command. With --execute: runs each one, goes on after a
# failure and exits 1 if any failed. Every database value is one single-quoted shell word.
# README.md (beside this script) lists the finding(s) behind each line.
set -euo pipefail

execute=0
case "${{1:-}}" in
  --execute) execute=1 ;;
  "") ;;
  *)
    echo "usage: $0 [--execute]" >&2
    exit 2
    ;;
esac

failures=0
run() {{
  if [ "$execute" -eq 1 ]; then
    printf '+'
    printf ' %q' "$@"
    printf '\\n'
    local rc=0
    "$@" || rc=$?
    if [ "$rc" -ne 0 ]; then
      echo "FAILED (exit $rc): $1 ..." >&2
      failures=$((failures + 1))
    fi
  else
    printf 'would run:'
    printf ' %q' "$@"
    printf '\\n'
  fi
}}
"""

_TAIL = """
if [ "$failures" -gt 0 ]; then
  echo "$failures command(s) failed" >&2
  exit 1
fi
if [ "$execute" -eq 0 ]; then
  echo "dry run: nothing was changed; run again with --execute"
fi
"""


def render_controller(placements: Sequence[Placement], version: str) -> tuple[str, dict[str, int]]:
    """controller.sh and the line number of each command in it."""
    commands = controller_commands(placements)
    text = _HEAD.format(
        version=version, findings=sum(p.where == CONTROLLER for p in placements), commands=len(commands)
    )
    lines: dict[str, int] = {}
    current = None
    for p in placements:
        if p.where != CONTROLLER or p.detail in lines:
            continue
        if p.finding.check != current:
            current = p.finding.check
            text += f"\n# {current}\n"  # a check id: fixed text of the registry
        lines[p.detail] = text.count("\n") + 1
        text += f"run {p.detail}\n"
    elsewhere = len(placements) - sum(p.where == CONTROLLER for p in placements)
    if elsewhere:
        text += f"\n# {elsewhere} other finding(s) (bundles, not emitted, choices, refused): see README.md\n"
    return text + _TAIL, lines


def _where_md(p: Placement) -> str:
    if p.where == BUNDLE:
        text = f"SQL bundle {md_code(p.detail + '/', in_table=True)}"
        alternative = p.finding.details.get("alternative")  # e.g. Placement's own delete
        if isinstance(alternative, str) and alternative and not alternative.startswith(NO_COMMAND):
            text += f" (or the API: {md_code(alternative, in_table=True)})"
        return text
    if p.where == CONTROLLER:
        return f"controller.sh line {p.line}"
    if p.where == REFUSED:
        return f"**refused**: {md_text(p.detail)}"
    if p.where == NO_CMD:
        return f"**no command**: {md_text(p.detail)}"
    head = "**not emitted**" if p.where == PENDING else "**your choice**"
    return f"{head}: {md_code(p.detail, in_table=True)}"


def render_readme(
    placements: Sequence[Placement],
    *,
    stale_after: str,
    skipped: Mapping[str, str],
    pending_why: Mapping[str, str],
    bundle_notes: Mapping[str, str] | None = None,
) -> str:
    """The emit directory's index: what to run, in which order, and where every finding went.

    `pending_why`: check id -> why its findings are not emitted (routes.py text, shown as is);
    `bundle_notes`: bundle kind -> what to know about its bundles (routes.py text, shown as is).
    """
    by = {
        w: [p for p in placements if p.where == w]
        for w in (BUNDLE, CONTROLLER, PENDING, CHOICE, REFUSED, NO_CMD)
    }
    out = [
        "# fixpack scan --emit",
        "",
        f"{len(placements)} finding(s). Transitional states and leftovers older than {stale_after} were "
        f"reported; every repair was generated with `--stale-after {stale_after}`, so none refuses a "
        "finding for being too recent.",
        "",
    ]
    if skipped:
        out += ["**This scan is incomplete**: these checks could not run:", ""]
        out += [f"- `{check}`: {md_text(reason)}" for check, reason in skipped.items()]
        out.append("")
    out += ["## What to run", ""]
    bundles = sorted({p.detail for p in by[BUNDLE]})
    out.append(f"1. SQL bundles ({len(bundles)}): each as its own README.md says (precheck, apply, verify).")
    for path in bundles:
        count = sum(p.detail == path for p in by[BUNDLE])
        out.append(f"   - {md_code(path + '/')}: {count} finding(s)")
    for kind, note in sorted((bundle_notes or {}).items()):  # bundle kinds and registry text: trusted
        out.append(f"   - `{kind}/`: {note}")
    out.append(
        f"2. `controller.sh`: {len(controller_commands(placements))} API command(s) for "
        f"{len(by[CONTROLLER])} finding(s). `bash controller.sh` prints them; "
        "`bash controller.sh --execute` runs them."
    )
    out.append(f"3. Not emitted ({len(by[PENDING])}): run the suggested command of each by hand.")
    for check, why in sorted(pending_why.items()):  # check ids and their registry text: fixed, trusted
        out.append(f"   - `{check}`: {why}")
    out.append(f"4. Your choice ({len(by[CHOICE])}): the scan cannot decide the repair; see the table.")
    out.append(
        f"5. Refused ({len(by[REFUSED])}) and without a command ({len(by[NO_CMD])}): their repair "
        "refused them (the line says which protection and how to lift it) or a value cannot be put "
        "on a command line. `fixpack scan --emit` exits 5 when any repair refused."
    )
    out += ["", "## Every finding", "", "| check | id | where |", "|---|---|---|"]
    for p in placements:
        out.append(f"| `{p.finding.check}` | {md_code(p.finding.uuid, in_table=True)} | {_where_md(p)} |")
    choices = by[CHOICE]
    if choices:
        out += ["", "## Choices", ""]
        for p in choices:
            alternative = p.finding.details.get("alternative")
            line = f"- {md_code(p.finding.uuid)}: {md_code(p.detail)}"
            if isinstance(alternative, str) and alternative:
                line += f" or {md_code(alternative)}"
            out.append(line)
            facts = [
                f"{key} {md_code(_flat(value))}"
                for key, value in p.finding.details.items()
                if key not in ("alternative", "choice") and value not in (None, "", [], {})
            ]
            choice = p.finding.details.get("choice")
            out.append(f"  ({', '.join(facts)})" + (f": {md_text(choice)}" if choice else ""))
    return "\n".join(out) + "\n"


def _flat(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str, separators=(",", ":"))


def render_index(placements: Sequence[Placement], *, stale_after_seconds: int) -> str:
    """index.json: every finding (as `scan --format json` shows it) and where it went."""
    data: dict[str, Any] = {
        "stale_after_seconds": stale_after_seconds,
        "findings": [
            {**p.finding.to_json(), "emitted": {"where": p.where, "detail": p.detail, "line": p.line}}
            for p in placements
        ],
    }
    return json.dumps(data, indent=1, ensure_ascii=True, default=str) + "\n"


def placed(finding: Finding, kind: str) -> Placement:
    """The placement of a finding that needs no build: API, pending, choice (or no command)."""
    if kind in (API, PENDING) and finding.suggested.startswith(NO_COMMAND):
        return Placement(finding, NO_CMD, finding.suggested.removeprefix(NO_COMMAND).lstrip(": "))
    if kind == API:
        return Placement(finding, CONTROLLER, finding.suggested)
    return Placement(finding, kind, finding.suggested)
