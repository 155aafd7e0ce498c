"""Cross-service repairs audited against upstream Nova and Cinder, proven on real databases.

Each test seeds the case upstream code treats specially and either checks the refusal
(one line, exit 5, nothing written) or executes the bundle: apply, the postconditions,
nothing else changed, re-run, rollback, every table identical.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.cli import main
from generator.connect.sources import ConnectionOptions, resolve
from generator.jobs_volume import generate_volume
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.overrides import Overrides
from generator.plan.vm_common import VmOptions
from generator.plan.volume_common import VolumeOptions
from generator.seed import Seeder
from tests.bundles import (
    BundleRun,
    all_states,
    allowed_changes,
    assert_all_ok,
    assert_identical,
    assert_only_planned_rows_changed,
    run_offline,
    targets_for,
)
from tests.conftest import ALL_RELEASES
from tests.volume_world import close_cinder_attachment

pytestmark = pytest.mark.db
NEWEST = ALL_RELEASES[-1]


def prove(dep, result) -> None:
    """Execute a generated bundle: apply, only planned rows, verify, re-run, rollback identical."""
    assert result.lint.passed, [f.describe() for f in result.lint.findings]
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    assert_all_ok(run.run("precheck"))
    assert_all_ok(run.run("apply"))
    after = all_states(dep)
    assert assert_only_planned_rows_changed(before, after, allowed_changes(result.plan, dep, run)) > 0
    assert_all_ok(run.run("verify"))
    assert all("already done; nothing changed" in r.stdout for r in run.run("apply"))
    assert_identical(after, all_states(dep))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))


def one(dep, role: str, sql: str, *params) -> dict:
    rows = dep.query(role, sql, params)
    assert len(rows) == 1, rows
    return rows[0]


def urls(dep) -> list[str]:
    return [
        "--cinder-url",
        dep.url("cinder").render(with_password=True),
        "--nova-api-url",
        dep.url("nova_api").render(with_password=True),
    ]


# 1. the root BDM of a boot-from-volume instance ---------------------------------------------


def test_detach_from_nova_refuses_the_root_volume_of_a_live_instance(make_deployment, capsys, tmp_path):
    dep = make_deployment(NEWEST)
    s = Seeder(dep, seed=41)
    inst = s.instance(host="cmp-01", vm_state="stopped", power_state=4, volumes=1)
    s.flush()
    (vol,) = inst.volumes
    close_cinder_attachment(dep, vol)
    dep.execute("nova", "UPDATE block_device_mapping SET boot_index = 0 WHERE volume_id = %s", (vol,))
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["volume", vol, "--op", "detach-from-nova", *urls(dep), "-o", str(out)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 5, err
    assert err.count("\n") == 1 and "Cannot detach a root device volume" in err, err
    assert not out.exists() or not any(out.iterdir())
    # a second disk of the same instance still goes
    dep.execute("nova", "UPDATE block_device_mapping SET boot_index = 1 WHERE volume_id = %s", (vol,))
    with pytest.raises(SystemExit) as exit_info:
        main(["volume", vol, "--op", "detach-from-nova", *urls(dep), "-o", str(out)])
    assert exit_info.value.code == 0, capsys.readouterr().err


# 2. PCI devices freed as PciDevice.free() does ------------------------------------------------


def add_pci(
    dep, node: int, address: str, dev_type: str, status: str, parent: str | None, instance=None
) -> None:
    dep.execute(
        "nova",
        "INSERT INTO pci_devices (created_at, deleted, compute_node_id, address, product_id, vendor_id, "
        "dev_type, dev_id, label, status, extra_info, instance_uuid, numa_node, parent_addr, uuid) "
        "VALUES (UTC_TIMESTAMP(), 0, %s, %s, '154c', '8086', %s, %s, 'label_8086_154c', %s, '{}', %s, 0, %s, "
        "UUID())",
        (
            node,
            address,
            dev_type,
            "pci_" + address.replace(":", "_").replace(".", "_"),
            status,
            instance,
            parent,
        ),
    )


def pci_status(dep, address: str) -> str:
    return one(dep, "nova", "SELECT status FROM pci_devices WHERE address = %s", address)["status"]


@pytest.mark.parametrize("op", ["soft-delete", "purge"])
def test_pci_free_carries_the_pf_and_leaves_other_statuses(make_deployment, tmp_path, op: str) -> None:
    dep = make_deployment(NEWEST)
    s = Seeder(dep, seed=43)
    s.instance(host="cmp-01", pci_devices=1)  # another guest's VF of the same PF... freed below
    target = s.instance(host="cmp-01", vm_state="error", task_state="deleting", power_state=4, pci_devices=1)
    s.flush()
    node = target.compute_node_id
    add_pci(dep, node, "0000:81:00.0", "type-PF", "unavailable", None)  # the seeder's VFs' parent
    add_pci(dep, node, "0000:82:00.0", "type-PCI", "removed", None, target.uuid)  # free() refuses it
    (mine,) = target.pci_addresses
    # first: the other guest still uses a VF of the PF -> the PF stays unavailable
    result = generate_vm(
        target.uuid, VmOptions(op=op), targets_for(dep), "auto", OutputOptions(out_dir=tmp_path / "a")
    )
    assert [r for r in result.plan.findings if "related PF/VF" in r] == []
    prove(dep, result)
    # then: the other guest's VF is free -> freeing the last VF frees the PF
    dep.execute("nova", "UPDATE pci_devices SET status = 'available', instance_uuid = NULL "
                "WHERE dev_type = 'type-VF' AND address <> %s", (mine,))  # fmt: skip
    result = generate_vm(
        target.uuid, VmOptions(op=op), targets_for(dep), "auto", OutputOptions(out_dir=tmp_path / "b")
    )
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    assert_all_ok(run.run("apply"))
    assert pci_status(dep, mine) == "available" and pci_status(dep, "0000:81:00.0") == "available"
    removed = one(dep, "nova", "SELECT status, instance_uuid FROM pci_devices WHERE address = '0000:82:00.0'")
    assert removed == {"status": "removed", "instance_uuid": target.uuid}
    assert_all_ok(run.run("verify"))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))


# 3. rehost after a live migration that ended on the destination ----------------------------


@pytest.mark.parametrize("mode", ["live", "offline"])
def test_rehost_of_a_finished_live_migration_ends_it_as_nova_does(
    make_deployment, tmp_path, mode: str
) -> None:
    dep = make_deployment(NEWEST)
    s = Seeder(dep, seed=45)
    s.compute_host("cmp-01"), s.compute_host("cmp-02")
    target = s.instance(
        host="cmp-01", vm_state="active", task_state="migrating", migration="live-migration",
        migration_status="running",
    )  # fmt: skip
    s.flush()
    assert target.dest_host == "cmp-02"
    dep.execute("nova", "UPDATE instances SET progress = 37, updated_at = UTC_TIMESTAMP() - INTERVAL 2 DAY "
                "WHERE uuid = %s", (target.uuid,))  # fmt: skip
    node = one(dep, "nova", "SELECT hypervisor_hostname FROM compute_nodes WHERE host = 'cmp-02'")
    options = VmOptions(op="rehost", to_host="cmp-02", to_node=node["hypervisor_hostname"])
    if mode == "live":
        result = generate_vm(target.uuid, options, targets_for(dep), "auto", OutputOptions(out_dir=tmp_path))
        run = BundleRun(dep, result.path)
        before = all_states(dep)
        assert_all_ok(run.run("apply"))
    else:
        offline = resolve(ConnectionOptions(), env={})
        result = generate_vm(target.uuid, options, offline, NEWEST, OutputOptions(out_dir=tmp_path))
        run = BundleRun(dep, result.path)
        before = all_states(dep)
        assert_all_ok(run_offline(run, "precheck"))
        assert_all_ok(run_offline(run, "apply"))
    assert result.lint.passed
    row = one(dep, "nova", "SELECT host, task_state, progress FROM instances WHERE uuid = %s", target.uuid)
    assert row == {"host": "cmp-02", "task_state": None, "progress": 0}
    after = all_states(dep)
    if mode == "live":
        assert_only_planned_rows_changed(before, after, allowed_changes(result.plan, dep, run))
        assert_all_ok(run.run("verify"))
        assert all("already done; nothing changed" in r.stdout for r in run.run("apply"))
        assert_identical(after, all_states(dep))
        assert_all_ok(run.run("rollback"))
    else:
        assert_all_ok(run_offline(run, "verify"))
        assert_all_ok(run_offline(run, "apply"))
        assert_identical(after, all_states(dep))
        assert_all_ok(run_offline(run, "rollback"))
    assert_identical(before, all_states(dep))


# 4. --cascade and Cinder's own refusals ------------------------------------------------------


def cascade_world(dep):
    s = Seeder(dep, seed=47)
    vol = s.volume(status="error", snapshots=2)
    s.flush()
    snaps = [
        r["id"]
        for r in dep.query("cinder", "SELECT id FROM snapshots WHERE volume_id = %s ORDER BY id", (vol.id,))
    ]
    return vol, snaps


def gen_volume(dep, volume_id: str, out: Path, **options):
    return generate_volume(
        volume_id, VolumeOptions(**options), targets_for(dep), "auto", OutputOptions(out_dir=out)
    )


@pytest.mark.parametrize("op", ["soft-delete", "purge"])
def test_cascade_refuses_a_snapshot_status_cinder_refuses_unless_its_flag(
    make_deployment, capsys, tmp_path, op
):
    dep = make_deployment(NEWEST)
    vol, snaps = cascade_world(dep)
    dep.execute("cinder", "UPDATE snapshots SET status = 'error_deleting' WHERE id = %s", (snaps[0],))
    out = tmp_path / "refused"
    with pytest.raises(SystemExit) as exit_info:
        main(["volume", vol.id, "--op", op, "--cascade", *urls(dep), "-o", str(out)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 5 and err.count("\n") == 1, err
    assert f"{snaps[0]} (error_deleting)" in err and "--allow-snapshot-status" in err
    assert not out.exists() or not any(out.iterdir())
    result = gen_volume(
        dep, vol.id, tmp_path / "allowed", op=op, cascade=True, allow=Overrides.of("snapshot-status")
    )
    assert any(w.startswith("--allow-snapshot-status: ") for w in result.plan.warnings)
    prove(dep, result)


def test_cascade_refuses_a_snapshot_of_a_group_snapshot_live_and_offline(make_deployment, capsys, tmp_path):
    dep = make_deployment(NEWEST)
    vol, snaps = cascade_world(dep)
    group, gsnap = "6a0c1e2f-0000-4000-8000-00000000000a", "6a0c1e2f-0000-4000-8000-00000000000b"
    dep.execute(
        "cinder",
        "INSERT INTO `groups` (id, deleted, status, project_id) VALUES (%s, 0, 'available', %s)",
        (group, vol.project_id),
    )
    dep.execute(
        "cinder",
        "INSERT INTO group_snapshots (id, group_id, deleted, status) VALUES (%s, %s, 0, 'available')",
        (gsnap, group),
    )
    dep.execute("cinder", "UPDATE snapshots SET group_snapshot_id = %s WHERE id = %s", (gsnap, snaps[1]))
    with pytest.raises(SystemExit) as exit_info:
        main(["volume", vol.id, "--op", "soft-delete", "--cascade", "--allow-snapshot-status", *urls(dep),
              "-o", str(tmp_path / "live")])  # fmt: skip
    err = capsys.readouterr().err
    assert exit_info.value.code == 5 and err.count("\n") == 1, err
    assert f"{snaps[1]} (group snapshot {gsnap})" in err and "group-snapshot-delete" in err
    offline = generate_volume(
        vol.id,
        VolumeOptions(op="soft-delete", cascade=True),
        resolve(ConnectionOptions(), env={}),
        NEWEST,
        OutputOptions(out_dir=tmp_path / "off"),
    )
    before = all_states(dep)
    runs = run_offline(BundleRun(dep, offline.path), "precheck")
    assert not runs[-1].ok and "ERROR 1242" in runs[-1].stderr
    line = int(re.search(r"at line (\d+)", runs[-1].stderr).group(1))  # the failing guard: its comment above
    text = Path(runs[-1].file).read_text().splitlines()[line - 4 : line]
    assert any("precondition: no live snapshot of the volume is in a group snapshot" in t for t in text), text
    assert_identical(before, all_states(dep))


# 5. share_mapping on an instance delete, per release ------------------------------------------


@pytest.mark.parametrize(("release", "left"), [("2023.2", None), ("2024.1", 1), ("2025.1", 0), (NEWEST, 0)])
@pytest.mark.parametrize("mode", ["live", "offline"])
def test_soft_delete_treats_share_mappings_as_the_release_does(
    make_deployment, tmp_path, release, left, mode
):
    dep = make_deployment(release)
    s = Seeder(dep, seed=49)
    target = s.instance(host="cmp-01", vm_state="error", task_state="deleting", power_state=4)
    s.flush()
    if left is not None:
        dep.execute(
            "nova",
            "INSERT INTO share_mapping (created_at, uuid, instance_uuid, share_id, status, tag, "
            "export_location, share_proto) VALUES (UTC_TIMESTAMP(), UUID(), %s, "
            "'7b7b7b7b-0000-4000-8000-000000000002', 'active', 'data', '192.0.2.5:/shares/share-1', 'NFS')",
            (target.uuid,),
        )
    options = VmOptions(op="soft-delete")
    if mode == "live":
        result = generate_vm(target.uuid, options, targets_for(dep), "auto", OutputOptions(out_dir=tmp_path))
        text = " ".join(result.plan.warnings)
        if left == 0:
            assert "/var/lib/nova/mnt/" in text and "access_type ip" in text
        elif left == 1:
            assert "keeps them on delete" in text  # 2024.1 and 2024.2 share a schema: either is detected
        prove(dep, result)
        run = BundleRun(dep, result.path)
        assert_all_ok(run.run("apply"))
    else:
        offline = resolve(ConnectionOptions(), env={})
        result = generate_vm(target.uuid, options, offline, release, OutputOptions(out_dir=tmp_path))
        run = BundleRun(dep, result.path)
        before = all_states(dep)
        assert_all_ok(run_offline(run, "precheck"))
        assert_all_ok(run_offline(run, "apply"))
    if left is not None:
        count = one(
            dep, "nova", "SELECT COUNT(*) AS n FROM share_mapping WHERE instance_uuid = %s", target.uuid
        )
        assert count["n"] == left
    if mode == "offline":
        assert_all_ok(run_offline(run, "verify"))
        assert_all_ok(run_offline(run, "rollback"))
        assert_identical(before, all_states(dep))


# 6. offline purge and the migration consumers' allocations -----------------------------------


@pytest.mark.parametrize("op", ["purge", "soft-delete"])
def test_offline_purge_names_the_migration_consumers_it_cannot_free(make_deployment, tmp_path, op) -> None:
    dep = make_deployment(NEWEST)
    s = Seeder(dep, seed=51)
    s.compute_host("cmp-01"), s.compute_host("cmp-02")
    target = s.instance(
        host="cmp-01", vm_state="error", task_state="deleting", power_state=4, migration="resize"
    )
    s.flush()
    held = one(
        dep, "placement", "SELECT COUNT(*) AS n FROM allocations WHERE consumer_id = %s", target.migration
    )
    assert held["n"] > 0  # Nova's move: the migration consumer holds the source allocations
    offline = resolve(ConnectionOptions(), env={})
    result = generate_vm(target.uuid, VmOptions(op=op), offline, NEWEST, OutputOptions(out_dir=tmp_path))
    (warning,) = [w for w in result.plan.warnings if "placement consumer = migration uuid" in w]
    if op == "purge":
        assert "before the apply: the purge deletes the migrations rows" in warning
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    runs = run_offline(run, "precheck")
    assert_all_ok(runs)
    printed = [line for r in runs for line in r.stdout.splitlines() if line.startswith("migration\t")]
    assert len(printed) == 1 and printed[0].split("\t")[2] == target.migration, printed
    assert_all_ok(run_offline(run, "apply"))
    assert_all_ok(run_offline(run, "rollback"))
    assert_identical(before, all_states(dep))
