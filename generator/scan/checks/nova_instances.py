"""Nova instances by themselves: stuck tasks and hosts that no longer exist."""

from __future__ import annotations

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
    live = ctx.live_instances()
    findings = []
    for inst in live.values():
        if inst.task_state is None or not ctx.stale(inst.updated_at, "nova"):
            continue  # no task, or a task that may still be running (Nova updates the row on each change)
        reason = (
            "vm_state error with a task left over"
            if inst.vm_state == "error"
            else "task state unchanged for longer than --older-than"
        )
        state = "active" if inst.vm_state == "active" else "error"
        findings.append(
            Finding(
                "instance-stuck",
                inst.uuid,
                "nova",
                {
                    "vm_state": inst.vm_state,
                    "task_state": inst.task_state,
                    "host": inst.host,
                    "cell": inst.cell,
                    "updated_at": inst.updated_at.isoformat(sep=" ") if inst.updated_at else None,
                    "reason": reason,
                },
                suggest.server_state(inst.uuid, state),
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
    live = ctx.live_instances()
    services = ctx.compute_services()
    # Ironic: the instance's node is a live ironic compute node; the nova-compute service managing it
    # may have changed (hash ring rebalance) while instance.host still names the old one.
    ironic_nodes = {
        (n.cell, n.hypervisor_hostname)
        for n in ctx.compute_nodes()
        if not n.deleted and (n.hypervisor_type or "").lower() == IRONIC
    }
    findings = []
    for inst in live.values():
        if inst.host is None:  # shelved_offloaded, cell0, not scheduled yet
            continue
        if inst.host in services.get(inst.cell, set()) or (inst.cell, inst.node) in ironic_nodes:
            continue
        rehost = suggest.fixpack("vm", inst.uuid, "rehost", "--to-host", "HOST")
        soft_delete = suggest.fixpack("vm", inst.uuid, "soft-delete")
        findings.append(
            Finding(
                "instance-on-missing-host",
                inst.uuid,
                "nova",
                {
                    "host": inst.host,
                    "node": inst.node,
                    "cell": inst.cell,
                    "vm_state": inst.vm_state,
                    "choice": (
                        "if the guest runs on another host: rehost it there (replace HOST); "
                        "if it is gone: soft-delete it"
                    ),
                    "alternative": soft_delete,
                },
                rehost,
            )
        )
    return CheckResult(tuple(findings), len(live))
