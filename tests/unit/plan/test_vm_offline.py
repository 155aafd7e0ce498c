"""plan/vm_offline.py: VM repairs planned from the catalog schema, rows found at run time."""

from __future__ import annotations

import datetime as dt

import pytest

from generator.errors import FixpackError
from generator.ops.operations import CopyColumn, DeleteRows, SetValue, UpdateRows
from generator.plan.overrides import Overrides
from generator.plan.vm_common import VmOptions
from generator.plan.vm_offline import plan_vm_offline
from tests.unit import world as w

U = w.INSTANCE


def _plan(op: str, release: str = w.RELEASE, **options):
    return plan_vm_offline(U, VmOptions(op=op, **options), release)


def test_offline_plan_has_no_rows_only_scopes():
    plan = _plan("soft-delete")
    assert plan.mode == "offline"
    for op in plan.operations:
        assert op.scope is not None and op.row_count is None, op.table


def test_offline_soft_delete_scope_selects_only_rows_still_live():
    op = w.one_op(_plan("soft-delete"), "instance_metadata")
    assert isinstance(op, UpdateRows) and dict(op.assignments)["deleted"] == CopyColumn("id")
    assert w.sql_of(op.scope.condition) == f"instance_uuid = '{U}' AND deleted = 0"


def test_offline_soft_delete_of_the_instance_row_selects_it_only_while_not_deleted():
    op = w.one_op(_plan("soft-delete"), "instances")
    assert w.sql_of(op.scope.condition) == f"uuid = '{U}' AND deleted = 0"


def test_offline_soft_delete_releases_only_allocated_or_claimed_pci_devices():
    op = w.one_op(_plan("soft-delete"), "pci_devices")
    assert "status IN ('allocated', 'claimed')" in w.sql_of(op.scope.condition)


def test_offline_instance_mapping_scope_skips_mappings_already_queued_for_delete():
    op = w.one_op(_plan("soft-delete"), "instance_mappings", "nova_api")
    assert "queued_for_delete = 0 OR queued_for_delete IS NULL" in w.sql_of(op.scope.condition)


def test_offline_preconditions_require_the_instance_here_and_not_healthy():
    pre = w.post_texts(_plan("soft-delete").preconditions)
    assert pre[0].startswith(f"nova: instance {U} is in this database")
    assert any("not a healthy running server" in p and "vm_state = 'active'" in p for p in pre)


def test_offline_allow_healthy_instance_drops_only_the_healthy_server_precondition():
    pre = w.post_texts(_plan("soft-delete", allow=Overrides.of("healthy-instance")).preconditions)
    assert not any("healthy" in p for p in pre)
    assert any("no task_state changed less than 1h ago" in p for p in pre)


def test_offline_staleness_precondition_uses_the_threshold_and_its_flag():
    pre = w.post_texts(_plan("soft-delete", stale_after=dt.timedelta(minutes=30)).preconditions)
    recent = next(p for p in pre if "no task_state changed less than 30m ago" in p)
    assert "INTERVAL '1800' SECOND" in recent or "INTERVAL 1800 SECOND" in recent, recent
    allowed = _plan("soft-delete", allow=Overrides.of("recent-transition")).preconditions
    assert not any("task_state changed" in p for p in w.post_texts(allowed))


def test_offline_soft_delete_warns_migration_allocations_are_unknown():
    assert any("migration uuid" in x for x in _plan("soft-delete").warnings)


def test_offline_purge_scope_of_block_device_mapping_is_instance_uuid_equals_target():
    op = w.one_op(_plan("purge"), "block_device_mapping")
    assert isinstance(op, DeleteRows)
    assert w.sql_of(op.scope.condition) == f"instance_uuid = '{U}'"


def test_offline_purge_deletes_the_instance_after_every_child_table():
    tables = [o.table for o in _plan("purge").operations_for("nova")]
    assert tables[-1] == "instances"
    assert tables.index("instance_actions_events") < tables.index("instance_actions")


def test_offline_purge_carries_a_postcondition_per_deleted_table():
    plan = _plan("purge")
    deleted = {o.table for o in plan.operations if isinstance(o, DeleteRows) and o.database == "nova"}
    described = {p.description for p in plan.postconditions if p.database == "nova"}
    assert {f"no {t} rows of the instance remain" for t in deleted} <= described


