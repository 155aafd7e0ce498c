"""VM rehost: point an instance at the host it really runs on after a failed migrate/resize.

The Vietnamese runbook's `UPDATE instances SET host=…, node=…` done safely:

* the target is validated: an enabled, not forced-down nova-compute service
  on --to-host and its compute node (--to-node when the host has several);
  both rows are locked and must still be so when the apply runs;
* the cell writes Nova makes when the move ends, declared once per outcome in
  vm_rehost_states.py (the offline rehost emits the same): host, node and, from 2023.2,
  compute_id; the move's end status, the other unfinished migrations closed 'error'; the
  flavor, vm_state and migration context side the outcome keeps (vm_rehost_context.py); a
  live migration's task_state cleared; console tokens, stashed old_vm_state, power-off and
  the evacuation's end; a reverted resize's RequestSpec back at the old flavor (vm_rehost_spec.py);
* placement: the instance's allocations on compute-node providers move to the
  target node's provider (an existing allocation of the same class there
  wins); allocations still held by the instance's migrations (Nova's move
  swaps the source allocations to the migration consumer) are freed;
  and the generations (with updated_at) of the providers and consumer an
  allocation write visits are bumped as placement does (allocation.py _set_allocations).
"""

from __future__ import annotations

import json

from generator.domain import nova
from generator.errors import TargetProblem
from generator.facts.instance import InstanceFacts
from generator.facts.model import DatabaseFacts
from generator.ops.operations import ApplyTime, Assignment, CheckRows, Operation, SetValue
from generator.ops.rows import Row
from generator.plan import builders as b
from generator.plan.model import Plan, Postcondition
from generator.plan.overrides import override_record
from generator.plan.vm_common import VmOptions, api_first, refuse_unless_repairable
from generator.plan.vm_rehost_context import applied_context
from generator.plan.vm_rehost_hostside import after_apply_steps, left_host, rehost_controller, source_cleanup
from generator.plan.vm_rehost_outcome import (
    bump_generations,
    check_capacity,
    flavor_changes,
    infer,
    move_back,
    move_side_effects,
    reverted_vm_state,
    target_provider,
    target_zone,
)
from generator.plan.vm_rehost_spec import revert_request_spec
from generator.plan.vm_rehost_states import (
    CLOSE_OTHERS,
    CONTEXT_SIDES,
    DROP_CONTEXT,
    END_LIVE_MIGRATION,
    EVACUATED,
    FLAVOR_SIDES,
    NONE_OPEN,
    POINTS,
    POWER_OFF,
    RESIZE_ENDER,
    REVERTED,
    WAITS,
    Write,
    context_words,
    end_move,
    evacuated,
    point_at,
    resize_end,
    settled,
)
from generator.plan.vm_soft_delete import database_target
from generator.sqlgen.evaluate import matches

IN_PROGRESS = nova.MIGRATION_IN_PROGRESS


def _target_node(facts: InstanceFacts, options: VmOptions) -> tuple[Row, Row]:
    host = facts.target_host
    assert host is not None
    services = host.services
    if not services:
        raise TargetProblem(f"--to-host {host.host}: no nova-compute service is registered on that host")
    service = services[0]
    if service["disabled"]:
        raise TargetProblem(
            f"--to-host {host.host}: its nova-compute service is disabled "
            f"({service.get('disabled_reason') or 'no reason given'}); enable it first"
        )
    if service.get("forced_down"):
        raise TargetProblem(f"--to-host {host.host}: its nova-compute service is forced down")
    nodes = [n for n in host.compute_nodes if options.to_node in (None, n["hypervisor_hostname"])]
    if not nodes:
        wanted = f" named {options.to_node}" if options.to_node else ""
        raise TargetProblem(f"--to-host {host.host}: no compute node{wanted} on that host")
    if len(nodes) > 1:
        names = ", ".join(n["hypervisor_hostname"] for n in nodes)
        raise TargetProblem(
            f"--to-host {host.host} has several compute nodes ({names}); pick one with --to-node"
        )
    return service, nodes[0]


def _update(cell: DatabaseFacts, w: Write, rows: list[Row]) -> Operation | None:
    return b.update(cell, w.table, rows, w.changes, scope=None, purpose=w.purpose)


