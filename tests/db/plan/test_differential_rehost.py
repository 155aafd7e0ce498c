"""Differential: a live `vm --op rehost` bundle changes exactly the rows Nova's own code changes
when the move it ends finishes that way (generator/plan/vm_rehost.py, vm_rehost_outcome.py).

Two twins of one 2026.2 deployment are seeded alike (hosts cmp-01 and cmp-02, other instances
around), the instance in one of three states, with Nova's allocation swap done (the migration
consumer holds the source allocations, the instance the destination's):
- `live-completed`: a live migration (status 'running', task_state 'migrating', progress 42)
  that really finished on the destination cmp-02 while Nova still points at cmp-01; rehost
  --to-host cmp-02.
- `cold-reverted`: a failed cold migration ('error', vm_state 'error'), the guest really running
  on the source cmp-01; rehost --to-host cmp-01.
- `resize-reverted`: a failed resize m1.small -> m1.medium, the same.
- `resize-reverted-stopped`: the same resize of an instance that was stopped before it
  (old_vm_state 'stopped'): Nova's revert ends in stop_instance (vm_state 'stopped', power_state 4).
- `resize-completed`: the failed resize with the guest running on cmp-02: rehost --to-host cmp-02
  ends it as finish_resize does (migration 'finished', vm_state 'resized', waiting for confirm).
- `evacuation-completed`: an evacuation from cmp-01 whose rebuild spawned the guest on cmp-02,
  nova-compute failing before it saved (migration 'pre-migrating', task_state
  'rebuild_spawning', no allocation swap: the instance holds both nodes' allocations); rehost
  --to-host cmp-02. `evacuation-completed-stopped`: the same of a stopped instance.
In every case the migration context pins different NUMA cells and PCI requests on each end
(pinned_context), so Nova's apply_migration_context / revert_migration_context visibly write
instance_extra numa_topology, pci_requests and resources.
For the reverted cases the source host is in AZ 'az-west' (the conductor had moved the
instance's availability_zone to the destination's), and prep_resize's stashed
system_metadata `old_vm_state` = 'active' is there; for the resize the RequestSpec names the new
flavor, as the conductor saved it before the cast to the compute hosts where the resize failed.

Twin A runs Nova 34.0.0's own objects and DB API (tests/upstream/nova_rehost.py: for a live
migration `post_live_migration_at_destination` + the source side `_post_live_migration`; for a
revert the API's `revert_resize`, the destination's `drop_move_claim_at_dest` and the source's
`finish_revert_resize`; for an evacuation the rebuild's saves and `finish_evacuation` — the
script's docstring lists each write and what host-side work is skipped), then the scheduler
report client's placement calls mirrored in SQL below
(placement 16.0.0's handlers and objects, statement for statement; placement 9.0.0, 2023.1, writes
the same: its `_set_allocations` differs only in the read-only capacity check). Twin B applies
the fixpack bundle with the real client. FIXPACK_DIFF_RELEASE picks another release
(tests/differential.py; tests/upstream/nova_rehost.py says where nova 27.5.1 differs).

Every row change of every table of every database is compared: values exactly, timestamps as
"set" or "unchanged". Representation is normalised where the two sides legitimately write
the same thing differently (by_content): placement rewrites a consumer's allocations as new rows
where fixpack updates them in place, so allocations are compared as placement reads them
((consumer, provider, class) -> used); Nova re-serialises a whole RequestSpec where fixpack
edits the stored document, so specs are compared as the object they load to (and so are
instance_extra numa_topology and resources, which Nova dumps from the object and fixpack copies
from the migration context). UPSTREAM_ONLY lists what Nova writes that a rehost does not (on
purpose). The bundle's rollback then restores twin B exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.scratch.deployment import Deployment
from generator.seed import Seeder
from generator.seed.shapes import dumps
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical, targets_for
from tests.db.plan.test_rehost_outcomes import host_in_zone, pinned_context
from tests.differential import (
    UPSTREAM,
    Changes,
    Rows,
    assert_same_changes,
    changes,
    diff_release,
    dump,
    nova_conf,
    run,
    service_venv,
)

pytestmark = [pytest.mark.db, pytest.mark.slow]
RELEASE = diff_release()
CASES = {
    # case: (migration type, seeded migration status, vm_state, --to-host)
    "live-completed": ("live-migration", "running", "active", "cmp-02"),
    "cold-reverted": ("migration", "error", "error", "cmp-01"),
    "resize-reverted": ("resize", "error", "error", "cmp-01"),
    "resize-reverted-stopped": ("resize", "error", "error", "cmp-01"),
    "resize-completed": ("resize", "error", "error", "cmp-02"),
    "evacuation-completed": ("evacuation", "pre-migrating", "active", "cmp-02"),
    "evacuation-completed-stopped": ("evacuation", "pre-migrating", "stopped", "cmp-02"),
}
# Columns Nova writes that a rehost does not, on purpose: finish_revert_resize sets launched_at
# when it respawns the guest on the source; a rehost spawns nothing (the guest never stopped
# running there), so the launch time stays.
UPSTREAM_ONLY = {
    "completed": {},
    "reverted": {"nova.instances": ("launched_at",)},
}


@pytest.fixture(scope="session")
def nova_venv() -> Path:
    return service_venv("nova", RELEASE)


def seed_twin(dep: Deployment, case: str) -> tuple[str, int, str]:
    """The same world in each twin; returns (instance uuid, migration id, migration uuid)."""
    kind, status, vm_state, _ = CASES[case]
    live, evacuation = kind == "live-migration", kind == "evacuation"
    s = Seeder(dep, seed=29)
    h1, h2 = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    for i in range(4):
        s.instance(host=h1 if i % 2 else h2, volumes=i % 2)
    target = s.instance(
        host=h1, vm_state=vm_state, task_state="migrating" if live else None,
        power_state=4 if vm_state == "stopped" else 1, migration="live-migration" if evacuation else kind,
        migration_status="running" if evacuation else status, flavor="m1.small",
        new_flavor="m1.medium" if kind == "resize" else None, volumes=1,
    )  # fmt: skip
    s.flush()
    u = target.uuid
    mig = dep.query("nova", "SELECT id, uuid, dest_compute FROM migrations WHERE instance_uuid = %s", (u,))[0]
    assert (mig["uuid"], mig["dest_compute"]) == (target.migration, "cmp-02")
    pinned_context(dep, u, applied="reverted" in case)  # a revert undoes what finish_resize applied
    if evacuation:
        # the rebuild spawned the guest on cmp-02 and nova-compute died before saving: the rebuild
        # claim's 'pre-migrating', the driver's REBUILD_SPAWNING; no allocation swap for an
        # evacuation (the scheduler added cmp-02's allocations to the instance's own)
        dep.execute("nova", "UPDATE migrations SET migration_type = 'evacuation', status = %s WHERE id = %s",
                    (status, mig["id"]))  # fmt: skip
        dep.execute("nova", "UPDATE instances SET task_state = 'rebuild_spawning' WHERE uuid = %s", (u,))
        dep.execute("placement", "UPDATE allocations SET consumer_id = %s WHERE consumer_id = %s",
                    (u, mig["uuid"]))  # fmt: skip
        dep.execute("placement", "DELETE FROM consumers WHERE uuid = %s", (mig["uuid"],))
        return u, mig["id"], mig["uuid"]
    if live:
        # the guest's memory copy was under way when Nova lost track (progress as the monitor saved it)
        dep.execute("nova", "UPDATE instances SET progress = 42 WHERE uuid = %s", (u,))
        return u, mig["id"], mig["uuid"]
    if kind == "resize":
        # the conductor's _cold_migrate saved the RequestSpec with the new flavor before the cast to
        # the compute hosts, where this resize then failed
        new = json.loads(dep.query("nova", "SELECT flavor FROM instance_extra WHERE instance_uuid = %s",
                                   (u,))[0]["flavor"])["new"]  # fmt: skip
        row = dep.query("nova_api", "SELECT id, spec FROM request_specs WHERE instance_uuid = %s", (u,))[0]
        spec = json.loads(row["spec"])
        spec["nova_object.data"]["flavor"] = new
        # as the conductor saved it: ImageMetaProps coerces the image's 'yes' to a boolean
        props = spec["nova_object.data"]["image"]["nova_object.data"]["properties"]["nova_object.data"]
        props["hw_qemu_guest_agent"] = True
        dep.execute("nova_api", "UPDATE request_specs SET spec = %s WHERE id = %s", (dumps(spec), row["id"]))
    # prep_resize stashes the vm_state to return to (instance.system_metadata['old_vm_state'])
    dep.execute(
        "nova",
        "INSERT INTO instance_system_metadata (created_at, deleted, instance_uuid, `key`, value) "
        "VALUES ('2026-01-02 03:04:05', 0, %s, 'old_vm_state', %s)",
        (u, "stopped" if case.endswith("-stopped") else "active"),
    )
    host_in_zone(dep, "cmp-01", "az-west")  # the instance carries the destination's AZ the conductor set
    return u, mig["id"], mig["uuid"]


# --- placement, as the scheduler report client drives it (nova/scheduler/client/report.py) ---------


def _bump_generations(dep: Deployment, providers: set[int], consumers: set[str]) -> None:
    """allocation.py `_set_allocations`: `increment_generation()` of every provider it visited and
    every consumer of the request (Core UPDATEs; the TimestampMixin `onupdate` sets updated_at)."""
    for rp in sorted(providers):
        dep.execute(
            "placement",
            "UPDATE resource_providers SET generation = generation + 1, updated_at = UTC_TIMESTAMP() "
            "WHERE id = %s",
            (rp,),
        )
    for consumer in sorted(consumers):
        dep.execute(
            "placement",
            "UPDATE consumers SET generation = generation + 1, updated_at = UTC_TIMESTAMP() WHERE uuid = %s",
            (consumer,),
        )


def _delete_consumers_if_no_allocations(dep: Deployment, consumers: set[str]) -> None:
    for consumer in sorted(consumers):
        dep.execute(
            "placement",
            "DELETE FROM consumers WHERE uuid = %s AND NOT EXISTS "
            "(SELECT 1 FROM allocations WHERE allocations.consumer_id = consumers.uuid)",
            (consumer,),
        )


def placement_delete_after_move(dep: Deployment, migration: str) -> None:
    """`_delete_allocation_after_move` -> `delete_allocation_for_instance(migration, force=False)`:
    GET then PUT /allocations/{migration} {"allocations": {}} at 1.28. Placement's
    `_set_allocations_for_consumer` turns the consumer's allocations into used=0 ones and
    `_set_allocations` deletes them, bumps the generation of their providers (visited by
    `_check_capacity_exceeded`) and of the consumer, and deletes the consumer left empty."""
    held = dep.query("placement", "SELECT resource_provider_id FROM allocations WHERE consumer_id = %s",
                     (migration,))  # fmt: skip
    dep.execute("placement", "DELETE FROM allocations WHERE consumer_id = %s", (migration,))
    _bump_generations(dep, {r["resource_provider_id"] for r in held}, {migration})
    _delete_consumers_if_no_allocations(dep, {migration})


def placement_move_allocations(dep: Deployment, source: str, target: str) -> None:
    """`_revert_allocation` -> `move_allocations(migration, instance)`: POST /allocations at 1.28
    with the source consumer's allocations emptied and written to the target consumer.
    `replace_all` -> `_set_allocations`: both consumers' allocations deleted, the source's
    re-inserted for the target (new rows), the providers of the request's allocations and both
    consumers' generations bumped, the empty source consumer deleted."""
    held = dep.query(
        "placement",
        "SELECT resource_provider_id, resource_class_id, used FROM allocations WHERE consumer_id = %s "
        "ORDER BY id",
        (source,),
    )
    assert held, "the migration consumer holds the source allocations"
    for consumer in (source, target):
        dep.execute("placement", "DELETE FROM allocations WHERE consumer_id = %s", (consumer,))
    for a in held:
        dep.execute(
            "placement",
            "INSERT INTO allocations (created_at, resource_provider_id, resource_class_id, consumer_id, "
            "used) VALUES (UTC_TIMESTAMP(), %s, %s, %s, %s)",
            (a["resource_provider_id"], a["resource_class_id"], target, a["used"]),
        )
    _bump_generations(dep, {a["resource_provider_id"] for a in held}, {source, target})
    _delete_consumers_if_no_allocations(dep, {source})


