"""The registry of scan checks: one entry per check id, each with the databases it needs.

A check is a function of the ScanContext returning a CheckResult; it is registered with
`@check(...)` in one of the modules of generator/scan/checks/ (grouped by service).
Adding a check is adding a function there and its id to CHECK_IDS.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from generator.scan.context import ScanContext
from generator.scan.model import CheckResult

# The order (#12): also the order of the table output.
CHECK_IDS = (
    "volume-attached-to-deleted-instance",
    "bdm-without-volume",
    "volume-stuck",
    "instance-stuck",
    "allocation-orphaned",
    "instance-without-mapping",
    "mapping-without-instance",
    "instance-on-missing-host",
    "provider-without-compute-node",
    "cinder-quota-drift",
    "build-request-stale",
)
_MODULES = ("cinder_volumes", "nova_instances", "nova_api", "placement", "cinder_quota")

RunFn = Callable[[ScanContext], CheckResult]


@dataclass(frozen=True)
class Check:
    id: str
    service: str
    needs: tuple[str, ...]  # roles: nova_api, nova (every cell), placement, cinder
    summary: str
    run: RunFn


_CHECKS: dict[str, Check] = {}


def check(check_id: str, service: str, needs: tuple[str, ...], summary: str) -> Callable[[RunFn], RunFn]:
    if check_id not in CHECK_IDS:
        raise ValueError(f"unknown check id {check_id!r}: add it to CHECK_IDS")

    def register(fn: RunFn) -> RunFn:
        if check_id in _CHECKS:
            raise ValueError(f"check {check_id!r} registered twice")
        _CHECKS[check_id] = Check(check_id, service, needs, summary, fn)
        return fn

    return register


def all_checks() -> tuple[Check, ...]:
    """Every registered check, in CHECK_IDS order (imports the check modules once)."""
    for name in _MODULES:
        importlib.import_module(f"generator.scan.checks.{name}")
    missing = [c for c in CHECK_IDS if c not in _CHECKS]
    if missing:
        raise RuntimeError(f"checks without an implementation: {', '.join(missing)}")
    return tuple(_CHECKS[c] for c in CHECK_IDS)