def plan_rehost(facts: InstanceFacts, options: VmOptions) -> Plan:
    warnings = refuse_unless_repairable(facts, options)
    u = facts.uuid
    cell = facts.cell
    inst = facts.instance
    service, node = _target_node(facts, options)
    outcome = infer(facts, node["host"], node["hypervisor_hostname"], options, warnings)
    ended = outcome.migration
    waits = outcome.is_(WAITS)  # finish_resize: confirm/revert next
    there = inst["host"] == node["host"] and inst["node"] == node["hypervisor_hostname"]
    settled_resize = ended is not None and waits and ended["status"] == "finished"
    if there and (ended is None or settled_resize):
        hint = (
            "; confirm or revert the resize with `openstack server resize confirm|revert`"
            if settled_resize
            else ""
        )
        raise TargetProblem(
            f"instance {u} already points at {node['host']} / {node['hypervisor_hostname']}{hint}"
        )
    findings = [
        f"instance {u} ({inst['display_name']!r}) points at host={inst['host']} node={inst['node']}; "
        f"moving it to host={node['host']} node={node['hypervisor_hostname']} "
        f"(compute node id {node['id']}, service {service['id']} enabled)"
    ]

    ops: list[Operation] = [
        CheckRows(
            "nova",
            "services",
            b.key_of(cell, "services"),
            "the target nova-compute service, enabled",
            rows=(service,),
            columns=tuple(
                c for c in ("id", "host", "binary", "disabled", "forced_down", "deleted") if c in service
            ),
        ),
        CheckRows(
            "nova",
            "compute_nodes",
            b.key_of(cell, "compute_nodes"),
            "the target compute node",
            rows=(node,),
            columns=tuple(c for c in ("id", "uuid", "host", "hypervisor_hostname", "deleted") if c in node),
        ),
    ]
    if ended is not None:
        findings.append(
            f"{outcome.move} {ended['uuid'] or ended['id']} ({ended['status']}) from "
            f"{ended['source_compute']} to {ended['dest_compute']}: --to-host {node['host']} means it "
            f"{outcome.kind}; status {outcome.end_status!r} as Nova leaves it"
        )
        ops += b.present(_update(cell, end_move(outcome.kind, (outcome.move,)), [ended]))
    migrations = [
        m
        for m in cell.rows("migrations")
        if m["deleted"] == 0 and m["status"] in IN_PROGRESS and (ended is None or m["id"] != ended["id"])
    ]
    if op := _update(cell, CLOSE_OTHERS, migrations):
        ops.append(op)
        findings.append(
            f"migrations: {len(migrations)} other unfinished ({', '.join(m['status'] for m in migrations)}) "
            "to close"
        )
    flavor_cols: dict = {}
    extra_changes: dict[str, Assignment] = {}
    extra_row = None
    if outcome.side(FLAVOR_SIDES):
        flavor_cols, extra_row, flavor_text, note = flavor_changes(facts, outcome)
        findings.append(note)
        if flavor_text is not None:
            extra_changes["flavor"] = SetValue(flavor_text)
        if outcome.kind == REVERTED and flavor_cols and extra_row is not None:
            ops += b.present(revert_request_spec(facts, json.loads(extra_row["flavor"])["old"], warnings))
    applied = applied_context(facts, outcome, warnings)
    if applied:
        extra_changes.update({c: SetValue(v) for c, v in applied.items()})
        findings.append("instance_extra " + context_words(str(outcome.side(CONTEXT_SIDES)), list(applied)))
    extra = [e for e in cell.rows("instance_extra") if e["deleted"] == 0]
    if not waits and any(e.get("migration_context") for e in extra):
        extra_changes.update(DROP_CONTEXT.assignments)
    op = b.update(
        cell,
        "instance_extra",
        [e for e in extra if extra_row is None or e["id"] == extra_row["id"]] if extra_changes else [],
        {**extra_changes, "updated_at": ApplyTime()},
        scope=None,
        purpose="drop the stale migration context; set the flavor and resources the outcome leaves",
    )
    if op:
        ops.append(op)
    compute_id = SetValue(node["id"]) if cell.schema.table("instances").has_column("compute_id") else None
    point = point_at(node["host"], node["hypervisor_hostname"], compute_id)
    changes = point.changes
    changes.update({c: SetValue(v) for c, v in flavor_cols.items() if inst.get(c) != v})
    zone, zone_note = target_zone(facts, options)
    if zone is None:
        warnings.append(zone_note)
    else:
        findings.append(zone_note)
        if inst.get("availability_zone") != zone:
            changes["availability_zone"] = SetValue(zone)
    moved_state: list = [b.eq("availability_zone", zone)] if zone is not None else []
    side = outcome.side(FLAVOR_SIDES)
    if side is not None:
        vm_state = nova.RESIZED if waits else reverted_vm_state(facts)
        more = resize_end(side, SetValue(vm_state))
        note = f"vm_state {vm_state!r}, task_state NULL: as {RESIZE_ENDER[side]} leaves it" + (
            "; then `openstack server resize confirm` (or revert)" if waits else ""
        )
        if vm_state == nova.STOPPED and inst.get("power_state") != nova.SHUTDOWN:
            more.update(POWER_OFF.assignments)
            note += "; " + POWER_OFF.purpose
        findings.append(note)
    elif outcome.is_(EVACUATED):
        more, note = evacuated(inst["vm_state"] == nova.STOPPED)
        findings.append(
            f"{note}; migration 'done' so the source's nova-compute, when it starts, destroys the guest left "
            "there"
        )
    else:
        more = {}
    changes.update(more)
    moved_state += [b.is_null(c) if v is None else b.eq(c, v) for c, v in settled(more)]
    live_migrating = all(matches(t, inst) for t in END_LIVE_MIGRATION.rows)
    if live_migrating and not outcome.is_(EVACUATED):
        changes.update(END_LIVE_MIGRATION.assignments)
        findings.append(
            f"task_state 'migrating' (progress {inst['progress']}): the live migration ended on the host the "
            "guest runs on; task_state NULL and progress 0, as Nova's post_live_migration_at_destination "
            "(or _rollback_live_migration on the source) saves them"
        )
    ops += move_side_effects(facts, outcome)
    op = b.update(
        cell,
        "instances",
        [inst],
        changes,
        scope=b.scope_where(f"instances.uuid = '{u}'", b.eq("uuid", u)),
        stays_in_scope=True,
        purpose=point.purpose,
    )
    assert op is not None
    ops.append(op)
    cond = [b.eq("uuid", u), b.eq("host", node["host"]), b.eq("node", node["hypervisor_hostname"])]
    if "compute_id" in changes:
        cond.append(b.eq("compute_id", node["id"]))
    if live_migrating:
        cond += [b.is_null("task_state"), b.eq("progress", 0)]
    cond += [b.eq(c, v) for c, v in flavor_cols.items()] + moved_state
    posts = [
        Postcondition("nova", POINTS, b.count_is("instances", 1, *cond)),
        Postcondition(
            "nova",
            NONE_OPEN,
            b.count_is(
                "migrations",
                1 if waits else 0,
                b.eq("instance_uuid", u),
                b.eq("deleted", 0),
                b.isin("status", IN_PROGRESS),
            ),
        ),
    ]

    placement_ops: list[Operation] = []
    if facts.placement is not None:
        keep = ended["uuid"] if ended is not None and waits else None
        reown = ended["uuid"] if ended is not None and outcome.kind == REVERTED else None
        every_migration = [m["uuid"] for m in cell.rows("migrations") if m["uuid"] and m["uuid"] != keep]
        placement_ops, more_posts, notes = _placement_moves(facts, node, every_migration, reown, options)
        posts += more_posts
        warnings += notes
    else:
        warnings.append(
            "no placement database was given: the instance's allocations stay on the old provider; "
            "fix them with `openstack resource provider allocation set` or regenerate with "
            "--placement-url"
        )
    warnings += after_apply_steps(facts, node["host"], left_host(facts, node["host"], ended))
    dbs = [database_target(cell)]
    if facts.api is not None and any(o.database == "nova_api" for o in ops):
        dbs.append(database_target(facts.api))
    dbs += [database_target(facts.placement)] if facts.placement else []
    return Plan(
        target_kind="vm",
        op="rehost",
        targets=(u,),
        mode="live",
        release=cell.release,
        databases=tuple(dbs),
        operations=tuple(ops + placement_ops),
        postconditions=tuple(posts),
        findings=tuple(findings),
        warnings=tuple(warnings),
        api_first=api_first(facts, options),
        compute=source_cleanup(facts, options, node["host"], ended),
        controller=rehost_controller(facts, node["host"]),
        options={"to_host": node["host"], "to_node": node["hypervisor_hostname"], **override_record(options)},
    )


