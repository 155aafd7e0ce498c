"""The seeding library against real catalog schemas: every release, every kind of row.

Each check is independent of the seeder's own bookkeeping: counts, cross-database
agreement (BDM <-> Cinder attachment, allocations <-> flavors, quota_usages <-> a
recount written here from scratch) and foreign keys are all read back from the server.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict

import pytest

from generator.catalog import catalog_snapshot, get_release
from generator.scratch.deployment import ROLES, Deployment
from generator.seed import SeededInstance, SeededVolume, Seeder, SeedError
from tests.conftest import ALL_RELEASES

pytestmark = pytest.mark.db

VIF_TYPES = ("ovs_hybrid", "ovs", "bridge", "vhostuser")
CELL_ROLES = ("nova", "nova_cell0")


def seed_scenario(dep: Deployment, seed: int = 7) -> dict:
    """Hosts, instances of every VIF type, volumes of every protocol and the odd states."""
    s = Seeder(dep, seed=seed)
    h1, h2 = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    s.compute_host("cmp-03", enabled=False, hypervisor_hostname="cmp-03.dc1.example.org")
    plain = [s.instance(host=h1 if i % 2 else h2, vif_types=(vt,)) for i, vt in enumerate(VIF_TYPES)]
    multi_nic = s.instance(host=h1, vif_types=VIF_TYPES, flavor="m1.medium", pci_devices=2, volumes=1)
    vols: list[SeededVolume] = [
        s.volume(attach_to=plain[0], protocol="iscsi", snapshots=1),
        s.volume(attach_to=plain[1], protocol="iscsi", multipath=True, backups=1),
        s.volume(attach_to=plain[2], protocol="rbd", snapshots=2, backups=1, bootable=True),
        s.volume(attach_to=plain[3], protocol="fibre_channel", size=50),
        s.volume(attach_to=multi_nic, protocol="nfs", encrypted=True, snapshots=1, backups=2),
        s.volume(attach_to=plain[0], also_attach_to=[plain[1]], multiattach=True, protocol="rbd", size=20),
        s.volume(protocol="nfs", size=5, metadata={"purpose": "scratch"}),
        s.volume(protocol="iscsi", size=7, use_quota=False),
    ]
    migrating = s.instance(host=h1, migration="resize", migration_status="error", volumes=1)
    live = s.instance(host=h2, migration="live-migration", migration_status="running", vm_state="active",
                      task_state="migrating")  # fmt: skip
    cell0 = s.instance(cell="cell0", display_name="failed-build")
    shelved = s.instance(host=h2, shelved=True, volumes=1, volume_protocol="rbd")
    gone = s.instance(host=h1, deleted=True, volumes=1)
    errored = s.instance(host=h2, vm_state="error", faults=2, actions=4)
    s.flush()
    instances = [*plain, multi_nic, migrating, live, cell0, shelved, gone, errored]
    return {
        "seeder": s,
        "instances": instances,
        "volumes": vols,
        "plain": plain,
        "multi_nic": multi_nic,
        "migrating": migrating,
        "live": live,
        "cell0": cell0,
        "shelved": shelved,
        "gone": gone,
    }


def count(dep: Deployment, role: str, table: str, where: str = "1=1", params: tuple = ()) -> int:
    return int(dep.query(role, f"SELECT COUNT(*) AS n FROM `{table}` WHERE {where}", params)[0]["n"])


def assert_no_orphans(dep: Deployment) -> None:
    """Every declared FK of every table resolves (checks were on; this proves it)."""
    for role, kind in ROLES.items():
        assert dep.query(role, "SELECT @@SESSION.foreign_key_checks AS f")[0]["f"] == 1
        snap = catalog_snapshot(dep.release, kind)
        for table in snap.tables:
            for fk in table.foreign_keys:
                cond = " AND ".join(f"c.`{c}` IS NOT NULL" for c in fk.columns)
                join = " AND ".join(
                    f"p.`{rc}` = c.`{c}`" for c, rc in zip(fk.columns, fk.ref_columns, strict=True)
                )
                orphans = dep.query(
                    role,
                    f"SELECT COUNT(*) AS n FROM `{table.name}` c LEFT JOIN `{fk.ref_table}` p ON {join} "
                    f"WHERE {cond} AND p.`{fk.ref_columns[0]}` IS NULL",
                )[0]["n"]
                assert orphans == 0, f"{role}.{table.name} -> {fk.ref_table}: {orphans} orphans"


def recount_cinder_quota(dep: Deployment) -> dict[tuple[str, str], int]:
    """Cinder's usage rules, re-implemented independently of generator.seed.quota."""
    use_quota = catalog_snapshot(dep.release, "cinder").table("volumes").has_column("use_quota")
    types = {r["id"]: r["name"] for r in dep.query("cinder", "SELECT id, name FROM volume_types")}
    vols = dep.query("cinder", "SELECT * FROM volumes WHERE deleted = 0")
    vol_type = {v["id"]: types[v["volume_type_id"]] for v in dep.query("cinder", "SELECT * FROM volumes")}
    out: dict[tuple[str, str], int] = defaultdict(int)
    for v in vols:
        if use_quota and not v["use_quota"]:
            continue
        p, t = v["project_id"], types[v["volume_type_id"]]
        for key, value in (("volumes", 1), ("gigabytes", v["size"]), (f"volumes_{t}", 1),
                           (f"gigabytes_{t}", v["size"])):  # fmt: skip
            out[(p, key)] += value
    for snap in dep.query("cinder", "SELECT * FROM snapshots WHERE deleted = 0"):
        if use_quota and not snap["use_quota"]:
            continue
        p, t = snap["project_id"], vol_type[snap["volume_id"]]
        for key, value in (("snapshots", 1), (f"snapshots_{t}", 1), ("gigabytes", snap["volume_size"]),
                           (f"gigabytes_{t}", snap["volume_size"])):  # fmt: skip
            out[(p, key)] += value
    for b in dep.query("cinder", "SELECT * FROM backups WHERE deleted = 0"):
        out[(b["project_id"], "backups")] += 1
        out[(b["project_id"], "backup_gigabytes")] += b["size"]
    return dict(out)


