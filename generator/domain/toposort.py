"""Kahn's topological sort that names the cycle when there is one (as Django's does)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from generator.errors import SchemaProblem


def topological_order(nodes: Iterable[str], depends_on: Mapping[str, Iterable[str]]) -> list[str]:
    """Order nodes so each comes after everything it depends on; ties broken by name.

    `depends_on[a]` lists the nodes that must come before `a`.
    """
    nodes = sorted(set(nodes))
    deps = {n: {d for d in depends_on.get(n, ()) if d in nodes and d != n} for n in nodes}
    users: dict[str, set[str]] = {n: set() for n in nodes}
    for n, ds in deps.items():
        for d in ds:
            users[d].add(n)
    ready = sorted(n for n in nodes if not deps[n])
    out: list[str] = []
    while ready:
        n = ready.pop(0)
        out.append(n)
        for u in sorted(users[n]):
            deps[u].discard(n)
            if not deps[u]:
                ready.append(u)
                ready.sort()
    if len(out) != len(nodes):
        raise SchemaProblem("foreign keys form a cycle: " + " -> ".join(_find_cycle(deps)))
    return out


def _find_cycle(deps: Mapping[str, set[str]]) -> list[str]:
    remaining = {n for n, ds in deps.items() if ds}
    start = min(remaining)
    path, seen = [start], {start}
    node = start
    while True:
        node = min(d for d in deps[node] if d in remaining)
        if node in seen:
            return [*path[path.index(node) :], node]
        path.append(node)
        seen.add(node)