def placement_remove_source_tree(dep: Deployment, consumer: str, source: str) -> None:
    """The source's `_destroy_evacuated_instances` ->
    `remove_provider_tree_from_instance_allocation(instance, source node)`: GET the instance's
    allocations, drop the source tree's, PUT the rest (1.28): `_set_allocations` deletes the
    consumer's allocations, re-inserts what stays, bumps the generations of those providers and
    of the consumer. fixpack frees them at once; the migration's 'completed' the source then
    saves is left to the source's restart (it also destroys the guest left there)."""
    (node,) = dep.query("nova", "SELECT uuid FROM compute_nodes WHERE host = %s AND deleted = 0", (source,))
    rp = dep.query("placement", "SELECT id FROM resource_providers WHERE uuid = %s", (node["uuid"],))
    kept = dep.query(
        "placement",
        "SELECT resource_provider_id, resource_class_id, used FROM allocations WHERE consumer_id = %s "
        "AND resource_provider_id <> %s ORDER BY id",
        (consumer, rp[0]["id"]),
    )
    dep.execute("placement", "DELETE FROM allocations WHERE consumer_id = %s", (consumer,))
    for a in kept:
        dep.execute(
            "placement",
            "INSERT INTO allocations (created_at, resource_provider_id, resource_class_id, consumer_id, "
            "used) VALUES (UTC_TIMESTAMP(), %s, %s, %s, %s)",
            (a["resource_provider_id"], a["resource_class_id"], consumer, a["used"]),
        )
    _bump_generations(dep, {a["resource_provider_id"] for a in kept}, {consumer})


