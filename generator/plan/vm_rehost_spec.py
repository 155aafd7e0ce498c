"""The RequestSpec of a resize the rehost reverts: pointed back at the old flavor.

The conductor saves the instance's RequestSpec (nova_api.request_specs.spec) with the new
flavor before it casts the resize to the compute hosts, so a resize that failed there, or waits
for confirm, leaves it naming the new flavor. Nova's own revert (compute/api.py revert_resize)
sets `reqspec.flavor = instance.old_flavor` and `reqspec.numa_topology =
numa_get_constraints(old_flavor, image)` and saves it; without that, every later move is
scheduled for the flavor the instance no longer has.

numa_get_constraints is None unless the flavor or image asks for a NUMA layout, pinned CPUs,
huge pages or persistent memory; only then fixpack keeps the stored value and says so
(recomputing Nova's NUMA constraints is out of its reach).
"""

from __future__ import annotations

import json

from generator.facts.instance import InstanceFacts
from generator.ops.operations import ApplyTime, Operation, SetValue
from generator.plan import builders as b

# flavor extra specs / image properties that make numa_get_constraints return a topology
_NUMA_SPECS = (
    "hw:numa_",
    "hw:cpu_policy",
    "hw:cpu_realtime",
    "hw:mem_page_size",
    "hw:pmem",
    "resources:PCPU",
)
_NUMA_PROPS = ("hw_numa_", "hw_cpu_policy", "hw_cpu_realtime", "hw_mem_page_size", "hw_pmem")


def _data(obj: object) -> dict:
    if not isinstance(obj, dict):
        return {}
    inner = obj.get("nova_object.data", obj)
    return inner if isinstance(inner, dict) else {}


def revert_request_spec(facts: InstanceFacts, old_flavor: dict, warnings: list[str]) -> Operation | None:
    """The UPDATE of request_specs.spec to `old_flavor` (the instance_extra.flavor 'old' object);
    None when nova_api was not read, the spec is unreadable or already names that flavor."""
    api = facts.api
    if api is None:
        warnings.append(
            "no nova_api database was given: request_specs.spec may still name the resize's new flavor "
            "(Nova's revert points it back at the old one); regenerate with --nova-api-url"
        )
        return None
    row = next((r for r in api.rows("request_specs") if r["instance_uuid"] == facts.uuid), None)
    if row is None:
        return None
    try:
        spec = json.loads(row["spec"])
    except (TypeError, ValueError):
        warnings.append(f"request_specs {row['id']}: spec is unreadable; its flavor is left as it is")
        return None
    data = _data(spec)
    if _data(data.get("flavor")).get("id") == _data(old_flavor).get("id"):
        return None
    data["flavor"] = old_flavor
    specs = _data(old_flavor).get("extra_specs") or {}
    props = _data(_data(data.get("image")).get("properties"))
    if any(k.startswith(_NUMA_SPECS) for k in specs) or any(k.startswith(_NUMA_PROPS) for k in props):
        warnings.append(
            f"request_specs {row['id']}: the old flavor or the image asks for a NUMA topology; "
            "numa_topology is left as stored (Nova's revert recomputes it): check it before the next move"
        )
    else:
        data["numa_topology"] = None
    return b.update(
        api,
        "request_specs",
        [row],
        {"spec": SetValue(json.dumps(spec)), "updated_at": ApplyTime()},
        scope=None,
        purpose="point the RequestSpec back at the old flavor, as Nova's revert_resize does",
    )