@pytest.mark.parametrize("release", ALL_RELEASES)
def test_seed_every_release(make_deployment, release: str) -> None:
    dep = make_deployment(release)
    sc = seed_scenario(dep)
    instances: list[SeededInstance] = sc["instances"]
    by_cell = Counter(i.cell for i in instances)

    # -- row counts -------------------------------------------------------------------
    assert count(dep, "nova", "instances") == by_cell["cell1"]
    assert count(dep, "nova_cell0", "instances") == by_cell["cell0"] == 1
    assert count(dep, "nova", "instances", "deleted = id") == 1
    assert count(dep, "nova_api", "instance_mappings") == len(instances)
    assert count(dep, "nova_api", "request_specs") == len(instances)
    assert count(dep, "nova_api", "build_requests") == 1
    assert count(dep, "nova_api", "host_mappings") == 3
    assert count(dep, "nova", "compute_nodes") == count(dep, "placement", "resource_providers") == 3
    assert count(dep, "placement", "inventories") == 9
    ports = [p for i in instances for p in i.ports]
    assert count(dep, "nova", "virtual_interfaces") == len(ports)
    assert count(dep, "nova", "instance_info_caches") == by_cell["cell1"]
    assert count(dep, "nova", "migrations") == 2
    assert count(dep, "nova", "pci_devices", "status = 'allocated' AND instance_uuid = %s",
                 (sc["multi_nic"].uuid,)) == 2  # fmt: skip
    assert count(dep, "nova", "console_auth_tokens") == sum(i.console_tokens for i in instances) > 0
    assert count(dep, "nova", "tags") == sum(len(i.tags) for i in instances if i.cell == "cell1")
    assert count(dep, "nova", "instance_id_mappings") == by_cell["cell1"]
    assert count(dep, "nova", "instance_actions_events", "result = 'Error'") >= 2
    assert count(dep, "nova_cell0", "instance_faults") == 1
    assert count(dep, "nova_cell0", "instance_actions") == 1
    pci = dep.query(
        "nova", "SELECT address FROM pci_devices WHERE instance_uuid = %s", (sc["multi_nic"].uuid,)
    )
    assert sorted(r["address"] for r in pci) == sorted(sc["multi_nic"].pci_addresses)
    assert count(dep, "cinder", "snapshots") == 4 and count(dep, "cinder", "backups") == 4
    assert count(dep, "cinder", "encryption") == 1
    assert count(dep, "cinder", "volume_glance_metadata", "snapshot_id IS NOT NULL") > 0
    assert count(dep, "placement", "resource_classes") >= 21
    assert count(dep, "placement", "projects") == len({i.project_id for i in instances if i.cell == "cell1"
                                                       and not i.shelved and not i.deleted})  # fmt: skip

    # -- release-aware columns ----------------------------------------------------------
    version = get_release(release).compute_service_version
    assert count(dep, "nova", "services", "`binary` = 'nova-compute' AND version = %s", (version,)) == 3
    assert count(dep, "nova", "services", "disabled = 1") == 1
    inst_cols = catalog_snapshot(release, "nova").table("instances").column_names
    if "compute_id" in inst_cols:
        sql = (
            "SELECT COUNT(*) AS n FROM instances i JOIN compute_nodes c ON c.host = i.host "
            "AND c.hypervisor_hostname = i.node WHERE NOT i.compute_id <=> c.id"
        )
        assert dep.query("nova", sql)[0]["n"] == 0
        assert count(dep, "nova", "instances", "host IS NOT NULL AND compute_id IS NULL") == 0

    # -- network_info shape and VIF rows -------------------------------------------------
    rows = dep.query("nova", "SELECT instance_uuid, network_info FROM instance_info_caches")
    caches = {r["instance_uuid"]: json.loads(r["network_info"]) for r in rows}
    for inst in sc["plain"] + [sc["multi_nic"]]:
        vifs = {v["id"]: v for v in caches[inst.uuid]}
        for port in inst.ports:
            vif = vifs[port.id]
            assert vif["devname"] == "tap" + port.id[:11] == port.devname
            assert vif["address"] == port.mac
            assert vif["network"]["subnets"][0]["ips"][0]["address"] == port.ip
            expected_type = {"ovs_hybrid": "ovs", "ovs": "ovs", "bridge": "bridge", "vhostuser": "vhostuser"}
            assert vif["type"] == expected_type[port.vif_type]
            if port.vif_type == "bridge":
                assert vif["network"]["bridge"] == "brq" + port.network_id[:11]
                assert vif["ovs_interfaceid"] is None
            else:
                assert vif["network"]["bridge"] == "br-int" and vif["ovs_interfaceid"] == port.id
            if port.vif_type.startswith("ovs"):
                assert vif["details"]["ovs_hybrid_plug"] is (port.vif_type == "ovs_hybrid")
            if port.vif_type == "vhostuser":
                assert vif["details"]["vhostuser_socket"] == "/var/run/openvswitch/vhu" + port.id[:11]
    assert caches[sc["shelved"].uuid]
    cell0_cache = dep.query("nova_cell0", "SELECT network_info FROM instance_info_caches")
    assert json.loads(cell0_cache[0]["network_info"]) == []

    # -- BDMs and Cinder attachments agree ------------------------------------------------
    bdms = [b for role in CELL_ROLES for b in dep.query(
        role, "SELECT * FROM block_device_mapping WHERE source_type = 'volume' AND deleted = 0")]  # fmt: skip
    attachments = {
        a["id"]: a for a in dep.query("cinder", "SELECT * FROM volume_attachment WHERE deleted = 0")
    }
    assert bdms and len(bdms) == len(attachments)
    for bdm in bdms:
        att = attachments[bdm["attachment_id"]]
        assert (att["volume_id"], att["instance_uuid"]) == (bdm["volume_id"], bdm["instance_uuid"])
        info = json.loads(bdm["connection_info"])
        assert info["serial"] == bdm["volume_id"] and info["instance"] == bdm["instance_uuid"]
        if att["attach_status"] == "attached":
            flat = json.loads(att["connection_info"])
            assert flat["attachment_id"] == att["id"]
            assert flat["driver_volume_type"] == info["driver_volume_type"]
            assert json.loads(att["connector"])["mountpoint"] == bdm["device_name"] == att["mountpoint"]
        else:
            assert att["attach_status"] == "reserved" and bdm["instance_uuid"] == sc["shelved"].uuid
    protocols = Counter(json.loads(b["connection_info"])["driver_volume_type"] for b in bdms)
    assert set(protocols) == {"iscsi", "rbd", "fibre_channel", "nfs"}
    multi = sc["volumes"][5]
    assert multi.multiattach and len(multi.attachments) == 2
    vol_rows = {v["id"]: v for v in dep.query("cinder", "SELECT * FROM volumes")}
    assert vol_rows[multi.id]["status"] == "in-use" and vol_rows[multi.id]["multiattach"] == 1
    assert vol_rows[sc["shelved"].volumes[0]]["status"] == "reserved"
    assert vol_rows[sc["gone"].volumes[0]]["status"] == "available"
    assert vol_rows[sc["volumes"][4].id]["encryption_key_id"]
    iscsi_mp = json.loads(attachments[sc["volumes"][1].attachments[0]]["connection_info"])
    assert len(iscsi_mp["target_portals"]) == len(iscsi_mp["target_iqns"]) == 2

    # -- placement allocations match flavors -------------------------------------------
    flavors = {f["id"]: f for f in dep.query("nova_api", "SELECT * FROM flavors")}
    allocs: dict[tuple[str, int], dict[int, int]] = defaultdict(dict)
    for a in dep.query("placement", "SELECT * FROM allocations"):
        allocs[(a["consumer_id"], a["resource_provider_id"])][a["resource_class_id"]] = a["used"]
    providers = {
        r["uuid"]: r["id"] for r in dep.query("placement", "SELECT id, uuid FROM resource_providers")
    }
    nodes = {
        r["host"]: providers[r["uuid"]] for r in dep.query("nova", "SELECT host, uuid FROM compute_nodes")
    }
    migs = {m["instance_uuid"]: m for m in dep.query("nova", "SELECT * FROM migrations")}
    for row in dep.query("nova", "SELECT * FROM instances WHERE deleted = 0 AND host IS NOT NULL"):
        mig = migs.get(row["uuid"])
        if mig is None:
            f = flavors[row["instance_type_id"]]
            assert allocs[(row["uuid"], nodes[row["host"]])] == {
                0: f["vcpus"],
                1: f["memory_mb"],
                2: f["root_gb"],
            }
            assert row["vcpus"] == f["vcpus"] and row["memory_mb"] == f["memory_mb"]
            continue
        old, new = flavors[mig["old_instance_type_id"]], flavors[mig["new_instance_type_id"]]
        assert allocs[(mig["uuid"], nodes[mig["source_compute"]])] == {0: old["vcpus"], 1: old["memory_mb"],
                                                                       2: old["root_gb"]}  # fmt: skip
        assert allocs[(row["uuid"], nodes[mig["dest_compute"]])] == {0: new["vcpus"], 1: new["memory_mb"],
                                                                     2: new["root_gb"]}  # fmt: skip
        assert json.loads(dep.query("nova", "SELECT migration_context FROM instance_extra WHERE instance_uuid"
                                            " = %s", (row["uuid"],))[0]["migration_context"])[
            "nova_object.data"]["migration_id"] == mig["id"]  # fmt: skip
    consumers = {c["uuid"] for c in dep.query("placement", "SELECT uuid FROM consumers")}
    assert consumers == {c for c, _ in allocs}
    assert sc["cell0"].uuid not in consumers and sc["shelved"].uuid not in consumers
    assert sc["gone"].uuid not in consumers and sc["migrating"].migration in consumers
    usage = dep.query("nova", "SELECT host, vcpus_used FROM compute_nodes")
    per_rp = Counter()
    for (_, rp), used in allocs.items():
        per_rp[rp] += used.get(0, 0)
    assert {nodes[u["host"]]: u["vcpus_used"] for u in usage} == {rp: per_rp[rp] for rp in nodes.values()}

    # -- nova_api agrees with the cells -------------------------------------------------
    cells = {c["name"]: c["id"] for c in dep.query("nova_api", "SELECT id, name FROM cell_mappings")}
    for m in dep.query("nova_api", "SELECT * FROM instance_mappings"):
        inst = next(i for i in instances if i.uuid == m["instance_uuid"])
        assert m["cell_id"] == cells[inst.cell] and m["project_id"] == inst.project_id
        assert m["queued_for_delete"] == int(inst.deleted)
    spec = json.loads(dep.query("nova_api", "SELECT spec FROM request_specs LIMIT 1")[0]["spec"])
    assert (
        spec["nova_object.name"] == "RequestSpec" and spec["nova_object.data"]["flavor"]["nova_object.name"]
    )

    # -- quota usages equal an independent recount, FKs hold ------------------------------
    stored = {(q["project_id"], q["resource"]): q["in_use"]
              for q in dep.query("cinder", "SELECT * FROM quota_usages WHERE deleted = 0")}  # fmt: skip
    assert stored == recount_cinder_quota(dep)
    assert_no_orphans(dep)


