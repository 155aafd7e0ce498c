"""What a rehost means for the instance's last move, and what Nova does for that outcome.

The operator says where the guest really runs (`--to-host`). Against the instance's
open move (an unfinished migration, or an errored/failed one whose consumer still holds
allocations or that the migration context names), that answer is the outcome:

* the migration's destination: the move completed;
* its source: the move was reverted (or rolled back);
* neither: unknown — refused without `--allow-unknown-outcome`.

What Nova writes to the cell per outcome is declared in vm_rehost_states; here is what the
live rehost reads to pick it, and the placement side: a completed resize/cold migration leaves
the migration consumer holding the source allocations for confirm/revert, a reverted one
moves them back to the instance (report.py move_allocations).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from generator.domain import nova
from generator.errors import TargetProblem
from generator.facts.instance import InstanceFacts
from generator.ops.operations import ApplyTime, Operation
from generator.ops.rows import Row
from generator.plan import builders as b
from generator.plan.model import Postcondition
from generator.plan.vm_common import VmOptions
from generator.plan.vm_rehost_states import (
    COMPLETED,
    DROP_TOKENS,
    FLAVOR_DOCUMENT,
    FLAVOR_SIDES,
    POP_OLD_VM_STATE,
    REVERTED,
    UNKNOWN,
    When,
    Write,
    end_status,
)
from generator.sqlgen.evaluate import matches

NO_MOVE = "none"
_CLOSED_BUT_OPEN = ("error", "failed")


@dataclass(frozen=True)
class Outcome:
    """The move the rehost ends, how it ended, and its Nova migration type."""

    kind: str
    migration: Row | None = None
    move: str = ""

    @property
    def end_status(self) -> str:
        return end_status(self.kind, self.move)

    def is_(self, when: When | None) -> bool:
        """Whether a declared write is for this outcome: live, the migration row was read at
        generation, so the outcome is known and the write is taken or left out here."""
        return when is None or when.holds(self.kind, self.move)

    def side(self, sides: tuple[tuple[When, str], ...]) -> str | None:
        """The side ('new'/'old') of the move's records this outcome keeps, if any."""
        return next((side for when, side in sides if self.is_(when)), None)


def _context_migration_id(facts: InstanceFacts) -> object:
    for e in facts.cell.rows("instance_extra"):
        if e["deleted"] == 0 and e.get("migration_context"):
            try:
                return json.loads(e["migration_context"])["nova_object.data"]["migration_id"]
            except (ValueError, KeyError, TypeError):
                return None
    return None


def open_move(facts: InstanceFacts) -> Row | None:
    """The instance's move a rehost ends: the newest unfinished migration, else the newest
    errored/failed one still holding allocations or named by the migration context."""
    live = [m for m in facts.cell.rows("migrations") if m["deleted"] == 0]
    holding = (
        {a["consumer_id"] for a in facts.placement.rows("allocations")}
        if facts.placement is not None
        else set()
    )
    ctx_id = _context_migration_id(facts)
    candidates = [
        m
        for m in live
        if m["status"] in nova.MIGRATION_IN_PROGRESS
        or (m["status"] in _CLOSED_BUT_OPEN and (m.get("uuid") in holding or m["id"] == ctx_id))
    ]
    return max(candidates, key=lambda m: m["id"]) if candidates else None


def move_type(migration: Row) -> str:
    """migrations.migration_type; rows from before the column: a resize if the flavor changed."""
    kind = migration.get("migration_type")
    if kind:
        return str(kind)
    return (
        "resize"
        if migration.get("old_instance_type_id") != migration.get("new_instance_type_id")
        else "migration"
    )


def infer(facts: InstanceFacts, host: str, node: str, options: VmOptions, warnings: list[str]) -> Outcome:
    """The outcome `--to-host` implies; refuses an answer matching neither end of the move."""
    m = open_move(facts)
    if m is None:
        return Outcome(NO_MOVE)
    kind = move_type(m)
    if m["dest_compute"] == host and m.get("dest_node") in (None, node):
        return Outcome(COMPLETED, m, kind)
    if m["source_compute"] == host and m.get("source_node") in (None, node):
        return Outcome(REVERTED, m, kind)
    options.allow.refuse(
        "unknown-outcome",
        f"instance {facts.uuid}",
        f"its {kind} {m['uuid'] or m['id']} ({m['status']}) went from {m['source_compute']} to "
        f"{m['dest_compute']}, and --to-host {host} is neither, so whether it completed or reverted is "
        "unknown (the move is closed as 'error' and the instance's allocations moved)",
        "rehost",
        warnings,
    )
    return Outcome(UNKNOWN, m, kind)