def _placement_moves(
    facts: InstanceFacts, node: Row, migration_consumers: list[str], reown: str | None, options: VmOptions
) -> tuple[list[Operation], list[Postcondition], list[str]]:
    """Allocations after the rehost. A reverted move whose migration consumer holds the source
    allocations gets them back, the instance's destination ones dropped (report.py
    move_allocations(migration, instance), as _revert_allocation does); otherwise the instance's
    compute-node allocations move to the target and every migration consumer is freed."""
    p = facts.placement
    assert p is not None
    held = [a for a in p.rows("allocations") if reown is not None and a["consumer_id"] == reown]
    if held:
        return move_back(facts, node, held, [m for m in migration_consumers if m != reown])
    host = facts.target_host
    assert host is not None
    u = facts.uuid
    target_rp = target_provider(p, node)
    source_uuids = {n["uuid"] for n in host.source_nodes}
    source_rps = {r["id"] for r in p.rows("resource_providers") if r["uuid"] in source_uuids}
    source_rps.discard(target_rp["id"])
    mine = [a for a in p.rows("allocations") if a["consumer_id"] == u]
    on_target = {a["resource_class_id"] for a in mine if a["resource_provider_id"] == target_rp["id"]}
    move: list[Row] = []
    drop: list[Row] = []
    left: list[Row] = []
    for a in mine:
        if a["resource_provider_id"] == target_rp["id"]:
            continue
        if a["resource_provider_id"] in source_rps:
            (drop if a["resource_class_id"] in on_target else move).append(a)
        else:
            left.append(a)
    ops: list[Operation] = []
    notes: list[str] = []
    check_capacity(facts, target_rp, move, options, notes)
    if left:
        notes.append(
            f"{len(left)} allocation(s) of the instance are on providers other than the source compute "
            "node (nested or shared providers); they are left in place — check them with "
            f"`openstack resource provider allocation show {u}`"
        )
    op: Operation | None = b.update_each(
        p,
        "allocations",
        [(a, a.replace(resource_provider_id=target_rp["id"])) for a in move],
        purpose="move the instance's allocations to the target compute node's provider",
        scope=None,
    )
    if op:
        ops.append(op)
    freed = [a for a in p.rows("allocations") if a["consumer_id"] in migration_consumers] + drop
    op = b.delete(
        p,
        "allocations",
        freed,
        scope=None,
        purpose="free what the abandoned migration held (and duplicates already on the target)",
    )
    if op:
        ops.append(op)
    gone = [c for c in p.rows("consumers") if c["uuid"] in migration_consumers]
    op = b.delete(p, "consumers", gone, scope=None, purpose="remove the migration consumers left empty")
    if op:
        ops.append(op)
    # placement bumps the providers an allocation write visits: the target's for the instance's
    # rewritten allocations (moved, or source duplicates dropped: the PUT of what stays), the
    # source's for a migration consumer emptied (its PUT of {} allocations)
    emptied = {a["resource_provider_id"] for a in freed if a["consumer_id"] in migration_consumers}
    rewritten = bool(move or drop)
    providers = [
        r
        for r in p.rows("resource_providers")
        if r["id"] in emptied or (rewritten and r["id"] == target_rp["id"])
    ]
    ops += b.present(
        bump_generations(p, "consumers", [c for c in p.rows("consumers") if rewritten and c["uuid"] == u]),
        bump_generations(p, "resource_providers", providers),
    )
    posts = [
        Postcondition(
            "placement",
            "the instance's allocations from the source node are on the target",
            b.count_is(
                "allocations",
                len(left),
                b.eq("consumer_id", u),
                b.not_(b.eq("resource_provider_id", target_rp["id"])),
            ),
        )
    ]
    return ops, posts, notes
