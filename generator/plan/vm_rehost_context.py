"""The migration context's resources applied to the instance when a rehost ends its move.

Nova's move claim records the instance's NUMA topology, PCI requests/devices and resources
(vPMEM, mdevs) for both ends of the move in instance_extra.migration_context. When the move
ends, objects/instance.py `_set_migration_context_to_instance` copies one side of it onto the
instance and the save writes it to instance_extra:

* `apply_migration_context()` (the `new_` side): finish_resize, post_live_migration_at_destination,
  the resource tracker's finish_evacuation;
* `revert_migration_context()` (the `old_` side): the destination's drop_move_claim_at_dest
  when a resize or cold migration is reverted;
* a rolled back live migration or a failed evacuation only drops the context.

Without this the instance keeps the NUMA pinning and PCI requests of the host it left (or
never reached), and the resource tracker on the target claims the wrong CPUs and devices.

How each column is saved (Instance.save): numa_topology and resources by `_save_extra_generic`
(`jsonutils.dumps(obj.obj_to_primitive())`, NULL for None); pci_requests by
`_save_pci_requests` as InstancePCIRequests.to_json() — a plain list of seven keys per request,
not the object primitive the context holds (NULL when the context has none: the None's
AttributeError falls back to `_save_extra_generic`). pci_devices is not written:
`_save_pci_devices` is a no-op (only the PCI tracker on the host updates pci_devices).
"""

from __future__ import annotations

import json

from generator.facts.instance import InstanceFacts
from generator.plan.vm_rehost_outcome import Outcome
from generator.plan.vm_rehost_states import CONTEXT_COLUMNS, CONTEXT_SIDES

# InstancePCIRequests.to_json(): the keys instance_extra.pci_requests lists per request
PCI_KEYS = ("count", "spec", "alias_name", "is_new", "numa_policy", "request_id", "requester_id")


def _data(obj: object) -> dict:
    inner = obj.get("nova_object.data", obj) if isinstance(obj, dict) else None
    return inner if isinstance(inner, dict) else {}


def _pci_json(requests: object) -> str | None:
    if requests is None:
        return None
    blob = []
    for r in _data(requests).get("requests") or []:
        d = _data(r)
        blob.append({k: d.get(k, False if k == "is_new" else None) for k in PCI_KEYS})
    return json.dumps(blob)


def _dump(obj: object) -> str | None:
    return None if obj is None else json.dumps(obj)


def applied_context(facts: InstanceFacts, outcome: Outcome, warnings: list[str]) -> dict[str, str | None]:
    """instance_extra column -> the value Nova's save leaves, for the columns that change; empty
    when there is no migration context or the outcome only drops it."""
    side = outcome.side(CONTEXT_SIDES)
    row = next(
        (e for e in facts.cell.rows("instance_extra") if e["deleted"] == 0 and e.get("migration_context")),
        None,
    )
    if side is None or row is None:
        return {}
    try:
        ctx = _data(json.loads(row["migration_context"]))
    except (TypeError, ValueError):
        warnings.append(
            "instance_extra.migration_context is unreadable: numa_topology, pci_requests and resources "
            "are left as they are (Nova would take them from it); check them before the next move"
        )
        return {}
    values = {
        c: (_pci_json if c == "pci_requests" else _dump)(ctx.get(f"{side}_{c}")) for c in CONTEXT_COLUMNS
    }
    return {c: v for c, v in values.items() if c in row and row[c] != v}
