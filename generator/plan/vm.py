"""Dispatch a VM operation to its planner (pure)."""

from __future__ import annotations

from generator.errors import FixpackError
from generator.facts.instance import InstanceFacts
from generator.plan.model import Plan
from generator.plan.vm_common import VmOptions

VM_OPS = ("soft-delete", "purge", "rehost")


def plan_vm(facts: InstanceFacts, options: VmOptions) -> Plan:
    if options.op == "soft-delete":
        from generator.plan.vm_soft_delete import plan_soft_delete

        return plan_soft_delete(facts, options)
    if options.op == "purge":
        from generator.plan.vm_purge import plan_purge

        return plan_purge(facts, options)
    if options.op == "rehost":
        from generator.plan.vm_rehost import plan_rehost

        return plan_rehost(facts, options)
    raise FixpackError(f"unknown VM operation {options.op!r}; expected one of {', '.join(VM_OPS)}")
