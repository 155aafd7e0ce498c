"""Offline VM bundles (no database at generation), proven by running them on real schemas."""

from __future__ import annotations

import json

import pytest

from generator.connect.sources import ConnectionOptions, resolve
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from tests.bundles import (
    BundleRun,
    all_states,
    allowed_changes,
    assert_all_ok,
    assert_identical,
    assert_only_planned_rows_changed,
    assert_values_as_planned,
    run_offline,
)
from tests.conftest import SCHEMA_SET_RELEASES
from tests.db.plan.test_vm_bundles import check_semantics, generate, seed_world

pytestmark = pytest.mark.db

NO_DATABASE = resolve(ConnectionOptions(), env={})


@pytest.mark.parametrize("op", ["soft-delete", "purge", "rehost"])
@pytest.mark.parametrize("release", SCHEMA_SET_RELEASES)
def test_offline_bundle_apply_rerun_rollback(make_deployment, tmp_path, release: str, op: str) -> None:
    dep = make_deployment(release)
    target = seed_world(dep, op=op)
    node = dep.query("nova", "SELECT hypervisor_hostname FROM compute_nodes WHERE host = 'cmp-02'")[0]
    result = generate_vm(
        target.uuid,
        VmOptions(op=op, to_host="cmp-02", to_node=node["hypervisor_hostname"]),
        NO_DATABASE,
        release,
        OutputOptions(out_dir=tmp_path),
    )
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["mode"] == "offline" and result.lint.passed
    assert "Offline bundle" in (result.path / "README.md").read_text()
    # oracle for "nothing else changed": the rows the live planner names for the same world
    extra = {"to_node": node["hypervisor_hostname"]} if op == "rehost" else {}
    live = generate(dep, target.uuid, op, tmp_path / "live", **extra)
    allowed = allowed_changes(live.plan, dep, BundleRun(dep, live.path))
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    assert_all_ok(run_offline(run, "precheck"))  # includes the capture steps, which write the rollback
    assert_identical(before, all_states(dep))
    assert_all_ok(run_offline(run, "apply"))
    after = all_states(dep)
    assert assert_only_planned_rows_changed(before, after, allowed) > 0
    check_semantics(dep, op, target.uuid) if op != "rehost" else None
    if op != "rehost":  # an 'error' migration is no open move offline (its warning): test_offline_rehost
        assert assert_values_as_planned(live.plan, dep, BundleRun(dep, live.path)) > 0
    assert_all_ok(run_offline(run, "verify"))
    reruns = run_offline(run, "apply")  # re-run: finds nothing left to change...
    if op == "purge":  # ...or, the instance row being gone, stops at its precondition
        assert not reruns[0].ok and "ERROR 1242" in reruns[0].stderr
    else:
        assert_all_ok(reruns)
    assert_identical(after, all_states(dep))
    assert_all_ok(run_offline(run, "rollback"))
    assert_identical(before, all_states(dep))


def test_offline_refuses_at_run_time_against_the_wrong_database(make_deployment, tmp_path) -> None:
    dep = make_deployment("2025.1")
    seed_world(dep, op="soft-delete")
    ghost = "0f0f0f0f-0000-4000-8000-000000000001"
    result = generate_vm(
        ghost, VmOptions(op="soft-delete"), NO_DATABASE, "2025.1", OutputOptions(out_dir=tmp_path)
    )
    before = all_states(dep)
    runs = run_offline(BundleRun(dep, result.path), "apply")
    assert not runs[-1].ok and "ERROR 1242" in runs[-1].stderr
    assert_identical(before, all_states(dep))


def test_offline_refuses_a_healthy_instance_at_run_time(make_deployment, tmp_path) -> None:
    from generator.seed import Seeder

    dep = make_deployment("2024.1")
    s = Seeder(dep, seed=3)
    healthy = s.instance(host=s.compute_host("cmp-01"))
    s.flush()
    result = generate_vm(
        healthy.uuid, VmOptions(op="soft-delete"), NO_DATABASE, "2024.1", OutputOptions(out_dir=tmp_path)
    )
    before = all_states(dep)
    runs = run_offline(BundleRun(dep, result.path), "apply")
    assert not runs[-1].ok
    assert_identical(before, all_states(dep))


