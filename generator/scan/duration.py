"""`--older-than` durations: `90s`, `45m`, `1h`, `2d`, `1h30m`, or plain seconds.

Kept in one small function so the project's single staleness definition can take it over.
"""

from __future__ import annotations

import datetime as dt
import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d{1,9})([smhdw])")
MAX_SECONDS = 10 * 365 * 86400


def parse_duration(text: str) -> dt.timedelta:
    """A duration from `text`; ValueError (one line, naming the value) when it is not one."""
    value = text.strip().lower()
    if value.isdigit():
        seconds = int(value)
    else:
        parts = _PART.findall(value)
        if not value or "".join(n + u for n, u in parts) != value:
            raise ValueError(f"not a duration: {text!r} (expected e.g. 90s, 45m, 1h, 2d, 1h30m)")
        seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if seconds > MAX_SECONDS:
        raise ValueError(f"duration {text!r} is longer than 10 years")
    return dt.timedelta(seconds=seconds)