def upstream_rehost(dep: Deployment, case: str, uuid: str, mig_id: int, mig_uuid: str, tmp: Path,
                    nova: Path) -> None:  # fmt: skip
    conf = nova_conf(dep, tmp / "nova.conf")
    script = [str(nova / "bin" / "python"), str(UPSTREAM / "nova_rehost.py"), str(conf)]
    if case == "live-completed":
        run([*script, "live-completed", uuid, str(mig_id), CASES[case][3]])
        placement_delete_after_move(dep, mig_uuid)
    elif case == "resize-completed":
        run([*script, "resize-completed", uuid, str(mig_id)])  # no placement call: confirm/revert next
    elif case.startswith("evacuation"):
        run([*script, "evacuated", uuid, str(mig_id), CASES[case][3]])
        placement_remove_source_tree(dep, uuid, "cmp-01")
    else:
        # finish_revert_resize: the flavor/host save, then _revert_allocation, then the rest; the
        # placement write sits between two Nova saves, which does not change what either writes
        run([*script, "reverted", uuid, str(mig_id)])
        placement_move_allocations(dep, mig_uuid, uuid)


# --- comparison -------------------------------------------------------------------------------------


# RequestSpec fields _from_db_object skips ("not persisted"): what the document says of them is
# never read, and Nova's own save leaves them out once it has loaded the spec
NOT_LOADED = ("requested_destination", "requested_resources", "network_metadata", "request_level_params",
              "requested_networks")  # fmt: skip


