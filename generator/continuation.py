"""`fixpack continue`: a continuation bundle for what a partially applied live bundle has left to do.

A live apply stops at the first chunk whose rows changed since generation
(another writer). One way to settle it is to put the row back and re-run the
apply; the other is this: measure the original bundle read-only (exactly as
`fixpack verify` does) to learn which chunks it applied and which are
pending, then plan the same repair again against the rows as they are now —
the drifted row included, as it now is — and write a normal bundle (its own
prechecks, guards, verify and rollback). The chunks the original applied are
already in their final state, so the new plan no longer names them; the
original bundle's rollback still restores exactly those chunks (and says
"not applied, nothing to undo" for the others).

Supported: live VM bundles (soft-delete, purge, rehost) of one instance —
what the re-plan needs is recorded in the manifest. Anything else is refused
with one line. The rows the new plan changes are compared with the rows of
the original's pending steps; every difference is a finding in the new
bundle's runbook and in the command's output.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from generator.errors import FixpackError
from generator.ops.operations import Operation
from generator.pipeline import BundleResult, OutputOptions, generate
from generator.plan.model import Plan
from generator.plan.overrides import from_record
from generator.plan.vm import VM_OPS
from generator.plan.vm_common import VmOptions
from generator.render import writeset
from generator.review import drift
from generator.review.bundle import Bundle
from generator.review.verify import DONE, VerifyReport, verify_bundle

Keys = dict[tuple[str, str], set[tuple[str, ...]]]  # (role, table) -> primary keys, as text


@dataclasses.dataclass(frozen=True)
class Remaining:
    """What the original bundle has left, per database role: chunk numbers and the rows of pending steps."""

    bundle_id: str
    applied: dict[str, tuple[int, ...]]
    pending: dict[str, tuple[int, ...]]
    pending_keys: Keys


def _refuse_unless_partial(bundle: Bundle, report: VerifyReport) -> None:
    if report.tampered:
        raise FixpackError(f"{bundle.bundle_id}: files differ from the manifest (fixpack verify names them)")
    for d in report.live or ():
        if d.problem:
            raise FixpackError(f"{bundle.bundle_id}: {d.role} not checked: {d.problem}")
        if not d.schema_ok:
            raise FixpackError(f"{bundle.bundle_id}: the {d.role} schema changed since generation")
        if d.inconsistent_chunks:
            raise FixpackError(
                f"{bundle.bundle_id}: {d.role} chunk {d.inconsistent_chunks[0]} is partly done, partly "
                "pending; inspect it with `fixpack verify` first"
            )
    if not any(d.chunks["pending"] for d in report.live or ()):
        raise FixpackError(f"{bundle.bundle_id}: already applied: nothing remains to continue")
    if not any(d.chunks["applied"] for d in report.live or ()):
        raise FixpackError(
            f"{bundle.bundle_id}: no chunk of it is applied: nothing to continue; generate a new bundle "
            "(fixpack vm …) instead"
        )


def remaining(bundle: Bundle, report: VerifyReport) -> Remaining:
    """Chunks applied/pending per database and the primary keys of every step still pending."""
    keys: Keys = {}
    schemas = bundle.recorded_schemas
    for d in report.live or ():
        schema = schemas.get(d.role)
        for guard, check in zip(bundle.guards.get(d.role, []), d.guards, strict=False):
            if check.state == DONE or guard.get("check_only") or schema is None:
                continue
            table = schema.table(guard["table"])
            found = drift.condition_keys(guard.get("key_condition", ""), table.primary_key)
            keys.setdefault((d.role, table.name), set()).update(found or ())
    live = report.live or []
    return Remaining(
        bundle.bundle_id,
        {d.role: tuple(d.chunks["applied"]) for d in live},
        {d.role: tuple(d.chunks["pending"]) for d in live},
        keys,
    )


def _text_key(values: tuple) -> tuple[str, ...]:
    return tuple(
        bytes(v).decode("utf-8", "replace") if isinstance(v, bytes | bytearray) else str(v) for v in values
    )


def planned_keys(operations: tuple[Operation, ...]) -> Keys:
    out: Keys = {}
    for op in operations:
        for before, after in writeset.images(op):  # the rows the step writes (a lock-only step: none)
            row = before if before is not None else after
            if row is not None:
                out.setdefault((op.database, op.table), set()).add(_text_key(row.key(op.key)))
    return out


def differences(left: Remaining, planned: Keys) -> list[str]:
    """Rows the new plan changes beyond the original's pending steps, and pending rows it leaves."""
    out = []
    for (role, table), keys in sorted(planned.items()):
        extra = keys - left.pending_keys.get((role, table), set())
        if extra:
            out.append(
                f"{role}.{table}: {len(extra)} row(s) the original bundle did not name (they appeared or "
                "changed since it was generated); this bundle changes them too"
            )
    for (role, table), keys in sorted(left.pending_keys.items()):
        gone = keys - planned.get((role, table), set())
        if gone:
            out.append(
                f"{role}.{table}: {len(gone)} row(s) of the original's pending steps need no change now "
                "(already as the repair leaves them, or gone); this bundle leaves them alone"
            )
    return out