def _seed_two_volumes(dep):
    """The instance stuck in 'deleting' with two attached volumes: one its own, whose attachment has
    legacy attachment_specs (the close migrates them into the connector), one multiattach volume
    another instance also holds (it stays in-use); among other instances with volumes."""
    from generator.seed import Seeder

    s = Seeder(dep, seed=29)
    h1, h2 = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    others = [s.instance(host=h1 if i % 2 else h2, vif_types=("ovs",), volumes=i % 3) for i in range(4)]
    target = s.instance(host=h1, vm_state="error", task_state="deleting", power_state=4, volumes=1)
    s.volume(attach_to=target, also_attach_to=[others[0]], multiattach=True, protocol="iscsi")
    s.flush()
    attachments = dep.query(
        "cinder",
        "SELECT id, volume_id FROM volume_attachment WHERE instance_uuid = %s AND deleted = 0 ORDER BY id",
        (target.uuid,),
    )
    assert len(attachments) == 2
    for key, value in (("host", "cmp-01"), ("initiator", "iqn.1994-05.com.redhat:cmp-01"), ("os_type", None)):
        dep.execute(
            "cinder",
            "INSERT INTO attachment_specs (created_at, deleted, attachment_id, `key`, value) "
            "VALUES (NOW(), 0, %s, %s, %s)",
            (attachments[0]["id"], key, value),
        )
    return target.uuid, [a["volume_id"] for a in attachments]


def _cinder_of(dep, uuid: str, volumes: list[str]) -> dict:
    holes = ", ".join(["%s"] * len(volumes))
    return {
        "live attachments": dep.query(
            "cinder",
            "SELECT COUNT(*) AS n FROM volume_attachment WHERE instance_uuid = %s AND deleted = 0",
            (uuid,),
        )[0]["n"],
        "volumes": [
            (v["status"], v["attach_status"])
            for v in dep.query(
                "cinder",
                f"SELECT status, attach_status FROM volumes WHERE id IN ({holes}) ORDER BY id",
                volumes,
            )
        ],
        "attached_mode": dep.query(
            "cinder",
            f"SELECT COUNT(*) AS n FROM volume_admin_metadata WHERE volume_id IN ({holes}) "
            "AND `key` = 'attached_mode' AND deleted = 0",
            volumes,
        )[0]["n"],
        "live specs": dep.query("cinder", "SELECT COUNT(*) AS n FROM attachment_specs WHERE deleted = 0")[0][
            "n"
        ],
    }


@pytest.mark.parametrize(
    ("op", "chunk_rows"),
    [("soft-delete", None), ("purge", None), ("soft-delete", 6)],
    ids=["soft-delete", "purge", "soft-delete-rounds-of-6-rows"],
)
def test_offline_with_cinder_ends_the_attachments_as_the_live_bundle(
    make_deployment, tmp_path, op: str, chunk_rows: int | None
) -> None:
    # rounds of 6 rows (the Cinder file: 1 volume, 2 attached_mode, 2 attachments, 1 spec, then 2 specs):
    # a step reaches its rows only once the steps before it are done, each round its own transaction
    release = "2025.1"
    dep = make_deployment(release)
    uuid, volumes = _seed_two_volumes(dep)
    result = generate_vm(
        uuid,
        VmOptions(op=op, with_cinder=True),
        NO_DATABASE,
        release,
        OutputOptions(out_dir=tmp_path / "off", **({"chunk_rows": chunk_rows} if chunk_rows else {})),
    )
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert result.lint.passed, [f.describe() for f in result.lint.findings]
    assert {s["target"] for s in manifest["steps"] if s["kind"] == "sql"} >= {"db:nova", "db:cinder"}
    cinder_before = _cinder_of(dep, uuid, volumes)
    assert cinder_before["live attachments"] == 2 and cinder_before["live specs"] == 3
    assert cinder_before["attached_mode"] == 2 and cinder_before["volumes"] == [("in-use", "attached")] * 2
    live = generate(dep, uuid, op, tmp_path / "live")  # the oracle: the live plan of the same rows
    allowed = allowed_changes(live.plan, dep, BundleRun(dep, live.path))
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    assert_all_ok(run_offline(run, "precheck"))
    assert_identical(before, all_states(dep))
    applied = run_offline(run, "apply")
    assert_all_ok(applied)
    if chunk_rows:
        assert "step 4: attachment_specs (round 2)\t2" in applied[-1].stdout, applied[-1].stdout
    after = all_states(dep)
    assert assert_only_planned_rows_changed(before, after, allowed) > 0
    cinder_after = _cinder_of(dep, uuid, volumes)
    assert cinder_after["live attachments"] == 0 and cinder_after["attached_mode"] == 0
    assert sorted(cinder_after["volumes"]) == [("available", "detached"), ("in-use", "attached")]
    assert cinder_after["live specs"] == 0
    # every row the live plan updates, the offline bundle left with the same values (connector included)
    compared = assert_values_as_planned(live.plan, dep, BundleRun(dep, live.path))
    cinder_tables = {(op_.table) for op_ in live.plan.operations if op_.database == "cinder"}
    assert {"volume_attachment", "volumes", "attachment_specs", "volume_admin_metadata"} <= cinder_tables
    assert compared > 0
    for role, table in allowed:  # the offline bundle changed every Cinder row the live one would
        if role == "cinder":
            assert not allowed[(role, table)] - diff_keys(before, after, role, table), table
    assert_all_ok(run_offline(run, "verify"))
    reruns = run_offline(run, "apply")
    if op == "purge":  # the instance row being gone, the Nova cell file stops at its precondition...
        assert not reruns[0].ok and "ERROR 1242" in reruns[0].stderr
        cinder_rerun = [
            s for s in run.manifest["steps"] if s["phase"] == "apply" and s["target"] == "db:cinder"
        ]
        from generator.rehearse.client import run_sql_file

        assert_all_ok([run_sql_file(run.url_for("db:cinder"), run.path / s["file"]) for s in cinder_rerun])
    else:
        assert_all_ok(reruns)
    assert_identical(after, all_states(dep))  # ...and the Cinder file, run again, finds nothing left
    assert_all_ok(run_offline(run, "rollback"))
    assert_identical(before, all_states(dep))