def test_offline_databases_are_the_catalog_schemas_of_the_release():
    plan = _plan("soft-delete", release="xena")
    assert [(d.role, d.release, d.database) for d in plan.databases] == [
        ("nova", "xena", None), ("nova_api", "xena", None), ("placement", "xena", None),
    ]  # fmt: skip
    assert all("offline: catalog schema" in d.detection for d in plan.databases)


def test_offline_soft_delete_asks_the_host_side_to_be_discovered():
    plan = _plan("soft-delete")
    assert plan.options["host_side"] == "instance"
    assert plan.controller.instance_uuid == U


def test_offline_rehost_needs_to_host_and_to_node():
    with pytest.raises(FixpackError, match="--to-host and --to-node"):
        _plan("rehost", to_host="cmp-02")


def test_offline_refuses_an_unknown_operation():
    with pytest.raises(FixpackError, match="unknown VM operation"):
        _plan("explode")


@pytest.mark.parametrize("op", ["soft-delete", "purge"])
def test_offline_delete_lists_what_to_finish_in_cinder(op):
    plan = _plan(op)
    (note,) = [x for x in plan.warnings if "Cinder is not changed" in x]
    assert "attachment-delete ATTACHMENT_ID" in note
    assert "openstack volume delete VOLUME_ID" in note
    assert not any(o.database == "cinder" for o in plan.operations)


def test_offline_purge_releases_only_allocated_or_claimed_pci_devices_and_says_relatives_are_not_carried():
    for op in ("soft-delete", "purge"):
        plan = _plan(op)
        pci = w.one_op(plan, "pci_devices")
        assert w.sql_of(pci.scope.condition) == (
            f"instance_uuid = '{U}' AND deleted = 0 AND status IN ('allocated', 'claimed')"
        )
        assert any("PciDevice.free() carries to their SR-IOV relatives" in x for x in plan.warnings)


def test_offline_purge_says_migration_consumers_are_not_freed_and_their_rows_go():
    plan = _plan("purge")
    (text,) = [x for x in plan.warnings if "placement consumer = migration uuid" in x]
    assert "`migration` lines" in text and "allocation delete CONSUMER" in text
    assert "do it before the apply: the purge deletes the migrations rows" in text
    assert w.ops_on(plan, "migrations")  # the rows still go, as a purge leaves no trace


@pytest.mark.parametrize("op", ["soft-delete", "purge"])
def test_offline_pci_release_stamps_updated_at_as_nova_saving_the_freed_device_does(op: str):
    # PciDevTracker.save -> pci_device_update, an ORM flush: updated_at = now (the live vm_pci does it)
    pci = w.one_op(_plan(op), "pci_devices")
    assert isinstance(pci, UpdateRows)
    assert {"updated_at"} <= pci.apply_time_columns
    assert dict(pci.assignments)["status"] == SetValue("available")


def test_placement_release_is_the_placement_targets_own():
    plan = plan_vm_offline(w.INSTANCE, VmOptions(op="soft-delete", placement_release="2023.1"), "2025.1")
    placement = plan.database("placement")
    assert plan.database("nova").release == "2025.1" and plan.database("nova_api").release == "2025.1"
    assert placement.release == "2023.1" and "--placement-release 2023.1" in (placement.detection or "")
    default = plan_vm_offline(w.INSTANCE, VmOptions(op="soft-delete"), "2025.1").database("placement")
    assert default.release == "2025.1" and placement.schema_fingerprint != default.schema_fingerprint


def test_unknown_placement_release_is_one_line_naming_the_option(capsys):
    from generator.cli import main

    for argv, code, line in (
        (["--placement-release", "nope"], 4, "fixpack: error: --placement-release: unknown release 'nope'; "),
        (["--placement-release", "2023.1", "--op", "rehost", "--to-host", "h", "--to-node", "n"], 2,
         "fixpack: error: --placement-release is for soft-delete and purge"),
    ):  # fmt: skip
        op = [] if "--op" in argv else ["--op", "soft-delete"]
        with pytest.raises(SystemExit) as stopped:
            main(["vm", w.INSTANCE, *op, "--release", "2025.1", *argv, "-o", "/nonexistent/never-written"])
        err = capsys.readouterr().err
        assert stopped.value.code == code and err.startswith(line) and err.count("\n") == 1, err
