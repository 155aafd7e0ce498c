"""What a scan produces: findings, per-check counts, skipped checks, and the exit status.

Frozen dataclasses: the checks build them, the renderers (output.py) and the CLI only read them.
The exit statuses are kept here, in one place, so they can be unified with the other commands'
codes (generator/errors.py: 2 bad input, 3 connection, 4 schema, 5 target, 6 lint).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.errors import ConnectionProblem

EXIT_CLEAN = 0  # every selected check ran and found nothing
EXIT_FOUND = 1  # at least one finding (and every selected check ran)
# A check could not run (database not given or unreachable): never 0, even with no findings.
# Same value as ConnectionProblem: a partial scan is, in every case so far, a connection matter.
EXIT_PARTIAL = ConnectionProblem.exit_code


@dataclass(frozen=True)
class Finding:
    """One inconsistency: `uuid` is the id of what `suggested` repairs (volume, consumer, project...)."""

    check: str
    uuid: str
    service: str
    details: Mapping[str, Any]
    suggested: str

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "uuid": self.uuid,
            "service": self.service,
            "details": dict(self.details),
            "suggested": self.suggested,
        }


@dataclass(frozen=True)
class CheckResult:
    """What one check found and how many rows it examined."""

    findings: tuple[Finding, ...]
    examined: int


@dataclass(frozen=True)
class ScanReport:
    findings: tuple[Finding, ...]
    checked: Mapping[str, int]
    skipped: Mapping[str, str]
    older_than_seconds: int = 3600
    seconds: float = 0.0
    round_trips: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        if self.skipped:
            return EXIT_PARTIAL
        return EXIT_FOUND if self.findings else EXIT_CLEAN

    def to_json(self) -> dict[str, Any]:
        return {
            "findings": [f.to_json() for f in self.findings],
            "checked": dict(self.checked),
            "skipped": dict(self.skipped),
        }


class CheckUnavailable(Exception):
    """A check cannot run here (a database not given or unreachable); the message is the reason."""