def diff_keys(before, after, role: str, table: str) -> set:
    from generator.rehearse.tables import diff_states

    diff = diff_states(before[role], after[role]).get(table)
    return set(diff.keys) if diff else set()


def test_offline_with_cinder_keeps_an_uploading_volumes_status_as_cinder_does(
    make_deployment, tmp_path
) -> None:
    # volume_detached keeps the status of a volume being uploaded once nothing stays attached (the upload
    # sets it later); attach_status still becomes 'detached' — the live plan's detached_volume_statuses
    release = "2025.1"
    dep = make_deployment(release)
    uuid, volumes = _seed_two_volumes(dep)
    own = volumes[0]  # not the multiattach one: nothing stays attached
    dep.execute("cinder", "UPDATE volumes SET status = 'uploading' WHERE id = %s", (own,))
    result = generate_vm(
        uuid,
        VmOptions(op="soft-delete", with_cinder=True),
        NO_DATABASE,
        release,
        OutputOptions(out_dir=tmp_path / "off"),
    )
    live = generate(dep, uuid, "soft-delete", tmp_path / "live")
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    assert_all_ok(run_offline(run, "precheck"))
    assert_all_ok(run_offline(run, "apply"))
    row = dep.query("cinder", "SELECT status, attach_status FROM volumes WHERE id = %s", (own,))[0]
    assert (row["status"], row["attach_status"]) == ("uploading", "detached")
    assert assert_values_as_planned(live.plan, dep, BundleRun(dep, live.path)) > 0
    assert_all_ok(run_offline(run, "rollback"))
    assert_identical(before, all_states(dep))


@pytest.mark.parametrize("op", ["soft-delete", "purge"])
def test_offline_with_cinder_controller_deletes_the_captured_delete_on_termination_volumes(
    make_deployment, tmp_path, op: str
) -> None:
    # Nova's delete (_cleanup_volumes) deletes a delete_on_termination volume through Cinder's API once
    # its attachment is ended; offline the Nova cell capture lists them (the apply soft-deletes or purges
    # the BDMs naming them) and shell/controller.sh reads them from it. A BDM whose volume_id could end
    # the capture's comment line is printed as hex, reported and never deleted.
    import hashlib

    from generator.render.offline_doomed import prefixes
    from tests.shell_fixtures.fakehost import FakeHost, destructive
    from tests.shell_fixtures.scenarios import CREDENTIALS

    release = "2025.1"
    dep = make_deployment(release)
    uuid, volumes = _seed_two_volumes(dep)
    own, shared = volumes  # own: nothing else holds it; shared: multiattach, another instance keeps it
    dep.execute(
        "nova",
        "UPDATE block_device_mapping SET delete_on_termination = 1 "
        "WHERE instance_uuid = %s AND volume_id IN (%s, %s)",
        (uuid, own, shared),
    )
    hostile = "a\n-- fixpack delete_on_termination v"  # 36 characters, a newline among them
    dep.execute(
        "nova",
        "INSERT INTO block_device_mapping (created_at, deleted, instance_uuid, source_type, "
        "destination_type, delete_on_termination, volume_id, device_name, boot_index) "
        "VALUES (NOW(), 0, %s, 'volume', 'volume', 1, %s, '/dev/vdz', NULL)",
        (uuid, hostile),
    )
    result = generate_vm(
        uuid,
        VmOptions(op=op, with_cinder=True),
        NO_DATABASE,
        release,
        OutputOptions(out_dir=tmp_path / "off"),
    )
    assert result.lint.passed, [f.describe() for f in result.lint.findings]
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    assert_all_ok(run_offline(run, "precheck"))
    nova_capture = next(
        s["produces"] for s in run.manifest["steps"] if s.get("produces") and s["target"] == "db:nova"
    )
    captured = result.path / nova_capture
    body = captured.read_bytes()
    (result.path / f"{nova_capture}.sha256").write_text(
        f"{hashlib.sha256(body).hexdigest()}  {nova_capture}\n"
    )
    listed = [ln for ln in body.decode().splitlines() if ln.startswith("-- fixpack delete_on_termination")]
    count, volume, not_uuid = prefixes(uuid)
    assert listed == [
        f"{count}3",
        *sorted([f"{not_uuid}{hostile.encode().hex().upper()}", *(f"{volume}{v}" for v in (own, shared))]),
    ]
    assert_all_ok(run_offline(run, "apply"))
    after = all_states(dep)
    assert_all_ok(run_offline(run, "verify"))

    host = FakeHost(tmp_path / "controller")
    states = {
        v["id"]: v["status"]
        for v in dep.query("cinder", "SELECT id, status FROM volumes WHERE id IN (%s, %s)", (own, shared))
    }
    assert states == {own: "available", shared: "in-use"}  # the Cinder apply ended the attachment
    (host.state / "openstack/volume").mkdir()
    for vid, status in states.items():
        (host.state / "openstack/volume" / vid).write_text(status + "\n")
    script = result.path / "shell/controller.sh"
    first = host.run(script, "--execute", env=CREDENTIALS)
    assert first.returncode == 4, first.output  # the hostile id and the in-use shared volume: left alone
    assert destructive(first.calls) == [f"openstack volume delete {own}"]
    assert "names a volume_id that is no UUID" in first.stdout
    assert f"volume {shared} is 'in-use', not available" in first.stdout
    again = host.run(script, "--execute", env=CREDENTIALS)
    assert destructive(again.calls) == [] and f"volume {own} does not exist (already deleted)" in again.stdout

    reruns = run_offline(run, "apply")
    assert (not reruns[0].ok) if op == "purge" else all(r.ok for r in reruns)
    assert_identical(after, all_states(dep))
    assert_all_ok(run_offline(run, "rollback"))
    assert_identical(before, all_states(dep))


