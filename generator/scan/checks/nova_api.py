"""nova_api against the cells: instance mappings and build requests."""

from __future__ import annotations

import datetime as dt

from generator.scan import suggest
from generator.scan.context import ScanContext
from generator.scan.model import CheckResult, Finding
from generator.scan.registry import check

_NOWHERE = object()  # no cell id: equal to no mapping's


def _iso(value: object) -> str | None:
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else None


@check(
    "instance-without-mapping",
    "nova",
    ("nova_api", "nova"),
    "a live instance in a cell that nova_api does not map to that cell",
)
def instance_without_mapping(ctx: ScanContext) -> CheckResult:
    mappings = ctx.mappings()
    builds = ctx.build_requests()
    index = ctx.instance_index()
    findings = []
    cell_ids = mappings.cell_ids
    for inst_cell, uuids in index.live_by_cell.items():
        # the mapped-elsewhere-or-not-at-all ones, found with one dict look-up each; then each looked at
        here: object = mappings.cell_id_of(inst_cell)
        here = _NOWHERE if here is None else here
        odd = sorted(u for u in uuids if cell_ids.get(u, _NOWHERE) != here)
        for uuid in odd:
            mapped = mappings.get(uuid)
            if mapped is not None:
                cell, created = mapped
                if cell is None and (uuid in builds or not ctx.stale(created, "nova_api")):
                    continue  # conductor created the instance and is about to set the mapping's cell
                details = {
                    "cell": inst_cell,
                    "mapped_to": cell or "no cell",
                    "then": suggest.map_instances(inst_cell),
                }
                fix = suggest.fixpack("mapping", uuid, "delete", *suggest.stale_after(ctx.older_than))
            else:
                details = {"cell": inst_cell, "mapped_to": "no mapping"}
                fix = suggest.map_instances(inst_cell)
            findings.append(Finding("instance-without-mapping", uuid, "nova_api", details, fix))
    return CheckResult(tuple(findings), len(index.live) + len(mappings))


@check(
    "mapping-without-instance",
    "nova_api",
    ("nova_api", "nova"),
    "an instance mapping with no instance row in any cell (a mapping without a cell: once no build runs)",
)
def mapping_without_instance(ctx: ScanContext) -> CheckResult:
    mappings = ctx.mappings()
    builds = ctx.build_requests()
    known = ctx.instance_index().known
    # a deleted instance keeps its mapping until archived; build requests: see below
    odd = mappings.cell_ids.keys() - known - builds.keys()
    findings = []
    for uuid in [u for u in mappings.cell_ids if u in odd] if odd else ():
        cell, created = mappings.get(uuid) or (None, None)
        if cell is None and not ctx.stale(created, "nova_api"):
            continue  # scheduling: the mapping gets its cell when the instance is created
        findings.append(
            Finding(
                "mapping-without-instance",
                uuid,
                "nova_api",
                {"cell": cell or "no cell", "created_at": _iso(created)},
                suggest.fixpack("mapping", uuid, "delete", *suggest.stale_after(ctx.older_than)),
            )
        )
    return CheckResult(tuple(findings), len(mappings) + len(known))


@check(
    "build-request-stale",
    "nova_api",
    ("nova_api", "nova"),
    "a build request older than --older-than with no live instance in any cell",
)
def build_request_stale(ctx: ScanContext) -> CheckResult:
    builds = ctx.build_requests()
    index = ctx.instance_index()
    live = index.live
    findings = []
    for uuid, created in builds.items():
        if uuid in live or not ctx.stale(created, "nova_api"):
            continue
        findings.append(
            Finding(
                "build-request-stale",
                uuid,
                "nova_api",
                {"created_at": _iso(created), "instance": "deleted" if uuid in index.known else "none"},
                suggest.fixpack("mapping", uuid, "delete", *suggest.stale_after(ctx.older_than)),
            )
        )
    return CheckResult(tuple(findings), len(builds))
