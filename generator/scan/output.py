"""The scan report for a person (table) and for a program (JSON).

Every database value reaches the terminal through `terminal()` (one line, control and bidi
characters escaped) and reasons through `mask_text` (no password from a URL); the JSON is
ASCII-only, so no control or bidi character reaches a terminal that prints it raw either.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from generator.domain.staleness import format_duration
from generator.quoting import terminal
from generator.scan.model import ScanReport
from generator.scan.registry import CHECK_IDS
from generator.secrets import mask_text


def render_json(report: ScanReport) -> str:
    data = report.to_json()
    data["skipped"] = {k: mask_text(v) for k, v in data["skipped"].items()}
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=True, default=str) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    return terminal(value)


def render_table(report: ScanReport) -> str:
    """Findings grouped by check, each with its details on one line and its repair command."""
    lines: list[str] = []
    order = {c: i for i, c in enumerate(CHECK_IDS)}
    findings = sorted(report.findings, key=lambda f: (order.get(f.check, 99), f.uuid))
    current = None
    for f in findings:
        if f.check != current:
            current = f.check
            count = sum(1 for x in findings if x.check == f.check)
            lines += ["" if lines else None, f"{f.check} ({count})"]  # type: ignore[list-item]
        lines.append(f"  {terminal(f.uuid)}  [{f.service}]")
        details = "  ".join(f"{k}={_value(v)}" for k, v in f.details.items() if v not in (None, "", [], {}))
        if details:
            lines.append(f"      {details}")
        lines.append(f"      fix: {terminal(f.suggested)}")
    lines = [line for line in lines if line is not None]
    if lines:
        lines.append("")
    ran = ", ".join(f"{cid} {report.checked[cid]}" for cid in CHECK_IDS if cid in report.checked)
    lines.append(f"rows examined: {ran or 'none'}")
    for cid, reason in report.skipped.items():
        lines.append(f"SKIPPED {cid}: {terminal(mask_text(reason))}")
    stale_after = format_duration(dt.timedelta(seconds=report.older_than_seconds))
    verdict = (
        f"{len(report.findings)} finding(s)" if report.findings else "no findings"
    ) + f" in {len(report.checked)} check(s) (stale after {stale_after})"
    if report.skipped:
        verdict += f"; {len(report.skipped)} check(s) could NOT run: this scan is incomplete"
    lines.append(f"scan: {verdict}")
    return "\n".join(lines) + "\n"