@pytest.mark.parametrize("op", ["soft-delete", "purge"])
def test_offline_placement_release_other_than_nova(make_deployment, tmp_path, op: str) -> None:
    # Nova at 2025.1, Placement still at 2023.1 (its schema has three more indexes): the bundle takes
    # Placement's schema from --placement-release, so `fixpack verify` finds it unchanged and the
    # bundle runs there; from --release alone verify says the Placement schema changed
    from generator.review.bundle import Bundle
    from generator.review.verify import verify_bundle
    from generator.scratch.deployment import admin_connection
    from generator.scratch.loader import load_release
    from tests.bundles import targets_for

    release, placement_release = "2025.1", "2023.1"
    dep = make_deployment(release)
    conn = admin_connection(dep.server, None)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE `{dep.names['placement']}`")
        load_release(conn, dep.names["placement"], placement_release, "placement")
    finally:
        conn.close()
    target = seed_world(dep, op=op)

    def placement_check(path):
        report = verify_bundle(Bundle.open(path), targets_for(dep, nova=True))
        assert report.live is not None
        return next(d for d in report.live if d.role == "placement")

    same = generate_vm(
        target.uuid, VmOptions(op=op), NO_DATABASE, release, OutputOptions(out_dir=tmp_path / "a")
    )
    assert not placement_check(same.path).schema_ok  # what an offline bundle was before --placement-release
    result = generate_vm(
        target.uuid,
        VmOptions(op=op, placement_release=placement_release),
        NO_DATABASE,
        release,
        OutputOptions(out_dir=tmp_path / "b"),
    )
    databases = json.loads((result.path / "manifest.json").read_text())["databases"]
    assert databases["placement"]["release"] == placement_release and databases["nova"]["release"] == release
    assert placement_check(result.path).schema_ok
    held = "SELECT COUNT(*) AS n FROM allocations WHERE consumer_id = %s"
    assert dep.query("placement", held, (target.uuid,))[0]["n"] > 0
    live = generate(dep, target.uuid, op, tmp_path / "live")  # the oracle: what the live plan changes
    allowed = allowed_changes(live.plan, dep, BundleRun(dep, live.path))
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    assert_all_ok(run_offline(run, "precheck"))
    assert_all_ok(run_offline(run, "apply"))
    after = all_states(dep)
    assert assert_only_planned_rows_changed(before, after, allowed) > 0
    assert dep.query("placement", held, (target.uuid,))[0]["n"] == 0
    assert_all_ok(run_offline(run, "verify"))
    reruns = run_offline(run, "apply")
    assert (not reruns[0].ok) if op == "purge" else all(r.ok for r in reruns)
    assert_identical(after, all_states(dep))
    assert_all_ok(run_offline(run, "rollback"))
    assert_identical(before, all_states(dep))
