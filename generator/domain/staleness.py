"""When a transitional state is stuck: the one staleness rule of fixpack.

A row in a transitional state (a Cinder volume `attaching`, `detaching`,
`deleting`, `creating`, ...; a Nova instance with a `task_state`) is someone's
work in progress until nobody has touched it for a while: the services update
`updated_at` whenever they move the row on. Every planner (and a future
`fixpack scan`) asks this module, with the same threshold, whether such a row
is *stale* — nobody's work any more, so a repair may take it — or *recent*,
refused unless the operator passes `--allow-recent-transition`. The threshold
is set with `--stale-after` (default one hour, the rule that used to cover only
`detaching`), and a refusal says the time from which the row would be accepted.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

DEFAULT_STALE_AFTER = dt.timedelta(hours=1)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+)([smhdw])")
MAX_DURATION = dt.timedelta(days=10 * 365)


def parse_duration(text: str) -> dt.timedelta:
    """`90s`, `30m`, `1h`, `2h30m`, `1d`, `1w`: ValueError (one line) for anything else, zero, or
    more than ten years. The one reader of `--stale-after` and `scan --older-than`."""
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    if not parts or _DURATION.sub("", compact):
        raise ValueError(f"not a duration: {text!r} (expected e.g. 90m, 1h, 2h30m, 1d)")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in parts)
    if seconds <= 0:
        raise ValueError(f"not a positive duration: {text!r}")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"duration {text!r} is longer than 10 years")
    return dt.timedelta(seconds=seconds)


def format_duration(value: dt.timedelta) -> str:
    """The shortest exact spelling `parse_duration` reads back (1h, 90m, 1h30m, 45s)."""
    seconds = int(value.total_seconds())
    out = ""
    for unit in ("w", "d", "h", "m", "s"):
        n, seconds = divmod(seconds, _UNITS[unit])
        if n:
            out += f"{n}{unit}"
    return out or "0s"


def ago(age: dt.timedelta | None) -> str:
    """A human age: `12 min`, `6 h`, `3 d` (callers say "never" for a missing timestamp)."""
    if age is None:
        return "an unknown time"
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 72 else f"{hours // 24} d"


def utc(moment: dt.datetime) -> str:
    """A database timestamp (naive, UTC: fixpack's sessions run with time_zone +00:00)."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Transition:
    """One row's transitional state as judged at `read_at`."""

    state: str
    updated_at: dt.datetime | None
    age: dt.timedelta | None  # None: the row was never updated (stale: nobody is on it)
    stale_after: dt.timedelta

    @property
    def stale(self) -> bool:
        return self.age is None or self.age >= self.stale_after

    @property
    def accepted_at(self) -> dt.datetime | None:
        """When the row becomes stale (None: it already is)."""
        if self.stale or self.updated_at is None:
            return None
        return self.updated_at + self.stale_after

    def since(self) -> str:
        if self.updated_at is None:
            return "never updated"
        return f"last updated {utc(self.updated_at)}, {ago(self.age)} ago"

    def accepted_without(self, flag: str) -> str:
        """`accepted without --allow-… after 2026-12-05 03:12 UTC (--stale-after 1h)`."""
        at = self.accepted_at
        if at is None:
            return ""
        return f"accepted without {flag} after {utc(at)} (--stale-after {format_duration(self.stale_after)})"


def judge(
    state: str, updated_at: dt.datetime | None, read_at: dt.datetime, stale_after: dt.timedelta
) -> Transition:
    """The state's age at `read_at` (the database's own clock, read with the facts)."""
    age = read_at - updated_at if updated_at is not None else None
    return Transition(state, updated_at, age, stale_after)


def recently_updated_sql(stale_after: dt.timedelta, column: str = "updated_at"):
    """The same rule for offline files, judged by the database clock when they run.

    `updated_at > UTC_TIMESTAMP() - INTERVAL n SECOND`; a NULL `updated_at` is not recent (never touched:
    stale), as in `judge`.
    """
    from sqlglot import exp

    seconds = int(stale_after.total_seconds())
    return exp.GT(
        this=exp.column(column),
        expression=exp.Sub(
            this=exp.Anonymous(this="UTC_TIMESTAMP", expressions=[]),
            expression=exp.Interval(this=exp.Literal.number(seconds), unit=exp.Var(this="SECOND")),
        ),
    )
