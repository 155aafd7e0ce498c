"""Cinder quota usage against Cinder's own recount (what `cinder-manage quota check` reports).

The recount is domain/cinder_quota.py's, release-aware, read as `quota sync` reads it
(facts/volume.py read_usage: one round trip for every project).
"""

from __future__ import annotations

from typing import Any

from generator.domain import cinder_quota
from generator.facts.live import LiveDatabases
from generator.facts.volume import cinder_info, prefer_cell_release, read_usage
from generator.scan import suggest
from generator.scan.context import ScanContext
from generator.scan.model import CheckResult, Finding
from generator.scan.registry import check


def read_all_usage(live: LiveDatabases) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every project's quota rows and recount aggregates (one round trip after the release)."""
    if live.has("nova_api") or live.has("nova"):
        prefer_cell_release(live)  # Cinder's markers are shared by several releases; a cell pins it
    session, info = cinder_info(live)
    return read_usage(session, info, None)


@check(
    "cinder-quota-drift",
    "cinder",
    ("cinder",),
    "quota_usages.in_use that differs from Cinder's own recount",
)
def cinder_quota_drift(ctx: ScanContext) -> CheckResult:
    ctx.require("cinder")
    usages, tables = ctx.cinder_usage(read_all_usage)
    type_names = {r["id"]: r["name"] for r in tables["volume_types"].rows if not r["deleted"]}
    findings = []
    examined = 0
    for project_id, usage in sorted(usages.items()):
        target = cinder_quota.recount(usage.counts, type_names, no_snapshot_gb_quota=ctx.no_snapshot_gb_quota)
        drift = {}
        for row in usage.rows:
            examined += 1
            resource = row["resource"]
            if resource in target and row["in_use"] != target[resource]:
                drift[resource] = {"in_use": row["in_use"], "recount": target[resource]}
        if drift:
            findings.append(
                Finding(
                    "cinder-quota-drift",
                    project_id,
                    "cinder",
                    {"resources": drift},
                    suggest.quota_sync(project_id),
                )
            )
    return CheckResult(tuple(findings), examined)