def _unserialized(value: object) -> object:
    """A nova object primitive without its serialization bookkeeping: `nova_object.changes` (a
    set dumped in hash order, so not even Nova writes it the same twice)."""
    if isinstance(value, dict):
        return {k: _unserialized(v) for k, v in value.items() if k != "nova_object.changes"}
    if isinstance(value, list):
        return [_unserialized(v) for v in value]
    return value


def _canonical(text: str | None) -> str | None:
    return None if text is None else json.dumps(_unserialized(json.loads(text)), sort_keys=True)


def by_content(rows: Rows) -> Rows:
    """Two representation choices normalised. placement.allocations keyed as placement reads them:
    (consumer, provider, class) -> used — placement's writes delete and re-insert a consumer's
    allocations (new ids, created_at now), fixpack updates the rows in place, nothing reads an
    allocation's id or timestamps. nova.instance_extra numa_topology and resources as the objects
    they load to: Nova's save dumps obj_to_primitive() (data keys sorted) where fixpack copies the
    migration context's primitive as stored; and migration_context too, which every Instance.save()
    of an instance loaded with it re-dumps (the stored primitive's `nova_object.changes` mark the
    loaded object changed) with the same content. nova_api.request_specs.spec as the RequestSpec it loads to:
    RequestSpec.save() re-serialises the whole object (its `id` field included, which loading
    sets from the row anyway) where fixpack edits the stored document; the fields
    RequestSpec._from_db_object never loads from the document (NOT_LOADED) are left out."""
    out = dict(rows)
    specs = {}
    for key, r in rows["nova_api.request_specs"].items():
        spec = _unserialized(json.loads(r["spec"]))
        assert isinstance(spec, dict)
        for field in ("id", *NOT_LOADED):
            spec["nova_object.data"].pop(field, None)
        specs[key] = {**r, "spec": json.dumps(spec, sort_keys=True)}
    out["nova_api.request_specs"] = specs
    out["nova.instance_extra"] = {
        key: {**r, **{c: _canonical(r[c]) for c in ("numa_topology", "resources", "migration_context")}}
        for key, r in rows["nova.instance_extra"].items()
    }
    out["placement.allocations"] = {
        (r["consumer_id"], r["resource_provider_id"], r["resource_class_id"]): {"used": r["used"]}
        for r in rows["placement.allocations"].values()
    }
    return out


