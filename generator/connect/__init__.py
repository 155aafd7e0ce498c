"""Connect stage: resolve where each database is and open read-only sessions."""

from __future__ import annotations

from generator.connect.session import RoundTrips, Session
from generator.connect.sources import ConnectionTargets, ResolvedURL
from generator.connect.urls import DatabaseURL


def open_session(
    target: ResolvedURL | DatabaseURL,
    targets: ConnectionTargets,
    *,
    label: str | None = None,
    counter: RoundTrips | None = None,
) -> Session:
    """A read-only session for one resolved database URL."""
    url = target.url if isinstance(target, ResolvedURL) else target
    name = label or (target.kind if isinstance(target, ResolvedURL) else "database")
    if not url.database:
        from generator.errors import ConnectionProblem

        raise ConnectionProblem(f"{name}: the URL names no database ({url.redacted()})")
    return Session(url, label=name, defaults_file=targets.defaults_file, counter=counter)