def _flavor_json(facts: InstanceFacts) -> tuple[Row | None, dict | None]:
    extra = next(
        (e for e in facts.cell.rows("instance_extra") if e["deleted"] == 0 and e.get("flavor")), None
    )
    if extra is None:
        return None, None
    try:
        return extra, json.loads(extra["flavor"])
    except ValueError:
        return extra, None


def flavor_changes(facts: InstanceFacts, outcome: Outcome) -> tuple[dict, Row | None, str | None, str]:
    """Instance column values, and the instance_extra row with its new `flavor` JSON, for a
    resize-like outcome (FLAVOR_SIDES, FLAVOR_DOCUMENT)."""
    extra, doc = _flavor_json(facts)
    if doc is None or extra is None:
        return (
            {},
            None,
            None,
            "instance_extra.flavor is missing or unreadable: flavor fields left as they are",
        )
    which = outcome.side(FLAVOR_SIDES)
    flavor = doc.get(which)
    if not flavor:
        return (
            {},
            None,
            None,
            f"instance_extra.flavor has no {which!r} flavor: flavor fields left as they are",
        )
    data = flavor.get("nova_object.data", flavor)
    cols = {col: data[key] for col, key in nova.FLAVOR_COLUMNS.items() if key in data}
    text = json.dumps(dict(doc, **{k: s and doc[s] for k, s in FLAVOR_DOCUMENT[str(which)].items()}))
    name = data.get("name", data.get("flavorid", "?"))
    return cols, extra, (None if text == extra["flavor"] else text), f"flavor {which} ({name}) applied"


def reverted_vm_state(facts: InstanceFacts) -> str:
    """finish_revert_resize: system_metadata old_vm_state ('stopped' stays stopped), else active."""
    for r in facts.cell.rows("instance_system_metadata"):
        if r.get("deleted") == 0 and r.get("key") == "old_vm_state" and r.get("value") == "stopped":
            return "stopped"
    return "active"


def target_provider(p, node: Row) -> Row:
    rp = next((r for r in p.rows("resource_providers") if r["uuid"] == node["uuid"]), None)
    if rp is None:
        raise TargetProblem(
            f"the target compute node {node['hypervisor_hostname']} has no placement resource "
            f"provider (uuid {node['uuid']}); is nova-compute on {node['host']} reporting?"
        )
    return rp


def move_back(
    facts: InstanceFacts, node: Row, held: list[Row], others: list[str]
) -> tuple[list[Operation], list[Postcondition], list[str]]:
    """report.py move_allocations(migration, instance): the instance's allocations replaced by the
    migration's (`held`), the migration consumer (and other migrations' leftovers) removed."""
    p = facts.placement
    assert p is not None
    u = facts.uuid
    target_rp = target_provider(p, node)
    mine = [a for a in p.rows("allocations") if a["consumer_id"] == u]
    freed = mine + [a for a in p.rows("allocations") if a["consumer_id"] in others]
    ops = b.present(
        b.delete(
            p,
            "allocations",
            freed,
            scope=None,
            purpose="drop the instance's destination allocations (and other migrations' leftovers)",
        ),
        b.update_each(
            p,
            "allocations",
            [(a, a.replace(consumer_id=u)) for a in held],
            purpose="move the migration's source allocations back to the instance (move_allocations)",
        ),
        b.delete(
            p,
            "consumers",
            [c for c in p.rows("consumers") if c["uuid"] == held[0]["consumer_id"] or c["uuid"] in others],
            scope=None,
            purpose="remove the migration consumers left empty",
        ),
        bump_generations(p, "consumers", [c for c in p.rows("consumers") if c["uuid"] == u]),
        bump_generations(p, "resource_providers", [target_rp]),
    )
    off_target = sum(1 for a in held if a["resource_provider_id"] != target_rp["id"])
    posts = [
        Postcondition(
            "placement",
            "the instance holds the migration's source allocations again",
            b.count_is("allocations", len(held), b.eq("consumer_id", u)),
        ),
        Postcondition(
            "placement",
            "the instance's compute allocations are on the target",
            b.count_is(
                "allocations",
                off_target,
                b.eq("consumer_id", u),
                b.not_(b.eq("resource_provider_id", target_rp["id"])),
            ),
        ),
    ]
    return ops, posts, []