def assert_context_applied(upstream: Changes, case: str) -> None:
    """Nova's apply_migration_context (live migration) or revert_migration_context (revert) wrote
    the pinned_context side the case is about: the world exercises what the rehost must copy."""
    (change,) = upstream["nova.instance_extra"].values()
    assert isinstance(change, dict), change
    completed = "-completed" in case
    cell = 1 if completed else 0
    numa = json.loads(change["numa_topology"])["nova_object.data"]["cells"][0]["nova_object.data"]
    alias = "nic-b" if completed else "nic-a"
    assert (numa["id"], json.loads(change["pci_requests"])[0]["alias_name"]) == (cell, alias), change
    assert json.loads(change["resources"])["nova_object.data"]["objects"] == [], change


def without(diff: Changes, columns: dict[str, tuple[str, ...]]) -> Changes:
    """`diff` with the given columns' changes taken out (rows left unchanged then dropped)."""
    out: Changes = {}
    for table, rows in diff.items():
        drop = columns.get(table, ())
        kept = {}
        for key, change in rows.items():
            if isinstance(change, dict) and drop:
                change = {c: v for c, v in change.items() if c not in drop}
                if not change:
                    continue
            kept[key] = change
        if kept:
            out[table] = kept
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_rehost_matches_what_nova_does_when_the_move_ends_that_way(
    make_deployment, tmp_path, nova_venv, case
) -> None:
    twin_a, twin_b = make_deployment(RELEASE), make_deployment(RELEASE)
    seeded = seed_twin(twin_a, case)
    assert seed_twin(twin_b, case) == seeded
    uuid, mig_id, mig_uuid = seeded
    before_a, before_b = by_content(dump(twin_a)), by_content(dump(twin_b))
    states_b = all_states(twin_b)

    (tmp_path / "a").mkdir()
    upstream_rehost(twin_a, case, uuid, mig_id, mig_uuid, tmp_path / "a", nova_venv)
    result = generate_vm(
        uuid, VmOptions(op="rehost", to_host=CASES[case][3]), targets_for(twin_b), "auto",
        OutputOptions(out_dir=tmp_path / "b"),
    )  # fmt: skip
    bundle = BundleRun(twin_b, result.path)
    assert_all_ok(bundle.run("apply"))

    upstream = changes(before_a, by_content(dump(twin_a)))
    fixpack = changes(before_b, by_content(dump(twin_b)))
    # the upstream run did what the case is about
    (inst,) = upstream["nova.instances"].values()
    (mig,) = upstream["nova.migrations"].values()
    assert isinstance(inst, dict) and isinstance(mig, dict), (inst, mig)
    stopped = case.endswith("-stopped")
    if case == "live-completed":
        assert (inst["host"], mig["status"]) == ("cmp-02", "completed"), (inst, mig)
    elif case == "resize-completed":
        assert (inst["host"], mig["status"], inst["vm_state"]) == ("cmp-02", "finished", "resized"), (
            inst,
            mig,
        )
    elif case.startswith("evacuation"):
        assert (inst["host"], mig["status"], inst.get("vm_state", CASES[case][2])) == (
            "cmp-02", "done", "stopped" if stopped else "active",
        ), (inst, mig)  # fmt: skip
    else:  # Nova already points at the source; the flavor and state are what the revert restores
        assert mig["status"] == "reverted", (inst, mig)
        assert (inst["vm_state"], inst.get("power_state", 1)) == (
            ("stopped", 4) if stopped else ("active", 1)
        )
    waits = case == "resize-completed"  # the migration consumer keeps the source allocations
    assert waits or [k[0] for k, v in upstream["placement.allocations"].items() if v == "removed"], (
        "no allocation freed"
    )
    if not (waits or case.startswith("evacuation")):  # an evacuation has no migration consumer
        assert "removed" in upstream["placement.consumers"].values(), "the migration consumer stays"
    assert_context_applied(upstream, case)
    expected_only: dict[str, tuple[str, ...]] = UPSTREAM_ONLY[case.split("-")[1]]
    for table, cols in expected_only.items():
        assert any(isinstance(c, dict) and set(cols) <= c.keys() for c in upstream[table].values()), table
    assert_same_changes(without(upstream, expected_only), fixpack, "nova")

    assert_all_ok(bundle.run("rollback"))
    assert_identical(states_b, all_states(twin_b))