def test_deterministic_and_extendable(make_deployment) -> None:
    """Same seed, same rows; a second Seeder on the same deployment extends it cleanly."""
    a, b = make_deployment("2025.1"), make_deployment("2025.1")
    sa, sb = seed_scenario(a, seed=3), seed_scenario(b, seed=3)
    assert [i.uuid for i in sa["instances"]] == [i.uuid for i in sb["instances"]]
    assert [v.id for v in sa["volumes"]] == [v.id for v in sb["volumes"]]
    q = "SELECT uuid, display_name, created_at, host, vm_state FROM instances ORDER BY id"
    assert a.query("nova", q) == b.query("nova", q)
    more = Seeder(a, seed=99)
    extra = more.instance(host="cmp-01", volumes=1, migration="migration")
    more.volume(attach_to=extra, protocol="rbd", snapshots=1)
    more.flush()
    assert count(a, "nova_api", "flavors", "name = 'm1.small'") == 1
    assert count(a, "cinder", "volume_types", "name = 'ceph'") == 1
    assert count(a, "nova", "instances") == len(sa["instances"]) - 1 + 1
    stored = {(q["project_id"], q["resource"]): q["in_use"]
              for q in a.query("cinder", "SELECT * FROM quota_usages WHERE deleted = 0")}  # fmt: skip
    assert stored == recount_cinder_quota(a)
    assert more.sync_cinder_quota_usages() == len(stored)
    assert_no_orphans(a)


