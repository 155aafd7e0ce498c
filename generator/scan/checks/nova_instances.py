"""Nova instances by themselves: stuck tasks and hosts that no longer exist."""

from __future__ import annotations

from generator.domain.nova import RUNNING
from generator.scan import suggest
from generator.scan.context import ScanContext
from generator.scan.model import CheckResult, Finding
from generator.scan.registry import check

IRONIC = "ironic"


@check(
    "instance-stuck",
    "nova",
    ("nova",),
    "a live instance whose task state is unchanged for longer than --older-than (or in error with a task)",
)
def instance_stuck(ctx: ScanContext) -> CheckResult:
    live = ctx.instance_index().live
    stale = ctx.stale_tasks()  # Nova updates the row on each task change: older means nobody works on it
    findings = []
    for cell, uuid, row in stale:
        reason = (
            "vm_state error with a task left over"
            if row["vm_state"] == "error"
            else "task state unchanged for longer than --older-than"
        )
        state = "active" if row["vm_state"] == "active" else "error"
        findings.append(
            Finding(
                "instance-stuck",
                uuid,
                "nova",
                {
                    "vm_state": row["vm_state"],
                    "task_state": row["task_state"],
                    "host": row["host"],
                    "cell": cell,
                    "updated_at": row["updated_at"].isoformat(sep=" ") if row["updated_at"] else None,
                    "reason": reason,
                },
                suggest.server_state(uuid, state),
            )
        )
    return CheckResult(tuple(findings), len(live))


@check(
    "instance-on-missing-host",
    "nova",
    ("nova",),
    "a live instance whose host has no nova-compute service row, or only a deleted one",
)
def instance_on_missing_host(ctx: ScanContext) -> CheckResult:
    index = ctx.instance_index()
    # Ironic: the instance's node is a live ironic compute node; the nova-compute service managing it
    # may have changed (hash ring rebalance) while instance.host still names the old one.
    ironic_nodes = {
        (n.cell, n.hypervisor_hostname)
        for n in ctx.compute_nodes()
        if not n.deleted and (n.hypervisor_type or "").lower() == IRONIC
    }
    # no host (shelved_offloaded, cell0, not scheduled yet): no service to look for
    findings = [
        _missing_host(row, cell)
        for cell, row in ctx.live_without_service()
        if row["uuid"] in index.live_by_cell.get(cell, set())  # a uuid live in two cells: the first one's row
        and (cell, row["node"]) not in ironic_nodes
    ]
    return CheckResult(tuple(findings), len(index.live))


def _missing_host(inst: dict, cell: str) -> Finding:
    """The choice: rehost or soft-delete. An instance Nova believes running (active, running, no
    task) is what the rehost's healthy-instance protection refuses: the question it asks (does
    the guest really run where Nova says?) is what this finding answered (no nova-compute there),
    so the rehost, which the operator runs once they know where the guest runs, carries the flag.
    The soft-delete does not: if the guest still runs somewhere, it would leave it unmanaged, so
    its refusal stays for the operator to overrule."""
    looks_healthy = (
        inst["vm_state"] == "active" and inst.get("power_state") == RUNNING and inst.get("task_state") is None
    )
    extra = ("--allow-healthy-instance",) if looks_healthy else ()
    rehost = suggest.fixpack("vm", inst["uuid"], "rehost", "--to-host", "HOST", *extra)
    soft_delete = suggest.fixpack("vm", inst["uuid"], "soft-delete")
    return Finding(
        "instance-on-missing-host",
        inst["uuid"],
        "nova",
        {
            "host": inst["host"],
            "node": inst["node"],
            "cell": cell,
            "vm_state": inst["vm_state"],
            "choice": (
                "if the guest runs on another host: rehost it there (replace HOST); "
                "if it is gone: soft-delete it"
            ),
            "alternative": soft_delete,
        },
        rehost,
    )