def _annotate(plan: Plan, left: Remaining, extra: list[str]) -> Plan:
    chunks = "; ".join(
        f"{role}: applied {list(left.applied[role]) or 'none'}, pending {list(left.pending[role]) or 'none'}"
        for role in left.applied
    )
    finding = (
        f"continuation of bundle {left.bundle_id} ({chunks}): this bundle plans what remains again against "
        "the rows as they are now; roll it back first, then the original bundle, to undo everything"
    )
    return dataclasses.replace(
        plan,
        findings=(finding, *extra, *plan.findings),
        options={**plan.options, "continues": left.bundle_id},
    )


def generate_continuation(
    bundle_path: str | Path,
    targets,
    output: OutputOptions,
    *,
    instance_name_template: str | None = None,
    instances_path: str | None = None,
) -> tuple[BundleResult, Remaining]:
    """Measure the original read-only, re-plan what remains, write the continuation bundle."""
    from generator.facts.instance import read_instance
    from generator.plan.vm import plan_vm

    bundle = Bundle.open(bundle_path)
    target = bundle.manifest.get("target", {})
    if bundle.mode != "live":
        raise FixpackError(f"{bundle.bundle_id}: {bundle.mode} bundle: only live bundles can be continued")
    if target.get("kind") != "vm" or target.get("op") not in VM_OPS or len(target.get("ids", [])) != 1:
        raise FixpackError(
            f"{bundle.bundle_id}: only live VM bundles of one instance can be continued (this one: "
            f"{target.get('kind')} {target.get('op')}, {len(target.get('ids', []))} target(s))"
        )
    if targets is None or not targets.any:
        raise FixpackError("give the databases the bundle was applied to (connection options)")
    report = verify_bundle(bundle, targets)
    _refuse_unless_partial(bundle, report)
    left = remaining(bundle, report)
    recorded = bundle.manifest.get("options", {})
    extra: dict[str, object] = {}
    if instance_name_template is not None:
        extra["instance_name_template"] = instance_name_template
    if instances_path is not None:
        extra["instances_path"] = instances_path
    allow, stale_after = from_record(recorded, "vm")
    options = VmOptions(
        op=target["op"],
        allow=allow,
        stale_after=stale_after,
        to_host=recorded.get("to_host"),
        to_node=recorded.get("to_node"),
        include_shadow=bool(recorded.get("include_shadow")),
        **extra,  # type: ignore[arg-type]
    )
    uuid = target["ids"][0]
    notes: list[str] = []

    def plan(facts: object) -> Plan:
        planned = plan_vm(facts, options)  # type: ignore[arg-type]
        notes.extend(differences(left, planned_keys(planned.operations)))
        return _annotate(planned, left, notes)

    result = generate(
        targets,
        "auto",
        output,
        read=lambda live: read_instance(
            live, uuid, to_host=options.to_host, include_shadow=options.include_shadow
        ),
        plan=plan,
    )
    return result, left