def test_consumer_types_option(make_deployment) -> None:
    dep = make_deployment("2026.2")
    s = Seeder(dep, seed=5, consumer_types=True)
    inst = s.instance(migration="resize")
    s.flush()
    rows = dep.query("placement", "SELECT c.uuid, t.name FROM consumers c JOIN consumer_types t "
                                  "ON t.id = c.consumer_type_id")  # fmt: skip
    assert {r["uuid"]: r["name"] for r in rows} == {inst.uuid: "INSTANCE", inst.migration: "MIGRATION"}
    default = Seeder(make_deployment("2026.2"), seed=5)
    default.instance()
    default.flush()
    assert count(default.dep, "placement", "consumers", "consumer_type_id IS NULL") == 1


def test_rejects_impossible_requests(make_deployment) -> None:
    s = Seeder(make_deployment("zed"), seed=1)
    with pytest.raises(SeedError):
        s.instance(vif_types=("macvtap",))
    with pytest.raises(SeedError):
        s.instance(cell="cell0", volumes=1)
    with pytest.raises(SeedError):
        s.volume(encrypted=True, multiattach=True)
    inst = s.instance()
    with pytest.raises(SeedError):
        s.volume(attach_to=inst, also_attach_to=[inst])


def test_bulk_5000(make_deployment) -> None:
    dep = make_deployment("2025.1")
    s = Seeder(dep, seed=11)
    started = time.monotonic()
    seeded = s.bulk_instances(5000, projects=5)
    elapsed = time.monotonic() - started
    assert len(seeded) == len({i.uuid for i in seeded}) == 5000
    assert count(dep, "nova", "instances") == 5000
    assert count(dep, "nova", "compute_nodes") == 125
    assert count(dep, "nova", "virtual_interfaces") == 5000
    assert count(dep, "nova", "instance_extra") == 5000
    assert count(dep, "nova_api", "instance_mappings") == count(dep, "nova_api", "request_specs") == 5000
    assert count(dep, "placement", "consumers") == 5000
    assert count(dep, "placement", "allocations") == 15000
    assert count(dep, "placement", "projects") == 5
    total = dep.query("placement", "SELECT SUM(used) AS s FROM allocations WHERE resource_class_id = 0")[0][
        "s"
    ]
    assert total == dep.query("nova", "SELECT SUM(vcpus) AS s FROM instances")[0]["s"]
    assert elapsed < 20, f"bulk seeding of 5000 instances took {elapsed:.1f}s"