def bump_generations(p, table: str, rows: list[Row]) -> Operation | None:
    """placement's increment_generation() of the consumers and providers an allocation write
    visits (allocation.py _set_allocations): generation + 1 and, as the models' TimestampMixin
    onupdate fires on that UPDATE, updated_at — so cached views (nova's provider tree) refresh."""
    key = b.key_of(p, table)[0]
    return b.update(
        p,
        table,
        rows,
        {"updated_at": ApplyTime()},
        scope=None,
        purpose=f"bump the {table} generation, as placement does on every allocation write",
        per_row={r[key]: {"generation": r["generation"] + 1} for r in rows},
    )


def _delete(facts: InstanceFacts, outcome: Outcome, w: Write) -> Operation | None:
    rows = [r for r in facts.cell.rows(w.table) if outcome.is_(w.when) and all(matches(t, r) for t in w.rows)]
    return b.delete(facts.cell, w.table, rows, scope=None, purpose=w.purpose)


def move_side_effects(facts: InstanceFacts, outcome: Outcome) -> list[Operation]:
    """Nova's other writes when the move ends: the source's _post_live_migration drops the
    instance's console tokens (they name the old host); finish_revert_resize's
    _delete_stashed_flavor_info pops system_metadata old_vm_state."""
    return b.present(*(_delete(facts, outcome, w) for w in (DROP_TOKENS, POP_OLD_VM_STATE)))


def check_capacity(
    facts: InstanceFacts, target_rp: Row, landing: list[Row], options: VmOptions, warnings: list[str]
) -> None:
    """Refuse (without --allow-over-capacity) allocations placement itself would reject on the
    target provider: a class it has no inventory of, an amount over max_unit, or usage past
    (total - reserved) * allocation_ratio (placement's capacity rule)."""
    host = facts.target_host
    assert host is not None
    rp = target_rp["id"]
    inventory = {i["resource_class_id"]: i for i in host.inventories if i["resource_provider_id"] == rp}
    used = {u["resource_class_id"]: u["used"] for u in host.usage if u["resource_provider_id"] == rp}
    adding: dict[object, int] = {}
    problems = []
    for a in landing:
        rc = a["resource_class_id"]
        adding[rc] = adding.get(rc, 0) + a["used"]
        inv = inventory.get(rc)
        if inv is None:
            problems.append(f"resource class {rc}: no inventory on the target provider")
        elif a["used"] > inv["max_unit"]:
            problems.append(f"resource class {rc}: {a['used']} is over max_unit {inv['max_unit']}")
    for rc, amount in sorted(adding.items(), key=lambda kv: str(kv[0])):
        inv = inventory.get(rc)
        if inv is None:
            continue
        capacity = int((inv["total"] - inv["reserved"]) * inv["allocation_ratio"])
        if used.get(rc, 0) + amount > capacity:
            problems.append(
                f"resource class {rc}: {used.get(rc, 0)} used + {amount} is over the capacity {capacity} "
                f"((total {inv['total']} - reserved {inv['reserved']}) x ratio {inv['allocation_ratio']})"
            )
    if problems:
        options.allow.refuse(
            "over-capacity",
            f"target provider {target_rp['uuid']} ({target_rp.get('name') or ''})",
            "placement would refuse the instance's allocations there: " + "; ".join(problems),
            "rehost onto",
            warnings,
            hint="pick a --to-host with room, or free capacity there first",
        )


def target_zone(facts: InstanceFacts, options: VmOptions) -> tuple[str | None, str]:
    """The instance's availability_zone on the target, as the conductor (move) and
    compute/api.py revert_resize set it: get_host_availability_zone(host) — the first of the
    host's aggregates with `availability_zone` metadata, else [DEFAULT] default_availability_zone
    (assumed 'nova'); --availability-zone wins. None when nova_api was not read."""
    host = facts.target_host
    assert host is not None
    if options.availability_zone:
        return (
            options.availability_zone,
            f"availability_zone {options.availability_zone!r} (--availability-zone)",
        )
    if host.zones is None:
        return None, (
            "no nova_api database was given: instances.availability_zone is left as it is; pass "
            "--availability-zone (the target host's AZ) or --nova-api-url"
        )
    if host.zones:
        several = len(set(host.zones)) > 1
        tail = (
            f" (its aggregates say {', '.join(sorted(set(host.zones)))}; Nova takes the first)"
            if several
            else ""
        )
        return host.zones[0], f"availability_zone {host.zones[0]!r} from {host.host}'s aggregate{tail}"
    zone = nova.DEFAULT_AVAILABILITY_ZONE
    return zone, (
        f"availability_zone {zone!r}: {host.host} is in no AZ aggregate, so default_availability_zone "
        "applies (assumed Nova's default 'nova'; pass --availability-zone if yours differs)"
    )
